// The engine's response envelope: success and failure bodies, always with latency_ms and a requestId.

import { randomBytes } from "node:crypto";
import { ApiError } from "../errors.js";

const ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** "<ms>-<7 alnum>", as the engine's request ids look. */
export function newRequestId(nowMs: number): string {
  const bytes = randomBytes(7);
  let suffix = "";
  for (const byte of bytes) suffix += ALNUM[byte % ALNUM.length];
  return `${nowMs}-${suffix}`;
}

export interface EnvelopeMeta {
  latencyMs: number;
  requestId: string;
}

export function successBody(data: unknown, meta: EnvelopeMeta) {
  return { success: true as const, data, latency_ms: meta.latencyMs, requestId: meta.requestId };
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
    },
    latency_ms: meta.latencyMs,
    requestId: meta.requestId,
  };
}
