// Why a merchant's IPN hash does not match: recomputes the checksum, then replays the common mistakes until one
// reproduces the merchant's hash, and says which.

import { createHash, createHmac } from "node:crypto";
import { DEFAULT_IPN_HASH_FIELD } from "./encode.js";
import { IPN_HASH_FIELDS_ORDER, ipnHashString, type IpnHashField, type IpnHashInput } from "./sign.js";
import { FAULT_DESCRIPTIONS, type Fault } from "./fault-table.js";

/** The mistakes the doctor knows, in the order it tries them: the cheap and likely first, every field order last. */
export const IPN_HASH_MISTAKES = [
  "upperCaseHex",
  "secretLeftOut",
  "trailingNewline",
  "timestampSeconds",
  "amountsReformatted",
  "urlDecoding",
  "hmac",
  "wholeBody",
  "fieldOrder",
] as const;
export type IpnHashMistake = (typeof IPN_HASH_MISTAKES)[number];

/** What each mistake is and how to fix it: the one source for the command line, the docs and the dashboard. */
export const IPN_HASH_MISTAKE_DESCRIPTIONS: Record<IpnHashMistake, { what: string; fix: string }> = {
  upperCaseHex: {
    what: "the digest is in upper-case hex",
    fix: "compare with the lower-case hex digest (digest('hex') in Node, hexdigest() in Python, hash('sha256', …) in PHP)",
  },
  secretLeftOut: { what: "the secret was left out", fix: 'end the string with ":" and your ipnSecret' },
  trailingNewline: { what: "a line break was hashed after the string", fix: "hash the string without a newline (echo -n, or no \\n in your code)" },
  timestampSeconds: { what: "the timestamp was turned into seconds", fix: "use timestamp exactly as received: Unix time in milliseconds" },
  amountsReformatted: { what: "the amounts were reformatted", fix: "use inAmount and outAmount exactly as received, as strings: never parse them as numbers first" },
  urlDecoding: {
    what: "the values were url-decoded wrongly",
    fix: "hash the values your form parser gives (it turns + into a space and %XX into its character, once)",
  },
  hmac: { what: "an HMAC keyed with the secret was computed", fix: "use a plain sha256 of the string that ends with :ipnSecret, not an HMAC" },
  wholeBody: { what: "the whole request body was hashed", fix: "hash only orderId:newStatus:inAmount:outAmount:xml_from:xml_to:timestamp:ipnSecret" },
  fieldOrder: { what: "the fields were joined in another order", fix: "join orderId, newStatus, inAmount, outAmount, xml_from, xml_to, timestamp and ipnSecret in that order" },
};

/** The faults whose IPN a correct merchant refuses for its checksum: the doctor says so rather than blame the hash. */
const REFUSED_FAULTS: readonly Fault[] = ["tamperHash", "wrongSecret", "tamperField", "missingHash", "malformedBody"];

export interface IpnHashDoctorInput {
  /** The IPN's form-urlencoded body, as received. */
  body: string;
  /** The ipnSecret the order was created with. */
  secret: string;
  /** The hash the merchant's code computed for this body. */
  hash: string;
  /** The body's checksum field (default `hash`). */
  hashField?: string;
  /** The delivery fault the sandbox applied, when the body comes from one of its delivery records. */
  fault?: Fault;
}

export interface DiagnosedMistake {
  mistake: IpnHashMistake;
  what: string;
  fix: string;
  /** Exactly what the merchant's code hashed (for an HMAC, the message). It may contain the secret. */
  hashed: string;
  /** The specifics, e.g. "timestamp 1571328406 instead of 1571328406072". */
  detail: string;
}

export interface IpnHashDiagnosis {
  /** True when the merchant's hash is the right one. */
  ok: boolean;
  /** The exact string the exchanger hashes for this body. It contains the secret: show it only to its owner. */
  expectedString: string;
  /** sha256 of `expectedString`, lower-case hex. */
  expectedHash: string;
  /** The mistakes that reproduce the merchant's hash (two when it is also upper-case); empty when ok or unexplained. */
  mistakes: DiagnosedMistake[];
  /** What else is worth knowing: the body's own checksum against this secret, the fault the sandbox applied. */
  notes: string[];
}

