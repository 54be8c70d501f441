// One concise log line per API call and per IPN delivery, as text for people or JSON lines for machines.

export const LOG_FORMATS = ["pretty", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogEvent =
  | {
      type: "api";
      method: string;
      path: string;
      /** The envelope's outcome: "ok", or the error's message. */
      outcome: string;
      httpStatus: number;
      latencyMs: number;
      requestId?: string;
      uid?: number;
    }
  | {
      type: "ipn";
      deliveryId: string;
      orderUID: number | null;
      status: string;
      url: string;
      fault: string;
      outcome: string;
      responseStatus: number | null;
      latencyMs: number | null;
      error: string | null;
    }
  | { type: "info"; message: string };

export interface Logger {
  log(event: LogEvent): void;
  /** True when `log` writes nothing, so that a caller may skip building the event. */
  readonly quiet?: boolean;
}

export interface LoggerOptions {
  format?: LogFormat;
  quiet?: boolean;
  write?: (line: string) => void;
  now?: () => number;
}

/** Masks a secret for display: its first and last two characters, the rest as bullets. */
export function maskSecret(value: string): string {
  if (value.length <= 6) return "•".repeat(value.length);
  return `${value.slice(0, 2)}${"•".repeat(Math.min(value.length - 4, 8))}${value.slice(-2)}`;
}

/** Query parameters whose values are secrets, compared case-insensitively and without any `[...]` suffix. */
const SECRET_PARAMS = new Set(["ordersecret", "ipnsecret", "secret", "apikey", "apisecret", "hash", "token"]);
/** A page path: /{lang}/payment|order/{uid}/{secret}. */
const SECRET_PATH = /(\/(?:payment|order)\/\d+\/)([^/?#\s]+)/g;
/** The password of a URL's user part: http://user:password@host/. */
const URL_PASSWORD = /(\/\/[^/?#@\s:]*:)([^/?#@\s]+)@/;

/**
 * Masks the secrets a URL or path may carry: order secrets in page paths, secret query parameters (however their
 * names are percent-encoded or bracketed, since the API decodes them that way too) and a password in the user part.
 */
export function maskUrlSecrets(url: string): string {
  let out = url.replace(URL_PASSWORD, (_m, prefix: string, password: string) => `${prefix}${maskSecret(password)}@`);
  const queryAt = out.indexOf("?");
  if (queryAt !== -1) {
    const hashAt = out.indexOf("#", queryAt);
    const end = hashAt === -1 ? out.length : hashAt;
    const query = out
      .slice(queryAt + 1, end)
      .split("&")
      .map((pair) => {
        const eq = pair.indexOf("=");
        if (eq === -1) return pair;
        return isSecretName(decodeFormText(pair.slice(0, eq))) ? `${pair.slice(0, eq + 1)}${maskSecret(decodeFormText(pair.slice(eq + 1)))}` : pair;
      })
      .join("&");
    out = out.slice(0, queryAt + 1) + query + out.slice(end);
  }
  return out.replace(SECRET_PATH, (_m, prefix: string, value: string) => prefix + maskSecret(value));
}

/**
 * True when a parameter name, or any part of a bracketed one (`x[orderSecret]`, `a[0][apiSecret]`), names a secret:
 * a decoder reads the secret under another name just as well.
 */
function isSecretName(name: string): boolean {
  return name.split(/[[\]]/).some((part) => SECRET_PARAMS.has(part.trim().toLowerCase()));
}

/** Decodes a query string's name or value as a form parser does; a broken escape is kept as it is. */
function decodeFormText(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "pretty";
  if (!LOG_FORMATS.includes(format)) {
    throw new Error(`unknown log format ${JSON.stringify(format)}; expected one of: ${LOG_FORMATS.join(", ")}`);
  }
  if (options.quiet) return { quiet: true, log() {} };
  const write = options.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const now = options.now ?? Date.now;
  return {
    log(event) {
      const masked = maskEvent(event);
      write(format === "json" ? JSON.stringify({ time: new Date(now()).toISOString(), ...masked }) : pretty(masked));
    },
  };
}

function maskEvent(event: LogEvent): LogEvent {
  switch (event.type) {
    case "api":
      return { ...event, path: maskUrlSecrets(event.path) };
    case "ipn":
      return { ...event, url: maskUrlSecrets(event.url) };
    case "info":
      return event;
  }
}

function pretty(event: LogEvent): string {
  switch (event.type) {
    case "api": {
      const uid = event.uid === undefined ? "" : ` uid=${event.uid}`;
      return `api  ${event.method} ${event.path} ${event.httpStatus} ${event.outcome} ${event.latencyMs}ms${uid}`;
    }
    case "ipn": {
      const answer =
        event.responseStatus !== null ? `${event.responseStatus}` : event.error ? `(${event.error})` : "";
      const latency = event.latencyMs === null ? "" : ` ${event.latencyMs}ms`;
      const fault = event.fault === "deliver" ? "" : ` fault=${event.fault}`;
      const order = event.orderUID === null ? "test" : `uid=${event.orderUID}`;
      return `ipn  ${event.deliveryId} ${order} ${event.status} → ${event.url} ${event.outcome} ${answer}${latency}${fault}`.trimEnd();
    }
    case "info":
      return event.message;
  }
}
