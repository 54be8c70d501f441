// Unit tests for the IPN checksum and the IPN body's encoding, against the docs' golden vector.

import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  IPN_FIELD_ORDER,
  IPN_HASH_FIELDS_ORDER,
  decodeIpnBody,
  encodeIpnBody,
  ipnHashString,
  signIpn,
  verifyIpnHash,
} from "../sandbox/ipn/index.js";
import type { IpnFields } from "../sandbox/ipn/index.js";

import { DOCS_SECRET as SECRET, GOLDEN_HASH, docsIpnFields as docsIpn } from "./support/fixtures.js";


describe("signIpn", () => {
  it("reproduces the docs' golden vector", () => {
    expect(ipnHashString(docsIpn(), SECRET)).toBe(
      "5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072:SECRET123",
    );
    expect(signIpn(docsIpn(), SECRET).hash).toBe(GOLDEN_HASH);
  });

  it("hashes the documented fields in the documented order, the secret last", () => {
    expect(IPN_HASH_FIELDS_ORDER).toEqual([
      "orderId",
      "newStatus",
      "inAmount",
      "outAmount",
      "xml_from",
      "xml_to",
      "timestamp",
    ]);
    const fields = { ...docsIpn(), orderId: "A", newStatus: "B", inAmount: "C", outAmount: "D", xml_from: "E", xml_to: "F", timestamp: "G" };
    expect(ipnHashString(fields, "S")).toBe("A:B:C:D:E:F:G:S");
  });

  it("leaves orderUID and toValues out of the checksum, as the docs do", () => {
    const other = { ...docsIpn(), orderUID: "7", toValues: [] };
    expect(signIpn(other, SECRET).hash).toBe(GOLDEN_HASH);
  });

  it("shows the hashed string with the secret masked", () => {
    const { hashedString } = signIpn(docsIpn(), SECRET);
    expect(hashedString).toBe("5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072:SE•••••23");
    expect(hashedString).not.toContain(SECRET);
  });

  it("hashes non-ASCII values as UTF-8", () => {
    const fields = { ...docsIpn(), newStatus: "é" };
    const expected = createHash("sha256").update(Buffer.from(ipnHashString(fields, SECRET), "utf8")).digest("hex");
    expect(signIpn(fields, SECRET).hash).toBe(expected);
  });
});

describe("verifyIpnHash", () => {
  it("accepts the golden vector", () => {
    expect(verifyIpnHash(docsIpn(), SECRET, GOLDEN_HASH)).toBe(true);
  });

  it.each<[string, { fields?: Partial<IpnFields>; secret?: string; hash?: string }]>([
    ["a hash made with another secret", { hash: signIpn(docsIpn(), "OTHER").hash }],
    ["the right hash checked with another secret", { secret: "SECRET124" }],
    ["an altered hash", { hash: GOLDEN_HASH.slice(0, -1) + "0" }],
    ["an upper-case hash", { hash: GOLDEN_HASH.toUpperCase() }],
    ["a non-hex hash of the right length", { hash: "z".repeat(64) }],
    ["an empty hash", { hash: "" }],
    ["a truncated hash", { hash: GOLDEN_HASH.slice(0, 62) }],
    ["a hash with a trailing newline", { hash: GOLDEN_HASH + "\n" }],
    ["a hash of the secret-less string", { hash: createHash("sha256").update("5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072").digest("hex") }],
    ["orderId changed after signing", { fields: { orderId: "5d8e6002b80b7b4cd75a6425" } }],
    ["newStatus changed after signing", { fields: { newStatus: "done" } }],
    ["inAmount changed after signing", { fields: { inAmount: "2.0" } }],
    ["outAmount changed after signing", { fields: { outAmount: "317.43" } }],
    ["xml_from changed after signing", { fields: { xml_from: "BTC" } }],
    ["xml_to changed after signing", { fields: { xml_to: "WMR" } }],
    ["timestamp changed after signing", { fields: { timestamp: "1571328406073" } }],
    ["two fields swapped after signing", { fields: { xml_from: "WMZ", xml_to: "ETH" } }],
  ])("rejects %s", (_name, broken) => {
    const fields = { ...docsIpn(), ...broken.fields };
    expect(verifyIpnHash(fields, broken.secret ?? SECRET, broken.hash ?? GOLDEN_HASH)).toBe(false);
  });
});

