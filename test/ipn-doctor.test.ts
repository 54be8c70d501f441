// The IPN doctor: each common hashing mistake, made for real on a body the sandbox signs, is named and explained.

import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { diagnoseIpnHash, encodeIpnBody, IpnBodyError, IPN_HASH_MISTAKES, signIpn, type IpnFields, type IpnHashMistake } from "../sandbox/index.js";
import { DOCS_SECRET as SECRET, docsIpnFields, GOLDEN_HASH } from "./support/fixtures.js";

const DOCS_FIELDS = docsIpnFields();
/** A route whose currency code holds a space, so form encoding writes "+" and a careless decoder keeps it. */
const SPACED_FIELDS = docsIpnFields({ xml_to: "USDT TRC20", outAmount: "1234.5" });

/** The body exactly as the sandbox sends it. */
function wire(fields: IpnFields, secret = SECRET): string {
  return encodeIpnBody(fields, "hash", signIpn(fields, secret).hash);
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** What a merchant's code reads from the body: a form parser's values. */
function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

const NAMES = ["orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"] as const;
const right = (f: Record<string, string>, secret = SECRET) => [...NAMES.map((n) => f[n]), secret].join(":");

/** Each mistake as a merchant's code makes it: from the body it received to the hash it computed. */
const MISTAKES: [IpnHashMistake, IpnFields, (body: string) => string][] = [
  ["secretLeftOut", DOCS_FIELDS, (body) => sha256(NAMES.map((n) => form(body)[n]).join(":"))],
  [
    "fieldOrder",
    DOCS_FIELDS,
    // The fields sorted by name, as PHP's ksort($_POST) leaves them, the secret still last.
    (body) => sha256([...[...NAMES].sort().map((n) => form(body)[n]), SECRET].join(":")),
  ],
  ["timestampSeconds", DOCS_FIELDS, (body) => sha256(right({ ...form(body), timestamp: String(Math.floor(Number(form(body).timestamp) / 1000)) }))],
  [
    "urlDecoding",
    SPACED_FIELDS,
    // Split by hand and decoded with decodeURIComponent, which leaves "+" as it is.
    (body) => sha256(right(Object.fromEntries(body.split("&").map((pair) => pair.split("=").map(decodeURIComponent) as [string, string])))),
  ],
  ["upperCaseHex", DOCS_FIELDS, (body) => sha256(right(form(body))).toUpperCase()],
  ["hmac", DOCS_FIELDS, (body) => createHmac("sha256", SECRET).update(right(form(body))).digest("hex")],
  ["amountsReformatted", DOCS_FIELDS, (body) => sha256(right({ ...form(body), inAmount: parseFloat(form(body).inAmount!).toFixed(2) }))],
  ["trailingNewline", DOCS_FIELDS, (body) => sha256(`${right(form(body))}\n`)],
  ["wholeBody", DOCS_FIELDS, (body) => sha256(body)],
];

describe("diagnoseIpnHash", () => {
  it("has a case below for every mistake it knows", () => {
    expect(MISTAKES.map(([mistake]) => mistake).sort()).toEqual([...IPN_HASH_MISTAKES].sort());
  });

  it("passes the docs' golden vector and names the string it hashes", () => {
    const body = wire(DOCS_FIELDS);
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash: GOLDEN_HASH });
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.mistakes).toEqual([]);
    expect(diagnosis.expectedString).toBe("5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072:SECRET123");
    expect(diagnosis.expectedHash).toBe(GOLDEN_HASH);
  });

  it.each(MISTAKES)("names %s when the merchant's hash was made that way", (mistake, fields, merchant) => {
    const body = wire(fields);
    const hash = merchant(body);
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash });
    expect(diagnosis.ok).toBe(false);
    expect(diagnosis.mistakes.map((m) => m.mistake)).toEqual([mistake]);
    expect(diagnosis.expectedString).toBe(right(form(body)));
    // What the doctor says the merchant hashed really gives the merchant's hash.
    const found = diagnosis.mistakes[0]!;
    const replayed = mistake === "hmac" ? createHmac("sha256", SECRET).update(found.hashed).digest("hex") : sha256(found.hashed);
    expect(replayed).toBe(hash.toLowerCase());
    expect(found.fix.length).toBeGreaterThan(10);
  });

  it("names the field order it reproduced", () => {
    const body = wire(DOCS_FIELDS);
    const hash = sha256([SECRET, ...NAMES.map((n) => form(body)[n])].join(":"));
    expect(diagnoseIpnHash({ body, secret: SECRET, hash }).mistakes[0]?.detail).toBe(`joined as ipnSecret:${NAMES.join(":")}`);
  });

  it("names both mistakes when the hash also is in upper case", () => {
    const body = wire(DOCS_FIELDS);
    const hash = sha256(NAMES.map((n) => form(body)[n]).join(":")).toUpperCase();
    expect(diagnoseIpnHash({ body, secret: SECRET, hash }).mistakes.map((m) => m.mistake)).toEqual(["secretLeftOut", "upperCaseHex"]);
  });

  it("names no mistake for a hash made with another secret, and says the secret is the likely cause", () => {
    const body = wire(DOCS_FIELDS);
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash: sha256(right(form(body), "another-secret")) });
    expect(diagnosis.ok).toBe(false);
    expect(diagnosis.mistakes).toEqual([]);
    expect(diagnosis.notes.join(" ")).toMatch(/another secret/);
  });

  it("says a hash that is not 64 hex digits looks like base64 when it is", () => {
    const body = wire(DOCS_FIELDS);
    const base64 = createHash("sha256").update(right(form(body))).digest("base64");
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash: base64 });
    expect(diagnosis.ok).toBe(false);
    expect(diagnosis.notes[0]).toMatch(/44 characters, which looks like base64/);
  });

  it("says when the body's own checksum was not made with this secret (a forged IPN, or the wrong --secret)", () => {
    const body = wire(DOCS_FIELDS, "another-secret");
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash: sha256(right(form(body))), fault: "wrongSecret" });
    expect(diagnosis.ok).toBe(true);
    expect(diagnosis.notes[0]).toMatch(/not the checksum of this body under this secret/);
    expect(diagnosis.notes[1]).toMatch(/fault wrongSecret: .*meant to be refused/);
  });

  it("reads the checksum from the configured field", () => {
    const body = encodeIpnBody(DOCS_FIELDS, "signature", signIpn(DOCS_FIELDS, SECRET).hash);
    const diagnosis = diagnoseIpnHash({ body, secret: SECRET, hash: sha256(body), hashField: "signature" });
    expect(diagnosis.notes[0]).toMatch(/"signature" field is the right checksum/);
  });

  it.each([
    ["a hashed field is missing", wire(DOCS_FIELDS).replace(/&newStatus=[^&]*/, ""), /no "newStatus" field/],
    ["a hashed field comes twice", `${wire(DOCS_FIELDS)}&inAmount=3`, /"inAmount" more than once/],
    ["the body is not a form at all", '{"orderId":"5d8e6002b80b7b4cd75a6424"}', /no "orderId", "newStatus", .* fields/],
  ])("refuses a body where %s, naming the field", (_name, body, message) => {
    expect(() => diagnoseIpnHash({ body, secret: SECRET, hash: "0".repeat(64) })).toThrow(IpnBodyError);
    expect(() => diagnoseIpnHash({ body, secret: SECRET, hash: "0".repeat(64) })).toThrow(message);
  });
});
