// Constant-time comparison of secrets, so response timing does not reveal how much of a guess was right.

import { createHash, timingSafeEqual } from "node:crypto";

/** True when `given` equals `expected`, in time that depends on neither's content. */
export function safeEqual(given: string, expected: string): boolean {
  // Hashing first gives equal-length buffers, so the length of the secret does not leak either.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}
