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

const SECRET_QUERY_PARAMS = /([?&](?:orderSecret|ipnSecret|secret|apikey|hash)=)([^&#\s]+)/gi;
const SECRET_PATH = /(\/(?:payment|order)\/\d+\/)([A-Za-z0-9]+)/g;

/** Masks the secrets a URL or path may carry (order secrets in page paths, secret query parameters). */
export function maskUrlSecrets(url: string): string {
  return url
    .replace(SECRET_QUERY_PARAMS, (_m, prefix: string, value: string) => prefix + maskSecret(value))
    .replace(SECRET_PATH, (_m, prefix: string, value: string) => prefix + maskSecret(value));
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? "pretty";
  if (!LOG_FORMATS.includes(format)) {
    throw new Error(`unknown log format ${JSON.stringify(format)}; expected one of: ${LOG_FORMATS.join(", ")}`);
  }
  if (options.quiet) return { log() {} };
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
