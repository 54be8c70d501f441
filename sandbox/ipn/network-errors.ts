// What a failed delivery's record says: a short line for a network, TLS or HTTP failure, e.g. "connection refused
// (ECONNREFUSED 127.0.0.1:9)".

const INCOMPLETE = "the connection closed before the answer was complete";

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNABORTED: "connection aborted",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
};

/** undici's code for a connection the merchant closed before its answer was complete. */
const INCOMPLETE_CODES = new Set(["UND_ERR_SOCKET"]);

const TLS_ERRORS = new Set([
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

interface NodeNetworkError {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** A short message for a failed delivery, e.g. "connection refused (ECONNREFUSED 127.0.0.1:9)". */
export function describeNetworkError(error: unknown): string {
  if (typeof error !== "object" || error === null) return truncate(String(error));
  const e = error as NodeNetworkError;
  // Happy-eyeballs connects fail with an AggregateError whose members carry the addresses tried.
  const first = Array.isArray(e.errors) && typeof e.errors[0] === "object" ? (e.errors[0] as NodeNetworkError) : e;
  const code = typeof e.code === "string" ? e.code : typeof first.code === "string" ? first.code : undefined;
  const address = first.address ?? e.address;
  const port = first.port ?? e.port;
  const hostname = e.hostname ?? first.hostname;
  const where =
    typeof address === "string"
      ? ` ${address.includes(":") && port !== undefined ? `[${address}]` : address}${port === undefined ? "" : `:${String(port)}`}`
      : typeof hostname === "string"
        ? ` ${hostname}`
        : "";
  if (code !== undefined && INCOMPLETE_CODES.has(code)) return INCOMPLETE;
  if (code !== undefined && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${code}${where})`;
  if (code !== undefined && TLS_ERRORS.has(code)) return `TLS certificate rejected (${code})`;
  if (code !== undefined && code.startsWith("HPE_")) return `invalid HTTP answer (${code})`;
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "request failed";
  return truncate(code !== undefined && !message.includes(code) ? `${message} (${code})` : message);
}

function truncate(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}
