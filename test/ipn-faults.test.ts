// Unit tests for the pure fault module: reading fault specs, and the wire body each body-altering fault builds.

import { describe, expect, it } from "vitest";
import {
  FAULTS,
  MAX_FAULT_MS,
  TAMPERABLE_FIELDS,
  applyFault,
  decodeIpnBody,
  normalizeFault,
  tamperedValue,
  verifyIpnHash,
} from "../sandbox/ipn/index.js";
import type { FaultSpec, IpnFields, IpnWire, NormalizedFault } from "../sandbox/ipn/index.js";

import { DOCS_SECRET as SECRET, docsIpnFields as docsFields } from "./support/fixtures.js";


const clean = applyFault(docsFields(), SECRET, "hash", { type: "deliver" });

function wire(fault: FaultSpec, hashField = "hash"): IpnWire {
  const normalized = normalizeFault(fault);
  if (!normalized.ok) throw new Error(normalized.message);
  return applyFault(docsFields(), SECRET, hashField, normalized.fault);
}

/** The names of the fields whose values differ between two decoded IPNs. */
function changedFields(a: IpnFields, b: IpnFields): string[] {
  return (Object.keys(a) as (keyof IpnFields)[]).filter((name) => JSON.stringify(a[name]) !== JSON.stringify(b[name]));
}

/** A strict form decoder: every pair is name=value with a name, and every escape must be complete UTF-8. */
function strictDecodeForm(body: string): [string, string][] {
  return body.split("&").map((pair) => {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`not a name=value pair: ${JSON.stringify(pair)}`);
    const decode = (text: string) => decodeURIComponent(text.replace(/\+/g, " "));
    return [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
  });
}

describe("a clean delivery", () => {
  it("carries the docs' golden hash", () => {
    expect(clean.hash).toBe("af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48");
    expect(clean.detail).toBeNull();
    expect(decodeIpnBody(clean.body)).toEqual({ fields: docsFields(), hash: clean.hash });
  });

  it.each(["deliver", "drop", "dropOnce", "delay", "duplicate", "reorder"] as const)(
    "is what %s sends: timing faults do not touch the body",
    (fault) => {
      expect(wire(fault)).toEqual(clean);
    },
  );
});

