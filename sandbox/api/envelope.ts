// The engine's response envelope: success and failure bodies, always with latency_ms and a requestId.

import { randomBytes } from "node:crypto";
import { ApiError } from "../errors.js";

/** A request id's random suffix: what it is drawn from and how long it is. */
export const REQUEST_ID_SUFFIX = { alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", length: 7 } as const;
const ALNUM = REQUEST_ID_SUFFIX.alphabet;
const SUFFIX_LENGTH = REQUEST_ID_SUFFIX.length;
// Random bytes for request ids, drawn from the CSPRNG a few thousand at a time: a call per request cost more than the
// rest of the envelope.
const POOL_BYTES = SUFFIX_LENGTH * 1024;
let pool = Buffer.alloc(0);
let poolAt = 0;

/** "<ms>-<7 alnum>", as the engine's request ids look. */
export function newRequestId(nowMs: number): string {
  if (poolAt + SUFFIX_LENGTH > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  let suffix = "";
  for (let i = 0; i < SUFFIX_LENGTH; i++) suffix += ALNUM[pool[poolAt++]! % ALNUM.length];
  return `${nowMs}-${suffix}`;
}

export interface EnvelopeMeta {
  latencyMs: number;
  requestId: string;
}

export function successBody(data: unknown, meta: EnvelopeMeta) {
  return { success: true as const, data, latency_ms: meta.latencyMs, requestId: meta.requestId };
}

/** Data that is already JSON text, so that a cached serialisation is sent as it is. */
export class JsonText {
  constructor(readonly text: string) {}
}

/** `JSON.stringify(successBody(data, meta))`, byte for byte, with `data` given as JSON text. */
export function successJson(dataJson: string, meta: EnvelopeMeta): string {
  return `{"success":true,"data":${dataJson},"latency_ms":${JSON.stringify(meta.latencyMs)},"requestId":${JSON.stringify(meta.requestId)}}`;
}

export function failureBody(error: ApiError, meta: EnvelopeMeta) {
  return {
    success: false as const,
    error: {
      apiError: true,
      message: error.message,
      errorType: "api",
      object: error.object,
      level: 0,
      errorCode: error.errorCode,
      ...(error.hint === null ? {} : { sandboxHint: error.hint }),
    },
    latency_ms: meta.latencyMs,
    requestId: meta.requestId,
  };
}
