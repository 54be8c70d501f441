// The fault table and the plan it makes: how many records each fault's IPN makes and how each goes out, its defaults,
// and the help text and docs row that come from it.

import { describe, expect, it } from "vitest";
import {
  FAULTS,
  FAULT_DESCRIPTIONS,
  faultDefaults,
  faultsMarkdownTable,
  isBodyFault,
  normalizeFault,
  stepsFor,
  type FaultSpec,
  type Step,
} from "../sandbox/ipn/index.js";

/** The steps of one IPN under `spec`, for an order's IPN whose first record is d7. */
function plan(spec: FaultSpec, options: { bodyDetail?: string | null; testIpn?: boolean } = {}): Step[] {
  const normalized = normalizeFault(spec);
  if (!normalized.ok) throw new Error(normalized.message);
  return stepsFor(normalized.fault, { bodyDetail: options.bodyDetail ?? null, group: "d7", testIpn: options.testIpn ?? false });
}

describe("the plan of one IPN", () => {
  it.each<[FaultSpec, Step[]]>([
    ["deliver", [{ kind: "send", detail: null }]],
    ["drop", [{ kind: "drop", detail: "never sent" }]],
    [
      "dropOnce",
      [
        { kind: "drop", detail: "first copy lost" },
        { kind: "hold", ms: 30_000, detail: "an identical copy of d7, held 30000 ms", released: "an identical copy of d7, sent 30000 ms after it was lost", reorder: false },
      ],
    ],
    [{ type: "delay", ms: 1_500 }, [{ kind: "hold", ms: 1_500, detail: "held 1500 ms", released: "held 1500 ms", reorder: false }]],
    [
      { type: "duplicate", copies: 3 },
      [
        { kind: "send", detail: "copy 1 of 3" },
        { kind: "afterPrevious", detail: "copy 2 of 3" },
        { kind: "afterPrevious", detail: "copy 3 of 3" },
      ],
    ],
    [
      "reorder",
      [{ kind: "hold", ms: 60_000, detail: "held until the order's next IPN, at most 60000 ms", released: "no later IPN for the order within 60000 ms; sent then", reorder: true }],
    ],
  ])("%j goes out as %j", (spec, steps) => {
    expect(plan(spec)).toEqual(steps);
  });

  it.each(FAULTS.filter(isBodyFault))("%s sends one record at once, carrying what the fault did to the body", (fault) => {
    expect(plan(fault, { bodyDetail: "altered" })).toEqual([{ kind: "send", detail: "altered" }]);
  });

  it("only delays a reorder test IPN, which has no order to wait for", () => {
    expect(plan({ type: "reorder", ms: 1_000 }, { testIpn: true })).toEqual([
      { kind: "hold", ms: 1_000, detail: "a test IPN has no order to reorder with: held 1000 ms", released: "a test IPN has no order to reorder with: held 1000 ms", reorder: false },
    ]);
  });

  it.each<[FaultSpec, number]>([
    ["deliver", 1],
    ["drop", 1],
    ["dropOnce", 2],
    ["delay", 1],
    ["duplicate", 2],
    [{ type: "duplicate", copies: 10 }, 10],
    ["reorder", 1],
    ["tamperField", 1],
  ])("%j makes %i record(s)", (spec, count) => {
    expect(plan(spec)).toHaveLength(count);
  });
});

describe("the fault table's derived facts", () => {
  it.each<[string, Record<string, unknown>]>([
    ["deliver", {}],
    ["dropOnce", { ms: 30_000 }],
    ["delay", { ms: 5_000 }],
    ["duplicate", { copies: 2 }],
    ["reorder", { ms: 60_000 }],
    ["tamperField", { field: "outAmount" }],
    ["staleTimestamp", { ms: 86_400_000 }],
  ])("gives a bare %s the defaults %j", (fault, defaults) => {
    expect(faultDefaults(fault as never)).toEqual(defaults);
    expect(normalizeFault(fault)).toEqual({ ok: true, fault: { type: fault, ...defaults } });
  });

  it.each<[string, string]>([
    ["dropOnce", "(default 30 s of sandbox time)"],
    ["delay", "(default 5 s of sandbox time)"],
    ["duplicate", "(default 2)"],
    ["reorder", "default 60 s"],
    ["tamperField", "(default outAmount)"],
    ["staleTimestamp", "(default 24 h)"],
  ])("writes %s's default into its description: %s", (fault, text) => {
    expect(FAULT_DESCRIPTIONS[fault as keyof typeof FAULT_DESCRIPTIONS]).toContain(text);
  });

  it("makes one docs row per fault, in the table's order, with its parameters' ranges", () => {
    const rows = faultsMarkdownTable().split("\n").slice(2);
    expect(rows.map((row) => row.split("|")[1]!.trim())).toEqual(FAULTS.map((fault) => `\`${fault}\``));
    expect(rows.find((row) => row.startsWith("| `duplicate` |"))).toContain("| `copies`: 2 – 10 |");
    expect(rows.find((row) => row.startsWith("| `tamperField` |"))).toContain("`field`: orderId, newStatus, inAmount, outAmount, xml_from, xml_to or timestamp |");
    expect(rows.find((row) => row.startsWith("| `deliver` |"))).toBe("| `deliver` | | sent once, as the real service does |");
  });

  it("counts as body faults exactly those that alter what is sent", () => {
    expect(FAULTS.filter(isBodyFault)).toEqual(["tamperHash", "wrongSecret", "tamperField", "staleTimestamp", "secondsTimestamp", "missingHash", "malformedBody"]);
  });
});
