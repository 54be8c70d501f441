// The IPN checksum: sha256 over the documented fields and the merchant's ipnSecret, and its constant-time check.

import * as crypto from "node:crypto";
import { createHash, timingSafeEqual } from "node:crypto";
import { maskSecret } from "../log/index.js";
import { flat } from "./flat.js";
import type { IpnFields } from "./types.js";

/** The fields the checksum covers, in the order the docs hash them; the secret comes last. */
export const IPN_HASH_FIELDS_ORDER = [
  "orderId",
  "newStatus",
  "inAmount",
  "outAmount",
  "xml_from",
  "xml_to",
  "timestamp",
] as const satisfies readonly (keyof IpnFields)[];

export type IpnHashField = (typeof IPN_HASH_FIELDS_ORDER)[number];

/** The fields signing needs: a whole `IpnFields` will do. */
export type IpnHashInput = Pick<IpnFields, IpnHashField>;

export interface IpnSignature {
  /** sha256 of the hashed string, lower-case hex. */
  hash: string;
  /** The hashed string with the secret masked, so a merchant can compare it with the string they build. */
  hashedString: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The exact string the docs hash: `orderId:newStatus:…:timestamp:ipnSecret`. It contains the secret: never log it. */
export function ipnHashString(fields: IpnHashInput, secret: string): string {
  return joinWith(fields, secret);
}

export function signIpn(fields: IpnHashInput, secret: string): IpnSignature {
  return {
    hash: sha256Hex(ipnHashString(fields, secret)),
    hashedString: flat(joinWith(fields, maskSecret(secret))),
  };
}

/**
 * True when `hash` is the checksum of `fields` under `secret`. Only the form the exchanger sends (64 lower-case hex
 * digits) is accepted, so a merchant whose code upper-cases the digest learns it here rather than in production.
 */
export function verifyIpnHash(fields: IpnHashInput, secret: string, hash: string): boolean {
  if (typeof hash !== "string" || !SHA256_HEX.test(hash)) return false;
  const expected = createHash("sha256").update(ipnHashString(fields, secret), "utf8").digest();
  const received = Buffer.from(hash, "hex");
  // Equal lengths are guaranteed by the pattern above; the check keeps timingSafeEqual from ever throwing.
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function joinWith(fields: IpnHashInput, last: string): string {
  // Every IPN is signed on the dispatch path, so this skips the array that a map-and-join would build.
  let text = "";
  for (const name of IPN_HASH_FIELDS_ORDER) text += `${fields[name] ?? ""}:`;
  return text + last;
}

// crypto.hash (Node 20.12+) hashes in one call without a Hash object; older Node 20 releases fall back.
const oneShotHash: ((algorithm: string, data: string, encoding: "hex") => string) | undefined =
  typeof crypto.hash === "function" ? crypto.hash : undefined;

function sha256Hex(text: string): string {
  return oneShotHash ? oneShotHash("sha256", text, "hex") : createHash("sha256").update(text, "utf8").digest("hex");
}
