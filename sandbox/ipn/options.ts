// The dispatcher's options: what it takes, its defaults, and the check that refuses a bad one at once.

import type { Clock } from "../clock/index.js";
import type { Logger } from "../log/index.js";
import { canonicalIpnHost } from "../secure.js";
import type { Store } from "../store/index.js";
import type { WallClock } from "./deadlines.js";
import { DEFAULT_IPN_HASH_FIELD, assertIpnHashField } from "./encode.js";
import { DEFAULT_MAX_SOCKETS_PER_ORIGIN } from "./node-transport.js";
import type { Transport } from "./transport.js";

/** The docs do not say how long the exchanger waits for an answer; the sandbox waits 10 s unless told otherwise. */
export const DEFAULT_IPN_TIMEOUT_MS = 10_000;
export const MAX_IPN_TIMEOUT_MS = 600_000;
export const DEFAULT_USER_AGENT = "exchanger-sandbox";

export interface DispatcherOptions {
  store: Pick<Store, "addDelivery" | "updateDelivery" | "getDelivery" | "nextDeliveryId" | "subscribe">;
  /**
   * Sandbox time: gives `sentAt` and `dueAt`, and runs the timing faults' holds, so a virtual clock runs them at
   * once. Latency and the IPN timeout are measured on `wallClock`: the merchant's network is real.
   */
  clock: Pick<Clock, "now" | "setTimer">;
  logger: Logger;
  /**
   * What latency and the IPN timeout are measured on (default: the wall clock, performance.now and setTimeout).
   * Tests hand in a manual clock (createClock("manual")) and advance it, to time a delivery out at the moment they
   * choose instead of waiting the timeout out.
   */
  wallClock?: WallClock;
  /** Whole exchange: waiting for a connection, connect, answer and body read (default DEFAULT_IPN_TIMEOUT_MS). */
  timeoutMs?: number;
  /** The checksum's form field (default DEFAULT_IPN_HASH_FIELD). */
  hashField?: string;
  /** Connections per merchant origin for the built-in transport (default 32); ignored with `transport`. */
  maxSocketsPerOrigin?: number;
  /** The User-Agent header, e.g. "exchanger-sandbox/0.1.0" (default "exchanger-sandbox"). */
  userAgent?: string;
  /** Replaces the built-in transport (createNodeTransport); its lifecycle stays with the caller. */
  transport?: Transport;
  /**
   * The only hosts IPNs may go to (`--ipn-allow`): host names or IP addresses, compared with the URL's host after
   * both are normalised. An IPN to any other host is recorded as an error and never sent. Default: any host.
   */
  allowedHosts?: readonly string[];
}

export interface ResolvedOptions {
  timeoutMs: number;
  hashField: string;
  maxSocketsPerOrigin: number;
  userAgent: string;
  /** Canonical host names, or null for any host. */
  allowedHosts: readonly string[] | null;
}

/** The options with their defaults filled in; throws an Error naming the first bad one and what it takes. */
export function resolveOptions(options: DispatcherOptions): ResolvedOptions {
  const fail = (message: string): never => {
    throw new Error(`createDispatcher: ${message}`);
  };
  const needs = (name: string, value: unknown, methods: string[]) => {
    const missing = methods.filter((method) => typeof (value as Record<string, unknown> | null)?.[method] !== "function");
    if (typeof value !== "object" || value === null || missing.length > 0) {
      fail(`${name} must be an object with ${methods.join(", ")}; missing ${missing.join(", ") || name}`);
    }
  };
  needs("store", options.store, ["addDelivery", "updateDelivery", "getDelivery", "nextDeliveryId", "subscribe"]);
  needs("clock", options.clock, ["now", "setTimer"]);
  needs("logger", options.logger, ["log"]);
  if (options.wallClock !== undefined) needs("wallClock", options.wallClock, ["now", "setTimer"]);

  const timeoutMs = options.timeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  const hashField = options.hashField ?? DEFAULT_IPN_HASH_FIELD;
  const maxSocketsPerOrigin = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
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
  let allowedHosts: string[] | null = null;
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) fail(`allowedHosts must be a list of host names; got ${typeof options.allowedHosts}`);
    allowedHosts = options.allowedHosts.map((host) => {
      try {
        return canonicalIpnHost(String(host));
      } catch (error) {
        return fail(`allowedHosts: ${(error as Error).message}`);
      }
    });
  }
  const transport = options.transport as unknown;
  if (transport !== undefined && (typeof transport !== "object" || transport === null || typeof (transport as Transport).send !== "function")) {
    fail(`transport must be an object with send(request) and close(), as createNodeTransport makes; got ${typeof transport}`);
  }
  return { timeoutMs, hashField, maxSocketsPerOrigin, userAgent, allowedHosts };
}
