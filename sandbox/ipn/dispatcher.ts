// Sends IPNs to merchants once, in the background, and records every delivery (or deliberate non-delivery) in the store.

import http from "node:http";
import https from "node:https";
import type { Clock } from "../clock/index.js";
import type { Logger } from "../log/index.js";
import type { Store } from "../store/index.js";
import { DEFAULT_IPN_HASH_FIELD, assertIpnHashField, encodeIpnBody } from "./encode.js";
import { signIpn } from "./sign.js";
import { FAULTS } from "./types.js";
import type { DeliveryOutcome, DeliveryRecord, Fault, IpnFields } from "./types.js";

export const DEFAULT_IPN_TIMEOUT_MS = 10_000;
export const MAX_IPN_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 32;
export const DEFAULT_USER_AGENT = "exchanger-sandbox";
/** How much of the merchant's answer a delivery record keeps. */
export const IPN_BODY_EXCERPT_CHARS = 2048;
/**
 * How much of the merchant's answer is read. Answers up to this size are read to the end so the socket can go back
 * to the keep-alive pool; a larger one is cut here and its socket destroyed rather than drained.
 */
export const IPN_BODY_READ_LIMIT_BYTES = 64 * 1024;

export interface TransportRequest {
  /** Always http: or https:; the dispatcher has checked. */
  url: URL;
  body: string;
  headers: Record<string, string>;
  /** For information: the dispatcher enforces it by aborting `signal`. */
  timeoutMs: number;
  /** Aborted on timeout or shutdown; a transport must then stop and release its connection. */
  signal: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** At most IPN_BODY_EXCERPT_CHARS characters of the answer's body. */
  bodyExcerpt: string;
}

/** Sends one POST and reports the answer; rejects on a network failure. Never follows redirects. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

export interface NodeTransport {
  send: Transport;
  /** Destroys every pooled socket. */
  destroy(): void;
}

export interface DispatcherOptions {
  store: Pick<Store, "addDelivery" | "updateDelivery" | "getDelivery" | "nextDeliveryId" | "subscribe">;
  /** Gives `sentAt` (sandbox time); latency is measured on wall time. */
  clock: Pick<Clock, "now">;
  logger: Logger;
  /** Whole exchange: connect, answer and body read (default 10 000, at most 600 000). */
  timeoutMs?: number;
  /** The checksum's form field (default "hash"). */
  hashField?: string;
  /** Concurrent connections per merchant origin for the built-in transport (default 32); ignored with `transport`. */
  maxSocketsPerOrigin?: number;
  /** The User-Agent header, e.g. "exchanger-sandbox/0.1.0" (default "exchanger-sandbox"). */
  userAgent?: string;
  /** Replaces the built-in node:http/node:https transport; its lifecycle stays with the caller. */
  transport?: Transport;
}

export interface DispatchRequest {
  /** null for a test IPN that belongs to no order. */
  orderUID: number | null;
  url: string;
  secret: string;
  fields: IpnFields;
  /** Default "deliver". */
  fault?: Fault;
}

export interface Dispatcher {
  /** Records the IPN at once and sends it in the background; returns the record as first stored. Never throws on a bad URL. */
  dispatch(request: DispatchRequest): DeliveryRecord;
  /** Sends a recorded IPN's exact body again as a new record (a sandbox convenience); undefined for an unknown id. */
  resend(id: string): DeliveryRecord | undefined;
  /** Resolves once no delivery is in flight. */
  idle(): Promise<void>;
  /** Aborts in-flight deliveries (recorded as errors), closes pooled sockets; later IPNs are recorded, not sent. */
  close(): Promise<void>;
}

interface InFlight {
  controller: AbortController;
  done: Promise<void>;
  /** Set when the store was reset under it: its record is gone and its id may already name a new delivery. */
  orphaned: boolean;
}

class DeliveryStopped extends Error {
  constructor(readonly why: "timeout" | "shutdown") {
    super(why === "timeout" ? "IPN timed out" : "sandbox shut down");
  }
}