describe("body-altering faults", () => {
  it.each<[FaultSpec, { verifies: boolean; changed: string[]; hash: "same" | "changed" | "absent" }]>([
    ["tamperHash", { verifies: false, changed: [], hash: "changed" }],
    ["wrongSecret", { verifies: false, changed: [], hash: "changed" }],
    ["tamperField", { verifies: false, changed: ["outAmount"], hash: "same" }],
    ["staleTimestamp", { verifies: true, changed: ["timestamp"], hash: "changed" }],
    ["secondsTimestamp", { verifies: true, changed: ["timestamp"], hash: "changed" }],
    ["missingHash", { verifies: false, changed: [], hash: "absent" }],
  ])("%s: verification with the true secret %s, and only the intended thing differs", (fault, expected) => {
    const sent = wire(fault);
    const decoded = decodeIpnBody(sent.body);
    expect(decoded.fields).toEqual(sent.fields);
    expect(verifyIpnHash(decoded.fields, SECRET, decoded.hash ?? "")).toBe(expected.verifies);
    expect(changedFields(decoded.fields, docsFields())).toEqual(expected.changed);
    expect(decoded.hash).toBe(sent.hash);
    if (expected.hash === "same") expect(decoded.hash).toBe(clean.hash);
    if (expected.hash === "changed") expect(decoded.hash).toMatch(/^[0-9a-f]{64}$/);
    if (expected.hash === "changed") expect(decoded.hash).not.toBe(clean.hash);
    if (expected.hash === "absent") expect(decoded.hash).toBeNull();
    expect(sent.detail).toEqual(expect.any(String));
  });

  it.each([...FAULTS])("%s builds the same body every time", (fault) => {
    expect(wire(fault)).toEqual(wire(fault));
  });

  it("tamperHash changes exactly one hex digit, the last", () => {
    const sent = wire("tamperHash");
    expect(sent.hash!.slice(0, -1)).toBe(clean.hash!.slice(0, -1));
    expect(sent.hash!.slice(-1)).not.toBe(clean.hash!.slice(-1));
    expect(sent.hashedString).toBe(clean.hashedString);
    expect(sent.detail).toBe(`hash altered after signing: last digit 8 → 9`);
  });

  it("wrongSecret signs with a secret the merchant does not have, and masks it", () => {
    const sent = wire("wrongSecret");
    expect(verifyIpnHash(docsFields(), `${SECRET}-wrong`, sent.hash!)).toBe(true);
    expect(sent.hashedString).not.toContain(SECRET);
    expect(sent.hashedString).not.toContain("wrong");
    expect(sent.hashedString).toMatch(/^5d8e6002b80b7b4cd75a6424:inProgress:2:317\.42:ETH:WMZ:1571328406072:/);
    expect(sent.detail).toBe("signed with a wrong secret, not the ipnSecret");
  });

  it("tamperField signs the true fields, then changes one: the hashed string still shows the true value", () => {
    const sent = wire("tamperField");
    expect(sent.detail).toBe("outAmount changed after signing: 317.42 → 3174.2");
    expect(sent.hashedString).toBe(clean.hashedString);
    expect(verifyIpnHash(docsFields(), SECRET, sent.hash!)).toBe(true);
  });

  it.each([...TAMPERABLE_FIELDS])("tamperField on %s changes that field only, and the hash no longer verifies", (field) => {
    const sent = wire({ type: "tamperField", field });
    const decoded = decodeIpnBody(sent.body);
    expect(changedFields(decoded.fields, docsFields())).toEqual([field]);
    expect(decoded.hash).toBe(clean.hash);
    expect(verifyIpnHash(decoded.fields, SECRET, decoded.hash!)).toBe(false);
    expect(sent.detail).toBe(`${field} changed after signing: ${docsFields()[field]} → ${decoded.fields[field]}`);
  });

  it("staleTimestamp moves the timestamp back by ms and signs it validly", () => {
    expect(wire("staleTimestamp").fields.timestamp).toBe(String(1571328406072 - 86_400_000));
    expect(wire("staleTimestamp").detail).toBe("timestamp 24 h old: 1571242006072 instead of 1571328406072");
    expect(wire({ type: "staleTimestamp", ms: 300_000 }).fields.timestamp).toBe("1571328106072");
  });

  it("secondsTimestamp sends whole seconds and signs them validly", () => {
    const sent = wire("secondsTimestamp");
    expect(sent.fields.timestamp).toBe("1571328406");
    expect(sent.detail).toBe("timestamp in seconds: 1571328406");
  });

  it("missingHash leaves the checksum field out, under whatever name it is configured", () => {
    const sent = wire("missingHash", "signature");
    expect(sent).toMatchObject({ hash: null, hashedString: null, detail: 'no "signature" field' });
    expect(sent.body).toBe(applyFault(docsFields(), SECRET, "signature", { type: "deliver" }).body.replace(/&signature=[0-9a-f]+$/, ""));
  });

  it("malformedBody is refused by decodeIpnBody and by a strict form decoder", () => {
    const sent = wire("malformedBody");
    expect(sent).toMatchObject({ hash: null, hashedString: null, fields: docsFields() });
    expect(sent.body).toContain("%E0%A4%A");
    expect(sent.body.endsWith("&=&")).toBe(true);
    expect(sent.body.startsWith(clean.body.slice(0, clean.body.indexOf("&newStatus=")))).toBe(true);
    expect(() => decodeIpnBody(sent.body)).toThrow(/unexpected field ""/);
    expect(() => strictDecodeForm(sent.body)).toThrow(URIError);
    // A lenient parser reads an orderId that is not the signed one, so the hash cannot verify either.
    const lenient = new URLSearchParams(sent.body);
    expect(lenient.get("orderId")).not.toBe(docsFields().orderId);
    expect(strictDecodeForm(clean.body)).toHaveLength([...new URLSearchParams(clean.body)].length);
  });
});

describe("tamperedValue", () => {
  it.each([
    ["317.42", "3174.2"],
    ["2", "20"],
    ["0.5", "5"],
    ["0.05", "0.5"],
    ["1.50", "15"],
    ["100", "1000"],
    ["0.00000001", "0.0000001"],
    ["12345678901234567890.123456789", "123456789012345678901.23456789"],
    ["0", "1"],
  ])("multiplies the amount %s by ten as a decimal string: %s", (amount, expected) => {
    expect(tamperedValue(docsFields({ outAmount: amount }), "outAmount")).toBe(expected);
    expect(tamperedValue(docsFields({ inAmount: amount }), "inAmount")).toBe(expected);
  });

  it.each([
    ["inProgress", "done"],
    ["new", "done"],
    ["done", "inProgress"],
  ])("changes the status %s to %s", (status, expected) => {
    expect(tamperedValue(docsFields({ newStatus: status }), "newStatus")).toBe(expected);
  });

  it("changes the order id to another 24-hex-digit id", () => {
    const other = tamperedValue(docsFields(), "orderId");
    expect(other).toMatch(/^[0-9a-f]{24}$/);
    expect(other).not.toBe(docsFields().orderId);
  });

  it.each<[Partial<IpnFields>, "xml_from" | "xml_to", string]>([
    [{ xml_from: "ETH", xml_to: "WMZ" }, "xml_from", "BTC"],
    [{ xml_from: "ETH", xml_to: "WMZ" }, "xml_to", "BTC"],
    [{ xml_from: "BTC", xml_to: "ETH" }, "xml_from", "USDTTRC20"],
    [{ xml_from: "ETH", xml_to: "BTC" }, "xml_to", "USDTTRC20"],
  ])("changes the currency code in %j's %s to one that is neither side's: %s", (fields, field, expected) => {
    expect(tamperedValue(docsFields(fields), field)).toBe(expected);
  });

  it("adds one millisecond to the timestamp", () => {
    expect(tamperedValue(docsFields(), "timestamp")).toBe("1571328406073");
  });
});

