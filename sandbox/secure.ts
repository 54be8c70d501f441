// Security helpers shared by every part: constant-time secret comparison, loopback detection, the IPN host allowlist.

import * as crypto from "node:crypto";
import { isIP } from "node:net";

/**
 * True when `given` equals `expected`, in time that depends on neither's content. Only the length of `expected` can
 * show: a `given` of another length is compared with `expected` itself, so it costs the same as a wrong guess of the
 * right length. Every secret the sandbox issues has a fixed, documented length, so that tells an attacker nothing.
 * (Hashing both sides first, which hides that length too, was a fifth of an order/get's time.)
 */
export function safeEqual(given: string, expected: string): boolean {
  const want = Buffer.from(expected);
  const got = Buffer.from(given);
  if (got.length !== want.length) {
    crypto.timingSafeEqual(want, want);
    return false;
  }
  return crypto.timingSafeEqual(got, want);
}

/**
 * True for a bind address only this machine can reach: 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`.
 * Anything else, including 0.0.0.0, :: and every other host name, counts as exposed.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  if (isIP(h) === 6) {
    if (h === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(h)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && isLoopbackHost(mapped[1]!);
  }
  return isIP(h) === 4 && h.startsWith("127.");
}

/**
 * The canonical form of one `--ipn-allow` entry: a host name or IP address, lower-cased and normalised the way a URL
 * parser does (`127.1` → `127.0.0.1`, `::1` → `[::1]`), without a trailing dot. Throws for an entry that is not a
 * bare host: a scheme, port, path or user part would make the comparison with an IPN URL's host meaningless.
 */
export function canonicalIpnHost(entry: string): string {
  const text = entry.trim();
  const bare = isIP(text) === 6 ? `[${text}]` : text;
  const fail = (): never => {
    throw new Error(`expected a host name or IP address such as shop.example or 10.0.0.5 (no scheme, port or path), got ${JSON.stringify(entry)}`);
  };
  if (bare === "" || /[\s/@?#\\]/.test(bare) || (/:/.test(bare) && !bare.startsWith("["))) fail();
  let url: URL;
  try {
    url = new URL(`http://${bare}/`);
  } catch {
    return fail();
  }
  if (url.port !== "" || url.username !== "" || url.hostname === "") fail();
  return url.hostname.replace(/\.$/, "");
}

/** The host of an IPN URL in the form canonicalIpnHost gives, so the two compare as strings. */
export function ipnUrlHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/\.$/, "");
}

/** True when `url` may receive IPNs: always without an allowlist, else only when its host is listed. */
export function isIpnHostAllowed(url: URL, allowed: readonly string[] | null): boolean {
  return allowed === null || allowed.includes(ipnUrlHost(url));
}

/** Why an IPN to `url` is refused under an allowlist; the dispatcher records it and order/create answers it. */
export function ipnHostRefusal(url: URL): string {
  return `IPN host ${ipnUrlHost(url)} is not in --ipn-allow`;
}