describe("encodeIpnBody / decodeIpnBody", () => {
  it("writes the fields in the documented order, toValues bracket-encoded, the hash last", () => {
    const body = encodeIpnBody(docsIpn(), "hash", GOLDEN_HASH);
    expect(body).toBe(
      "orderUID=1409&orderId=5d8e6002b80b7b4cd75a6424&newStatus=inProgress&inAmount=2&outAmount=317.42" +
        "&xml_from=ETH&xml_to=WMZ&timestamp=1571328406072" +
        "&toValues%5B0%5D%5Bkey%5D=5d8e6002b80b7b4cd75a6401&toValues%5B0%5D%5Bname%5D=Wallet" +
        "&toValues%5B0%5D%5Bvalue%5D=Z123456789012" +
        `&hash=${GOLDEN_HASH}`,
    );
    expect([...new URLSearchParams(body).keys()].slice(0, 8)).toEqual(IPN_FIELD_ORDER.slice(0, 8));
  });

  it("names the checksum field as configured and leaves it out when there is no hash", () => {
    expect(encodeIpnBody(docsIpn(), "signature", "abc")).toMatch(/&signature=abc$/);
    expect(encodeIpnBody(docsIpn(), "hash", null)).not.toMatch(/hash=/);
    expect(decodeIpnBody(encodeIpnBody(docsIpn(), "hash", null)).hash).toBeNull();
  });

  it.each<[string, IpnFields]>([
    ["the docs' example", docsIpn()],
    ["no toValues", { ...docsIpn(), toValues: [] }],
    [
      "unicode and form metacharacters inside values",
      {
        ...docsIpn(),
        newStatus: "a&b=c",
        toValues: [
          { key: "k&=", name: "Имя получателя 👤", value: "a+b c%20d&e=f" },
          { key: "[0]", name: "toValues[1][key]", value: "?#\n\t" },
          { key: "", name: "", value: "" },
        ],
      },
    ],
  ])("round-trips %s", (_name, fields) => {
    const body = encodeIpnBody(fields, "hash", GOLDEN_HASH);
    expect(decodeIpnBody(body)).toEqual({ fields, hash: GOLDEN_HASH });
    expect(decodeIpnBody(encodeIpnBody(fields, "sig", "x"), "sig")).toEqual({ fields, hash: "x" });
  });

  it.each<[string, (body: string) => string, RegExp]>([
    ["a missing field", (body) => body.replace(/&xml_to=[^&]*/, ""), /missing the field "xml_to"/],
    ["a repeated field", (body) => body + "&timestamp=1", /"timestamp" more than once/],
    ["an unknown field", (body) => body + "&extra=1", /unexpected field "extra"/],
    ["a toValue missing a key", (body) => body.replace(/&toValues%5B0%5D%5Bname%5D=[^&]*/, ""), /"toValues\[0\]\[name\]"/],
    ["a gap in toValues indexes", (body) => body.replaceAll("toValues%5B0%5D", "toValues%5B1%5D"), /without gaps; found 1/],
    ["an absurd toValues index", (body) => body.replaceAll("toValues%5B0%5D", "toValues%5B99999999%5D"), /unexpected field "toValues\[99999999\]\[key\]"/],
  ])("refuses a body with %s", (_name, breakBody, message) => {
    const body = breakBody(encodeIpnBody(docsIpn(), "hash", GOLDEN_HASH));
    expect(() => decodeIpnBody(body)).toThrow(message);
  });

  it.each(["", "1hash", "has-h", "h".repeat(65), "orderId", "toValues", "__proto__"])(
    "refuses %j as the checksum field's name",
    (name) => {
      expect(() => encodeIpnBody(docsIpn(), name, GOLDEN_HASH)).toThrow(/hash field name/);
    },
  );
});