/** A body the doctor cannot read: a hashed field missing or given twice. */
export class IpnBodyError extends Error {
  override name = "IpnBodyError";
}

/** Diagnoses a merchant's IPN hash. Pure: the same input always gives the same answer. Throws IpnBodyError for an unusable body. */
export function diagnoseIpnHash(input: IpnHashDoctorInput): IpnHashDiagnosis {
  const hashField = input.hashField ?? DEFAULT_IPN_HASH_FIELD;
  const pairs = readPairs(input.body);
  const raw = hashedRawValues(pairs);
  const fields = mapFields(raw, formDecode);
  const expectedString = ipnHashString(fields, input.secret);
  const expectedHash = sha256(expectedString);
  const given = input.hash.trim();
  const notes = bodyNotes(pairs, hashField, expectedHash, input.fault);

  if (given === expectedHash) return { ok: true, expectedString, expectedHash, mistakes: [], notes };
  const upper = upperCaseMistake(expectedString);
  if (given.toLowerCase() === expectedHash) return { ok: false, expectedString, expectedHash, mistakes: [upper], notes };

  const wanted = given.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(wanted)) {
    const base64 = given.length === 44 && /^[A-Za-z0-9+/]{43}=$/.test(given) ? ", which looks like base64: compare with the hex digest" : "";
    notes.unshift(`A sha256 in hex is 64 characters from 0-9 and a-f; the hash given is ${given.length} characters${base64}.`);
    return { ok: false, expectedString, expectedHash, mistakes: [], notes };
  }
  const context: Context = { fields, raw, secret: input.secret, body: input.body, pairs, hashField, expectedString };
  for (const candidate of candidates(context)) {
    if (candidate.hashed === expectedString && candidate.key === undefined) continue;
    const digest = candidate.key === undefined ? sha256(candidate.hashed) : createHmac("sha256", candidate.key).update(candidate.hashed, "utf8").digest("hex");
    if (digest !== wanted) continue;
    const { what, fix } = IPN_HASH_MISTAKE_DESCRIPTIONS[candidate.mistake];
    const found: DiagnosedMistake = { mistake: candidate.mistake, what, fix, hashed: candidate.hashed, detail: candidate.detail };
    return { ok: false, expectedString, expectedHash, mistakes: given === wanted ? [found] : [found, upper], notes };
  }
  notes.push("No common mistake reproduces the hash given: most likely another secret was used (it must be the ipnSecret this order was created with), or the string was built from other values.");
  return { ok: false, expectedString, expectedHash, mistakes: [], notes };
}

interface Candidate {
  mistake: IpnHashMistake;
  hashed: string;
  /** Set for an HMAC: its key. */
  key?: string;
  detail: string;
}

interface Context {
  fields: IpnHashInput;
  raw: IpnHashInput;
  secret: string;
  body: string;
  pairs: Pair[];
  hashField: string;
  expectedString: string;
}