const SHUT_DOWN = "sandbox shut down";

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, clock, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  const hashField = options.hashField ?? DEFAULT_IPN_HASH_FIELD;
  const maxSocketsPerOrigin = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  validateOptions(options, { timeoutMs, hashField, maxSocketsPerOrigin, userAgent });

  const ownTransport = options.transport ? null : createNodeTransport({ maxSocketsPerOrigin });
  const transport = options.transport ?? ownTransport!.send;
  const inFlight = new Map<string, InFlight>();
  let closed = false;

  const unsubscribe = store.subscribe((change) => {
    if (change.kind !== "reset") return;
    for (const flight of inFlight.values()) flight.orphaned = true;
  });

  const logDelivery = (record: DeliveryRecord) => {
    logger.log({
      type: "ipn",
      deliveryId: record.id,
      orderUID: record.orderUID,
      status: record.status,
      url: record.url,
      fault: record.fault,
      outcome: record.outcome,
      responseStatus: record.response?.status ?? null,
      latencyMs: record.latencyMs,
      error: record.error,
    });
  };

  /** Stores the record and, unless it is dropped or cannot be sent, starts sending it. */
  const launch = (record: DeliveryRecord): DeliveryRecord => {
    if (record.fault === "drop") {
      const dropped: DeliveryRecord = { ...record, outcome: "dropped" };
      store.addDelivery(dropped);
      logDelivery(dropped);
      return dropped;
    }
    const target = closed ? { error: SHUT_DOWN } : parseIpnUrl(record.url);
    if ("error" in target) {
      const failed: DeliveryRecord = { ...record, outcome: "error", error: target.error };
      store.addDelivery(failed);
      logDelivery(failed);
      return failed;
    }
    store.addDelivery(record);
    send(record, target.url);
    return record;
  };

  const send = (record: DeliveryRecord, url: URL) => {
    const controller = new AbortController();
    const flight: InFlight = { controller, done: Promise.resolve(), orphaned: false };
    const started = performance.now();
    const timer = setTimeout(() => controller.abort(new DeliveryStopped("timeout")), timeoutMs);

    // Settles on abort even when an injected transport ignores the signal, so a delivery can never hang.
    const stopped = new Promise<never>((_resolve, reject) => {
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true });
    });
    const attempt = (async () =>
      transport({
        url,
        body: record.body,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          "Content-Length": String(Buffer.byteLength(record.body)),
          "User-Agent": userAgent,
        },
        timeoutMs,
        signal: controller.signal,
      }))();
    // The loser of the race below must not surface as an unhandled rejection.
    stopped.catch(() => {});
    attempt.catch(() => {});

    const finish = (patch: Pick<DeliveryRecord, "outcome" | "response" | "error">) => {
      const finished: DeliveryRecord = { ...record, ...patch, latencyMs: Math.round(performance.now() - started) };
      if (!flight.orphaned) store.updateDelivery(record.id, finished);
      logDelivery(finished);
    };

    flight.done = Promise.race([attempt, stopped])
      .then(
        (response) =>
          finish({ outcome: outcomeOf(response.status), response: clampResponse(response), error: null }),
        (error: unknown) => {
          const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
          if (reason instanceof DeliveryStopped) {
            finish({
              outcome: reason.why === "timeout" ? "timeout" : "error",
              response: null,
              error: reason.why === "timeout" ? `no answer within ${timeoutMs} ms` : SHUT_DOWN,
            });
          } else {
            finish({ outcome: "error", response: null, error: describeNetworkError(reason) });
          }
        },
      )
      .catch((error: unknown) => {
        // A store listener or the logger threw; the delivery itself is over, so report it and carry on.
        try {
          logger.log({ type: "info", message: `ipn ${record.id}: could not record the delivery: ${String(error)}` });
        } catch {
          // Nothing left to tell.
        }
      })
      .finally(() => {
        clearTimeout(timer);
        inFlight.delete(record.id);
      });
    inFlight.set(record.id, flight);
  };

  const idle = async () => {
    while (inFlight.size > 0) await Promise.all([...inFlight.values()].map((flight) => flight.done));
  };

  return {
    dispatch(request) {
      const fault = request.fault ?? "deliver";
      assertFault(fault);
      const { hash, hashedString } = signIpn(request.fields, request.secret);
      return launch({
        id: store.nextDeliveryId(),
        orderUID: request.orderUID,
        status: request.fields.newStatus,
        url: request.url,
        body: encodeIpnBody(request.fields, hashField, hash),
        fields: copyFields(request.fields),
        hashField,
        hash,
        hashedString,
        fault,
        outcome: "pending",
        sentAt: clock.now(),
        response: null,
        latencyMs: null,
        error: null,
        resendOf: null,
      });
    },

    resend(id) {
      const original = store.getDelivery(id);
      if (!original) return undefined;
      return launch({
        ...original,
        id: store.nextDeliveryId(),
        fields: copyFields(original.fields),
        fault: "deliver",
        outcome: "pending",
        sentAt: clock.now(),
        response: null,
        latencyMs: null,
        error: null,
        resendOf: id,
      });
    },

    idle,

    async close() {
      closed = true;
      for (const flight of inFlight.values()) flight.controller.abort(new DeliveryStopped("shutdown"));
      await idle();
      unsubscribe();
      ownTransport?.destroy();
    },
  };
}

/**
 * The built-in transport: node:http/node:https with one keep-alive agent per protocol. `maxSockets` is counted per
 * origin, so it bounds concurrency towards one merchant while a slow merchant cannot hold up the others' IPNs.
 */