describe("normalizeFault", () => {
  it.each<[FaultSpec, NormalizedFault]>([
    ["deliver", { type: "deliver" }],
    ["drop", { type: "drop" }],
    ["dropOnce", { type: "dropOnce", ms: 30_000 }],
    ["delay", { type: "delay", ms: 5_000 }],
    ["duplicate", { type: "duplicate", copies: 2 }],
    ["reorder", { type: "reorder", ms: 60_000 }],
    ["tamperHash", { type: "tamperHash" }],
    ["wrongSecret", { type: "wrongSecret" }],
    ["tamperField", { type: "tamperField", field: "outAmount" }],
    ["staleTimestamp", { type: "staleTimestamp", ms: 86_400_000 }],
    ["secondsTimestamp", { type: "secondsTimestamp" }],
    ["missingHash", { type: "missingHash" }],
    ["malformedBody", { type: "malformedBody" }],
    [{ type: "delay" }, { type: "delay", ms: 5_000 }],
    [{ type: "delay", ms: 0 }, { type: "delay", ms: 0 }],
    [{ type: "dropOnce", ms: MAX_FAULT_MS }, { type: "dropOnce", ms: 604_800_000 }],
    [{ type: "duplicate", copies: 10 }, { type: "duplicate", copies: 10 }],
    [{ type: "tamperField", field: "newStatus" }, { type: "tamperField", field: "newStatus" }],
    [{ type: "missingHash" }, { type: "missingHash" }],
  ])("reads %j with its defaults as %j", (spec, expected) => {
    expect(normalizeFault(spec)).toEqual({ ok: true, fault: expected });
  });

  it("gives every fault in FAULTS a default", () => {
    for (const name of FAULTS) expect(normalizeFault(name)).toMatchObject({ ok: true, fault: { type: name } });
  });

  it.each<[string, unknown, RegExp]>([
    ["an unknown name", "explode", /^unknown IPN fault "explode"; expected one of: deliver, drop, dropOnce, .*, malformedBody$/],
    ["an unknown type", { type: "explode" }, /^unknown IPN fault "explode"; expected one of: deliver, /],
    ["a type that is not a string", { type: 3 }, /^unknown IPN fault 3; expected one of: deliver, /],
    ["an object without a type", { ms: 5 }, /needs "type", one of: deliver, drop, /],
    ["a number", 42, /a name or \{"type": name, \.\.\.parameters\}; got 42\. Valid faults: deliver, /],
    ["null", null, /got null\. Valid faults: deliver, /],
    ["an array", ["delay"], /got \["delay"\]\. Valid faults: /],
    ["a parameter the fault does not take", { type: "delay", copies: 2 }, /^IPN fault "delay" takes no parameter "copies"; it takes: ms$/],
    ["a parameter on a fault that takes none", { type: "drop", ms: 5 }, /^IPN fault "drop" takes no parameters; got "ms"$/],
    ["a negative ms", { type: "delay", ms: -1 }, /^IPN fault "delay": ms must be a whole number from 0 to 604800000 \(7 days\); got -1$/],
    ["ms over 7 days", { type: "reorder", ms: MAX_FAULT_MS + 1 }, /ms must be a whole number from 0 to 604800000/],
    ["a fractional ms", { type: "dropOnce", ms: 1.5 }, /got 1\.5$/],
    ["ms as a string", { type: "staleTimestamp", ms: "5000" }, /got "5000"$/],
    ["one copy", { type: "duplicate", copies: 1 }, /^IPN fault "duplicate": copies must be a whole number from 2 to 10; got 1$/],
    ["eleven copies", { type: "duplicate", copies: 11 }, /from 2 to 10; got 11$/],
    ["a field that cannot be tampered", { type: "tamperField", field: "toValues" }, /field must be one of orderId, newStatus, inAmount, outAmount, xml_from, xml_to, timestamp; got "toValues"$/],
  ])("refuses %s with a message naming the valid choices", (_name, spec, message) => {
    const result = normalizeFault(spec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it("lists every valid fault when refusing an unknown one", () => {
    const result = normalizeFault("explode");
    if (result.ok) throw new Error("accepted an unknown fault");
    for (const name of FAULTS) expect(result.message).toContain(name);
  });
});