function* candidates(c: Context): Generator<Candidate> {
  const values = IPN_HASH_FIELDS_ORDER.map((name) => c.fields[name]);
  const withoutSecret = values.join(":");

  yield { mistake: "secretLeftOut", hashed: withoutSecret, detail: "the string ends at the timestamp" };
  yield { mistake: "secretLeftOut", hashed: `${withoutSecret}:`, detail: 'the string ends with ":" and an empty secret' };

  yield { mistake: "trailingNewline", hashed: `${c.expectedString}\n`, detail: "the string was followed by \\n" };
  yield { mistake: "trailingNewline", hashed: `${c.expectedString}\r\n`, detail: "the string was followed by \\r\\n" };

  if (/^\d{4,}$/.test(c.fields.timestamp)) {
    const ms = Number(c.fields.timestamp);
    for (const seconds of new Set([String(Math.floor(ms / 1000)), String(Math.round(ms / 1000)), String(ms / 1000)])) {
      yield { mistake: "timestampSeconds", hashed: ipnHashString({ ...c.fields, timestamp: seconds }, c.secret), detail: `timestamp ${seconds} instead of ${c.fields.timestamp}` };
    }
  }

  for (const [label, format] of AMOUNT_FORMATS) {
    const inAmount = format(c.fields.inAmount);
    const outAmount = format(c.fields.outAmount);
    const inChanged = inAmount !== null && inAmount !== c.fields.inAmount;
    const outChanged = outAmount !== null && outAmount !== c.fields.outAmount;
    const said = {
      in: `inAmount ${inAmount} instead of ${c.fields.inAmount}`,
      out: `outAmount ${outAmount} instead of ${c.fields.outAmount}`,
    };
    const changes: [Partial<IpnHashInput>, string, boolean][] = [
      [{ inAmount: inAmount!, outAmount: outAmount! }, `${said.in}, ${said.out}`, inChanged && outChanged],
      [{ inAmount: inAmount! }, said.in, inChanged],
      [{ outAmount: outAmount! }, said.out, outChanged],
    ];
    for (const [change, detail, applies] of changes) {
      if (!applies) continue;
      yield { mistake: "amountsReformatted", hashed: ipnHashString({ ...c.fields, ...change }, c.secret), detail: `${detail}, ${label}` };
    }
  }

  for (const [label, decode] of WRONG_DECODINGS) {
    const decoded = mapFields(c.raw, decode);
    const changed = IPN_HASH_FIELDS_ORDER.filter((name) => decoded[name] !== c.fields[name]);
    if (changed.length === 0) continue;
    const said = changed.map((name) => `${name} ${JSON.stringify(decoded[name])} instead of ${JSON.stringify(c.fields[name])}`).join(", ");
    yield { mistake: "urlDecoding", hashed: ipnHashString(decoded, c.secret), detail: `${label}: ${said}` };
  }

  yield { mistake: "hmac", hashed: c.expectedString, key: c.secret, detail: "HMAC-SHA256 with the secret as key, over the whole string" };
  yield { mistake: "hmac", hashed: withoutSecret, key: c.secret, detail: "HMAC-SHA256 with the secret as key, over the string without the secret" };

  const unsigned = c.pairs.filter((pair) => pair.name !== c.hashField).map((pair) => pair.text).join("&");
  const bodies: [string, string][] = [
    [c.body, "the body exactly as received"],
    [unsigned, `the body without its ${c.hashField} field`],
    [`${unsigned}${c.secret}`, `the body without its ${c.hashField} field, then the secret`],
    [`${unsigned}:${c.secret}`, `the body without its ${c.hashField} field, then ":" and the secret`],
    [`${unsigned}&${c.secret}`, `the body without its ${c.hashField} field, then "&" and the secret`],
  ];
  const seenBodies = new Set<string>();
  for (const [hashed, detail] of bodies) {
    if (seenBodies.has(hashed)) continue;
    seenBodies.add(hashed);
    yield { mistake: "wholeBody", hashed, detail };
  }

  // Every order of the seven fields and the secret: 40 319 strings, about 0.1 s, tried only when all else failed.
  const items = [...IPN_HASH_FIELDS_ORDER.map((name) => ({ name: name as string, value: c.fields[name] })), { name: "ipnSecret", value: c.secret }];
  const seen = new Set<string>([c.expectedString]);
  for (const order of permutations(items)) {
    const hashed = order.map((item) => item.value).join(":");
    if (seen.has(hashed)) continue;
    seen.add(hashed);
    yield { mistake: "fieldOrder", hashed, detail: `joined as ${order.map((item) => item.name).join(":")}` };
  }
}

/** Ways a merchant's code turns a decimal string into another: parsed as a float and printed again. */
const AMOUNT_FORMATS: [string, (value: string) => string | null][] = [
  ["parsed as a number and printed again", (v) => asNumber(v, (n) => String(n))],
  ["written with 2 decimals", (v) => asNumber(v, (n) => n.toFixed(2))],
  ["written with 8 decimals", (v) => asNumber(v, (n) => n.toFixed(8))],
  ["written with thousands separators", (v) => asNumber(v, (n) => n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }))],
];

function asNumber(value: string, format: (n: number) => string): string | null {
  if (!/^-?\d+(\.\d+)?$/.test(value)) return null;
  return format(Number(value));
}

/** Ways a value gets url-decoded wrongly, applied to the text as it stood in the body. */
const WRONG_DECODINGS: [string, (raw: string) => string][] = [
  ["left url-encoded", (raw) => raw],
  ['decoded without turning "+" into a space', (raw) => percentDecode(raw)],
  ["decoded twice", (raw) => formDecode(formDecode(raw))],
];

