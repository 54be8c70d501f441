// The engine's optional request authorization: `apikey` and `hash` headers over the request's parameters.

import { createHash } from "node:crypto";
import { ApiError } from "../errors.js";
import { safeEqual } from "../secure.js";
import type { Params } from "./params.js";

export interface ApiCredentials {
  apiKey: string;
  apiSecret: string;
}

/** The test key pair every sandbox accepts unless told otherwise (printed at start, shown in the README's quick start). */
export const TEST_CREDENTIALS: ApiCredentials = {
  apiKey: "sandbox-test-key",
  apiSecret: "sandbox-test-secret",
};

/** How far a request's `time` may be from the sandbox clock. */
export const AUTH_TIME_WINDOW_MS = 5 * 60_000;

const sha256hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** The `hash` header a client sends: sha256hex(sha256hex(JSON.stringify(params)) + apiSecret). */
export function requestHash(paramsJson: string, apiSecret: string): string {
  return sha256hex(sha256hex(paramsJson) + apiSecret);
}

export interface AuthInput {
  apikey: string | undefined;
  hash: string | undefined;
  params: Params;
  /** The body exactly as sent, when there was one: the hash may be over it rather than a re-serialisation. */
  rawBody: string | null;
  now: number;
}

/**
 * Returns the merchant's API key when the request carries a valid authorization, null for a public request
 * (no `apikey` header), and throws `unauthorized` for a bad key, hash or time.
 */
export function authenticate(input: AuthInput, credentials: readonly ApiCredentials[]): string | null {
  const { apikey, hash, params } = input;
  if (apikey === undefined || apikey === "") {
    if (hash !== undefined && hash !== "") {
      throw new ApiError("unauthorized", "A hash header was sent without an apikey header; send both, or neither for a public request");
    }
    return null;
  }
  const account = credentials.find((c) => safeEqual(apikey, c.apiKey));
  if (!account) throw new ApiError("unauthorized", "Unknown apikey; the sandbox's test key is printed when it starts", { header: "apikey" });
  if (hash === undefined || hash === "") {
    throw new ApiError("unauthorized", "The apikey header needs a hash header: sha256hex(sha256hex(JSON.stringify(params)) + apiSecret)", { header: "hash" });
  }
  const time = Number(params.time);
  if (params.time === undefined || params.time === "" || !Number.isFinite(time)) {
    throw new ApiError("unauthorized", "An authorized request needs a time parameter: the current Unix time in milliseconds", { param: "time" });
  }
  if (Math.abs(time - input.now) > AUTH_TIME_WINDOW_MS) {
    throw new ApiError("unauthorized", `The time parameter ${params.time} is more than ${AUTH_TIME_WINDOW_MS / 60_000} minutes from the server's time ${input.now}`, { param: "time" });
  }
  const candidates = [JSON.stringify(params)];
  if (input.rawBody !== null && input.rawBody !== candidates[0]) candidates.push(input.rawBody);
  const given = hash.toLowerCase();
  const valid = candidates.some((json) => safeEqual(given, requestHash(json, account.apiSecret)));
  if (!valid) {
    throw new ApiError("unauthorized", "The hash header does not match: expected sha256hex(sha256hex(JSON.stringify(params)) + apiSecret) over the parameters as sent", { header: "hash" });
  }
  return account.apiKey;
}