export function createNodeTransport(options: { maxSocketsPerOrigin?: number } = {}): NodeTransport {
  const maxSockets = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets }),
    "https:": new https.Agent({ keepAlive: true, maxSockets }),
  };

  const send: Transport = ({ url, body, headers, signal }) =>
    new Promise<TransportResponse>((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      const isHttps = url.protocol === "https:";
      const request = (isHttps ? https : http).request(url, {
        method: "POST",
        headers,
        agent: isHttps ? agents["https:"] : agents["http:"],
      });
      let settled = false;
      const settle = () => {
        if (settled) return false;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        return true;
      };
      const fail = (error: unknown) => {
        if (!settle()) return;
        request.destroy();
        reject(error);
      };
      const onAbort = () => fail(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });

      request.on("error", fail);
      request.on("response", (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = (complete: boolean) => {
          if (!settle()) return;
          if (!complete) {
            response.destroy();
            request.destroy();
          }
          resolve({ status: response.statusCode ?? 0, bodyExcerpt: excerptOf(Buffer.concat(chunks)) });
        };
        response.on("data", (chunk: Buffer) => {
          const room = IPN_BODY_READ_LIMIT_BYTES - size;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            size += room;
            done(false);
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        response.on("end", () => done(true));
        response.on("error", fail);
        response.on("close", () => fail(new IncompleteAnswer()));
      });
      request.end(body);
    });

  return {
    send,
    destroy() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

class IncompleteAnswer extends Error {
  readonly code = "INCOMPLETE_ANSWER";
  constructor() {
    super("the connection closed before the answer was complete");
  }
}

function outcomeOf(status: number): DeliveryOutcome {
  return status >= 200 && status <= 299 ? "accepted" : "rejected";
}

/** Holds an injected transport to the same limit as the built-in one. */
function clampResponse(response: TransportResponse): TransportResponse {
  return { status: response.status, bodyExcerpt: cutExcerpt(String(response.bodyExcerpt ?? "")) };
}

function excerptOf(bytes: Buffer): string {
  // Four bytes per character at most, so this many bytes always yield the excerpt when the body is that long.
  return cutExcerpt(new TextDecoder("utf-8").decode(bytes.subarray(0, IPN_BODY_EXCERPT_CHARS * 4)));
}

function cutExcerpt(text: string): string {
  if (text.length <= IPN_BODY_EXCERPT_CHARS) return text;
  const cut = text.slice(0, IPN_BODY_EXCERPT_CHARS);
  // Do not leave half of a surrogate pair at the end.
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

function parseIpnUrl(raw: string): { url: URL } | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: "invalid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: "only http and https IPN URLs are allowed" };
  }
  return { url };
}

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
  INCOMPLETE_ANSWER: "the connection closed before the answer was complete",
};

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
  if (code === "INCOMPLETE_ANSWER") return NETWORK_ERRORS[code]!;
  if (code !== undefined && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${code}${where})`;
  if (code !== undefined && TLS_ERRORS.has(code)) return `TLS certificate rejected (${code})`;
  if (code !== undefined && code.startsWith("HPE_")) return `invalid HTTP answer (${code})`;
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "request failed";
  return truncate(code !== undefined && !message.includes(code) ? `${message} (${code})` : message);
}

function truncate(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}

function assertFault(fault: unknown): asserts fault is Fault {
  if (!(FAULTS as readonly unknown[]).includes(fault)) {
    throw new Error(`unknown IPN fault ${JSON.stringify(fault)}; expected one of: ${FAULTS.join(", ")}`);
  }
}

function copyFields(fields: IpnFields): IpnFields {
  return { ...fields, toValues: fields.toValues.map((toValue) => ({ ...toValue })) };
}

function validateOptions(
  options: DispatcherOptions,
  resolved: { timeoutMs: number; hashField: string; maxSocketsPerOrigin: number; userAgent: string },
): void {
  const fail = (message: string): never => {
    throw new Error(`createDispatcher: ${message}`);
  };
  const needs = (name: string, value: unknown, methods: string[]) => {
    const missing = methods.filter(
      (method) => typeof (value as Record<string, unknown> | null)?.[method] !== "function",
    );
    if (typeof value !== "object" || value === null || missing.length > 0) {
      fail(`${name} must be an object with ${methods.join(", ")}; missing ${missing.join(", ") || name}`);
    }
  };
  needs("store", options.store, ["addDelivery", "updateDelivery", "getDelivery", "nextDeliveryId", "subscribe"]);
  needs("clock", options.clock, ["now"]);
  needs("logger", options.logger, ["log"]);

  const { timeoutMs, hashField, maxSocketsPerOrigin, userAgent } = resolved;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_IPN_TIMEOUT_MS) {
    fail(`timeoutMs must be a positive integer of milliseconds up to ${MAX_IPN_TIMEOUT_MS}; got ${String(timeoutMs)}`);
  }
  try {
    assertIpnHashField(hashField);
  } catch (error) {
    fail(`hashField: ${(error as Error).message}`);
  }
  if (!Number.isSafeInteger(maxSocketsPerOrigin) || maxSocketsPerOrigin <= 0 || maxSocketsPerOrigin > 1024) {
    fail(`maxSocketsPerOrigin must be a positive integer up to 1024; got ${String(maxSocketsPerOrigin)}`);
  }
  if (typeof userAgent !== "string" || !/^[\x20-\x7e]{1,200}$/.test(userAgent)) {
    fail(`userAgent must be 1-200 printable ASCII characters; got ${JSON.stringify(userAgent)}`);
  }
  if (options.transport !== undefined && typeof options.transport !== "function") {
    fail(`transport must be a function (request) => Promise<{ status, bodyExcerpt }>; got ${typeof options.transport}`);
  }
}