interface Pair {
  /** The field's name, decoded. */
  name: string;
  /** The value as it stands in the body, still encoded. */
  rawValue: string;
  /** The whole `name=value` text. */
  text: string;
}

function readPairs(body: string): Pair[] {
  return body
    .split("&")
    .filter((text) => text !== "")
    .map((text) => {
      const at = text.indexOf("=");
      return { name: formDecode(at === -1 ? text : text.slice(0, at)), rawValue: at === -1 ? "" : text.slice(at + 1), text };
    });
}

function hashedRawValues(pairs: Pair[]): IpnHashInput {
  const found = new Map<string, string>();
  for (const pair of pairs) {
    if (!(IPN_HASH_FIELDS_ORDER as readonly string[]).includes(pair.name)) continue;
    if (found.has(pair.name)) throw new IpnBodyError(`the IPN body has the field "${pair.name}" more than once; give the body exactly as received`);
    found.set(pair.name, pair.rawValue);
  }
  const missing = IPN_HASH_FIELDS_ORDER.filter((name) => !found.has(name));
  if (missing.length > 0) {
    throw new IpnBodyError(`the IPN body has no ${missing.map((name) => `"${name}"`).join(", ")} field${missing.length > 1 ? "s" : ""}; give the form-urlencoded body exactly as received`);
  }
  return Object.fromEntries(found) as IpnHashInput;
}

function mapFields(fields: IpnHashInput, map: (value: string) => string): IpnHashInput {
  return Object.fromEntries(IPN_HASH_FIELDS_ORDER.map((name: IpnHashField) => [name, map(fields[name])])) as IpnHashInput;
}

/** What a form parser makes of a value: "+" is a space, %XX its byte (URLSearchParams' rules, as the sandbox encodes). */
function formDecode(raw: string): string {
  // A value decoded once may hold "&", which must not split it when it is (wrongly) decoded again.
  return new URLSearchParams(`v=${raw.replaceAll("&", "%26")}`).get("v") ?? "";
}

/** decodeURIComponent's reading, which keeps "+" as it is; a broken escape is left as it stands. */
function percentDecode(raw: string): string {
  return raw.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

function upperCaseMistake(expectedString: string): DiagnosedMistake {
  return { mistake: "upperCaseHex", ...IPN_HASH_MISTAKE_DESCRIPTIONS.upperCaseHex, hashed: expectedString, detail: "the right string and the right sha256, written in upper case" };
}

function bodyNotes(pairs: Pair[], hashField: string, expectedHash: string, fault: Fault | undefined): string[] {
  const notes: string[] = [];
  const sent = pairs.filter((pair) => pair.name === hashField).map((pair) => formDecode(pair.rawValue));
  if (sent.length === 0) {
    notes.push(`The body has no "${hashField}" field: an IPN without a checksum must be refused.`);
  } else if (sent[0] === expectedHash) {
    notes.push(`The body's own "${hashField}" field is the right checksum: a correct server accepts this IPN.`);
  } else {
    notes.push(
      `The body's own "${hashField}" field is not the checksum of this body under this secret: the IPN was signed with another secret or changed after signing (a correct server refuses it), or the secret given is not this order's ipnSecret.`,
    );
  }
  if (fault && fault !== "deliver") {
    const refused = REFUSED_FAULTS.includes(fault) ? " It was meant to be refused." : "";
    notes.push(`The sandbox sent this delivery with the fault ${fault}: ${FAULT_DESCRIPTIONS[fault]}.${refused}`);
  }
  return notes;
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  // Heap's algorithm: each arrangement once, by swapping in place.
  const a = [...items];
  const c = new Array<number>(a.length).fill(0);
  yield [...a];
  let i = 1;
  while (i < a.length) {
    if (c[i]! < i) {
      const j = i % 2 === 0 ? 0 : c[i]!;
      [a[j], a[i]] = [a[i]!, a[j]!];
      yield [...a];
      c[i] = c[i]! + 1;
      i = 1;
    } else {
      c[i] = 0;
      i += 1;
    }
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
