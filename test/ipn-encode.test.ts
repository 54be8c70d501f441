// The hand-written IPN body encoder writes exactly the bytes URLSearchParams would.

import { describe, expect, it } from "vitest";
import { encodeIpnBody } from "../sandbox/ipn/index.js";
import type { IpnFields } from "../sandbox/ipn/index.js";
import { docsIpnFields } from "./support/fixtures.js";

/** The body as URLSearchParams builds it: the reference the encoder must match byte for byte. */
function referenceBody(fields: IpnFields, hashField: string, hash: string | null): string {
  const params = new URLSearchParams();
  for (const name of ["orderUID", "orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"] as const) {
    params.append(name, fields[name]);
  }
  fields.toValues.forEach((toValue, index) => {
    for (const key of ["key", "name", "value"] as const) params.append(`toValues[${index}][${key}]`, toValue[key]);
  });
  if (hash !== null) params.append(hashField, hash);
  return params.toString();
}

describe("encodeIpnBody", () => {
  it.each([
    ["plain letters and digits", "Z345677864658"],
    ["a space", "WMZ purse"],
    ["the characters form encoding leaves alone", "*-._"],
    ["characters encodeURIComponent leaves alone but forms do not", "~!'()"],
    ["Cyrillic with & and =", "Иван = Петров & Ко"],
    ["an emoji", "😀 ok"],
    ["a lone surrogate", "\ud800x"],
    ["a plus and a percent", "a+b%20"],
    ["control characters", "\n\t\r"],
    ["brackets", "[0][key]"],
    ["nothing", ""],
  ])("writes %s exactly as URLSearchParams does", (_name, value) => {
    const fields = docsIpnFields({
      newStatus: value,
      toValues: [
        { key: value, name: value, value },
        { key: "k", name: "n", value: "v" },
      ],
    });
    expect(encodeIpnBody(fields, "hash", value)).toBe(referenceBody(fields, "hash", value));
    expect(encodeIpnBody(fields, "signature", null)).toBe(referenceBody(fields, "signature", null));
  });
});
