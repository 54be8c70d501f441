// Judges a received IPN on its own: strict form decoding and the docs' checksum, with no code shared with the signer.

import { createHash, timingSafeEqual } from "node:crypto";

/**
 * The fields the docs' checksum covers, in its order. Written out here again on purpose rather than imported from the
 * signer: the inbox is a second opinion, and a mistake in the signer's list must show as a refused IPN here.
 */
const CHECKSUM_FIELDS = ["orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"] as const;

/** The form's pairs, or why the body is not valid form encoding. */
export type DecodedForm = { ok: true; fields: Map<string, string[]> } | { ok: false; reason: string };

/** Decodes `application/x-www-form-urlencoded` strictly: a broken percent escape or a nameless field is refused. */
export function decodeFormStrictly(body: string): DecodedForm {
  const fields = new Map<string, string[]>();
  if (body === "") return { ok: false, reason: "the body is empty" };
  for (const [index, pair] of body.split("&").entries()) {
    const eq = pair.indexOf("=");
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    const rawValue = eq === -1 ? "" : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " "));
      value = decodeURIComponent(rawValue.replace(/\+/g, " "));
    } catch {
      return { ok: false, reason: `field ${index + 1} (${JSON.stringify(pair.slice(0, 40))}) has a broken percent escape` };
    }
    if (name === "") return { ok: false, reason: `field ${index + 1} has no name` };
    fields.set(name, [...(fields.get(name) ?? []), value]);
  }
  return { ok: true, fields };
}

/** The docs' checksum of the received fields: sha256 of `orderId:newStatus:…:timestamp:ipnSecret`, lower-case hex. */
export function docsChecksum(field: (name: string) => string, ipnSecret: string): string {
  const text = [...CHECKSUM_FIELDS.map(field), ipnSecret].join(":");
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Whether `given` is the checksum, compared in constant time. */
export function checksumMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The checksum's fields that a form lacks or repeats, in the docs' order. */
export function checksumFieldProblems(fields: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const name of CHECKSUM_FIELDS) {
    const count = fields.get(name)?.length ?? 0;
    if (count === 0) problems.push(`no ${name}`);
    else if (count > 1) problems.push(`${name} given ${count} times`);
  }
  return problems;
}
