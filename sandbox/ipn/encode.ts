// The IPN's wire body: form-urlencoded fields in a fixed order, PHP-style bracketed toValues, then the checksum.

import { flat } from "./flat.js";
import type { IpnFields, IpnToValue } from "./types.js";

/** The body's field order. `toValues` expands to `toValues[i][key|name|value]`; the checksum field follows it. */
export const IPN_FIELD_ORDER = [
  "orderUID",
  "orderId",
  "newStatus",
  "inAmount",
  "outAmount",
  "xml_from",
  "xml_to",
  "timestamp",
  "toValues",
] as const satisfies readonly (keyof IpnFields)[];

/** The keys of each `toValues[i]`, in the order they are sent. */
export const IPN_TO_VALUE_KEYS = ["key", "name", "value"] as const satisfies readonly (keyof IpnToValue)[];

/** The IPN's Content-Type, as the docs give it. */
export const IPN_CONTENT_TYPE = "application/x-www-form-urlencoded";

/** The docs do not name the checksum's field; the sandbox calls it `hash` unless configured otherwise. */
export const DEFAULT_IPN_HASH_FIELD = "hash";

type ScalarField = Exclude<(typeof IPN_FIELD_ORDER)[number], "toValues">;
const SCALAR_FIELDS = IPN_FIELD_ORDER.filter((name): name is ScalarField => name !== "toValues");

const HASH_FIELD_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// Body parsers that build objects from form fields (qs, PHP) mishandle these names or refuse them outright.
const OBJECT_RESERVED = new Set(["__proto__", "constructor", "prototype"]);
// Four digits are far more requisites than any route has; a longer index is treated as junk, not allocated.
const TO_VALUE_NAME = /^toValues\[(0|[1-9][0-9]{0,3})\]\[(key|name|value)\]$/;

/** Throws an Error saying what is wrong with a checksum field name, or returns quietly when it is usable. */
export function assertIpnHashField(name: unknown): asserts name is string {
  if (typeof name !== "string" || !HASH_FIELD_PATTERN.test(name)) {
    throw new Error(
      `the IPN hash field name must be 1-64 letters, digits or underscores, not starting with a digit; got ${JSON.stringify(name)}`,
    );
  }
  if ((IPN_FIELD_ORDER as readonly string[]).includes(name)) {
    throw new Error(`the IPN hash field name ${JSON.stringify(name)} is already an IPN field; pick another name`);
  }
  if (OBJECT_RESERVED.has(name)) {
    throw new Error(`the IPN hash field name ${JSON.stringify(name)} is reserved in JavaScript objects; pick another name`);
  }
}

/** The form-urlencoded body; `hash: null` leaves the checksum field out (an unsigned body, for tests). */
export function encodeIpnBody(fields: IpnFields, hashField: string, hash: string | null): string {
  assertIpnHashField(hashField);
  // Built by hand rather than with URLSearchParams, which is slower on the dispatch path (see docs/performance.md);
  // formValue keeps the bytes equal.
  // The names need no encoding but the brackets, which are written already encoded.
  let body = "";
  for (const name of SCALAR_FIELDS) body += `${body === "" ? "" : "&"}${name}=${formValue(fields[name])}`;
  fields.toValues.forEach((toValue, index) => {
    for (const key of IPN_TO_VALUE_KEYS) body += `&toValues%5B${index}%5D%5B${key}%5D=${formValue(toValue[key])}`;
  });
  if (hash !== null) body += `&${hashField}=${formValue(hash)}`;
  return flat(body);
}

/** Characters URLSearchParams leaves as they are, and the space it writes as "+". */
const FORM_PLAIN = /^[A-Za-z0-9*\-._ ]*$/;

/** A value exactly as URLSearchParams serialises it; anything beyond the plain characters is left to it. */
function formValue(value: string): string {
  if (typeof value === "string" && FORM_PLAIN.test(value)) return value.includes(" ") ? value.replaceAll(" ", "+") : value;
  const params = new URLSearchParams();
  params.append("", value);
  return params.toString().slice(1);
}

/**
 * Reads a body `encodeIpnBody` wrote. Strict, because it checks what the sandbox sends: a missing, repeated or
 * unknown field throws an Error naming it.
 */
export function decodeIpnBody(
  body: string,
  hashField: string = DEFAULT_IPN_HASH_FIELD,
): { fields: IpnFields; hash: string | null } {
  assertIpnHashField(hashField);
  const scalars = new Map<string, string>();
  const toValues = new Map<number, Partial<IpnToValue>>();
  let hash: string | null = null;

  for (const [name, value] of new URLSearchParams(body)) {
    const toValueMatch = TO_VALUE_NAME.exec(name);
    if (toValueMatch) {
      const index = Number(toValueMatch[1]);
      const key = toValueMatch[2] as keyof IpnToValue;
      const entry = toValues.get(index) ?? {};
      if (entry[key] !== undefined) throw new Error(`IPN body has the field "${name}" more than once`);
      entry[key] = value;
      toValues.set(index, entry);
    } else if (name === hashField) {
      if (hash !== null) throw new Error(`IPN body has the field "${name}" more than once`);
      hash = value;
    } else if ((SCALAR_FIELDS as readonly string[]).includes(name)) {
      if (scalars.has(name)) throw new Error(`IPN body has the field "${name}" more than once`);
      scalars.set(name, value);
    } else {
      throw new Error(
        `IPN body has an unexpected field "${name}"; expected ${IPN_FIELD_ORDER.join(", ")} and "${hashField}"`,
      );
    }
  }

  const scalar = (name: ScalarField): string => {
    const value = scalars.get(name);
    if (value === undefined) throw new Error(`IPN body is missing the field "${name}"`);
    return value;
  };

  return {
    fields: {
      orderUID: scalar("orderUID"),
      orderId: scalar("orderId"),
      newStatus: scalar("newStatus"),
      inAmount: scalar("inAmount"),
      outAmount: scalar("outAmount"),
      xml_from: scalar("xml_from"),
      xml_to: scalar("xml_to"),
      timestamp: scalar("timestamp"),
      toValues: collectToValues(toValues),
    },
    hash,
  };
}

function collectToValues(entries: Map<number, Partial<IpnToValue>>): IpnToValue[] {
  const result: IpnToValue[] = [];
  for (let index = 0; index < entries.size; index++) {
    const entry = entries.get(index);
    if (!entry) {
      const found = [...entries.keys()].sort((a, b) => a - b).join(", ");
      throw new Error(`IPN body's toValues indexes must run 0, 1, 2… without gaps; found ${found}`);
    }
    for (const key of IPN_TO_VALUE_KEYS) {
      if (entry[key] === undefined) throw new Error(`IPN body is missing the field "toValues[${index}][${key}]"`);
    }
    result.push(entry as IpnToValue);
  }
  return result;
}
