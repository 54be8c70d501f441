// The scenario engine end to end: every built-in story against a real merchant, on the instant clock.

import { afterEach, describe, expect, it } from "vitest";
import { STATUSES } from "../sandbox/index.js";
import { BUILTIN_SCENARIOS, findBuiltinScenario, formatTranscriptJson, runScenarios, type Transcript } from "../scenarios/index.js";
import { startMerchant, type Merchant } from "./support/merchant.js";

const SECRET = "scenario-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function merchant(): Promise<Merchant> {
  const m = await startMerchant(SECRET);
  open.push(m);
  return m;
}

async function run(name: string, m: Merchant): Promise<Transcript> {
  const [transcript] = await runScenarios({ scenarios: [findBuiltinScenario(name)!], ipnUrl: m.url, ipnSecret: SECRET });
  return transcript!;
}

const statuses = (m: Merchant) => m.verdicts.filter((v) => v.valid).map((v) => v.fields!.newStatus);
const ipns = (t: Transcript) => t.events.filter((e) => e.kind === "ipn") as Extract<Transcript["events"][number], { kind: "ipn" }>[];

describe("built-in scenarios against a correct merchant", () => {
  it.each(BUILTIN_SCENARIOS.filter((s) => s.name !== "lost-done-ipn").map((s) => [s.name]))("%s passes, and the delivery log accounts for every IPN", async (name) => {
    const m = await merchant();
    const transcript = await run(name, m);
    expect(transcript.passed, JSON.stringify(transcript.events, null, 1)).toBe(true);
    const sent = ipns(transcript).filter((e) => e.outcome !== "dropped");
    expect(m.received).toHaveLength(sent.length);
    expect(ipns(transcript).every((e) => e.outcome !== "pending" && e.outcome !== "held")).toBe(true);
  });

  it("happy-path: the merchant sees every status in order, each correctly signed", async () => {
    const m = await merchant();
    await run("happy-path", m);
    expect(statuses(m)).toEqual(["waitPayment", "inProgress", "inProgressPayout", "done"]);
    expect(m.verdicts.every((v) => v.valid)).toBe(true);
  });

  it("duplicate-ipn: the done IPN arrives three times with identical bodies", async () => {
    const m = await merchant();
    await run("duplicate-ipn", m);
    const done = m.received.filter((r) => r.form.get("newStatus") === "done");
    expect(done).toHaveLength(3);
    expect(new Set(done.map((r) => r.body)).size).toBe(1);
  });

  it("drop-once: the first done IPN is lost and one identical copy arrives", async () => {
    const m = await merchant();
    const transcript = await run("drop-once", m);
    expect(m.received.filter((r) => r.form.get("newStatus") === "done")).toHaveLength(1);
    const dones = ipns(transcript).filter((e) => e.status === "done");
    expect(dones.map((e) => e.outcome)).toEqual(["dropped", "accepted"]);
  });

  it("out-of-order: the merchant receives done before the held-back inProgressPayout", async () => {
    const m = await merchant();
    await run("out-of-order", m);
    expect(statuses(m)).toEqual(["waitPayment", "inProgress", "done", "inProgressPayout"]);
  });

  it.each([["tampered-hash"], ["wrong-secret"], ["tampered-field"], ["missing-hash"]])("%s: the tampered IPN fails verification with the true secret", async (name) => {
    const m = await merchant();
    const transcript = await run(name, m);
    const invalid = m.verdicts.filter((v) => !v.valid);
    expect(invalid).toHaveLength(1);
    expect(ipns(transcript).filter((e) => e.responseStatus === 403)).toHaveLength(1);
  });

  it("malformed-body: the merchant cannot decode the body", async () => {
    const m = await merchant();
    await run("malformed-body", m);
    expect(m.verdicts).toHaveLength(1);
    expect(m.verdicts[0]!.fields).toBeNull();
  });

  it("expired: the order expires to deleted after its payment window, with an IPN", async () => {
    const m = await merchant();
    const transcript = await run("expired", m);
    expect(statuses(m)).toEqual(["waitPayment", "deleted"]);
    const expiry = transcript.events.find((e) => e.kind === "status" && e.to === "deleted");
    expect(expiry).toMatchObject({ cause: "expiry", at: 30 * 60_000 });
  });

  it("lost-done-ipn: fails for a merchant that never reconciles through order/get", async () => {
    const m = await merchant();
    const scenario = { ...findBuiltinScenario("lost-done-ipn")!, steps: findBuiltinScenario("lost-done-ipn")!.steps.map((s) => ("waitFor" in s ? { ...s, timeout: "300ms" } : s)) };
    const [transcript] = await runScenarios({ scenarios: [scenario], ipnUrl: m.url, ipnSecret: SECRET });
    expect(transcript!.passed).toBe(false);
    expect(transcript!.events.find((e) => e.kind === "waitFor")).toMatchObject({ happened: false });
    expect(statuses(m)).not.toContain("done");
  });

  it("together, the built-in scenarios reach every status in the docs", async () => {
    const m = await merchant();
    const transcripts = await runScenarios({ scenarios: BUILTIN_SCENARIOS.filter((s) => s.name !== "lost-done-ipn"), ipnUrl: m.url, ipnSecret: SECRET });
    const reached = new Set(transcripts.flatMap((t) => t.events.flatMap((e) => (e.kind === "status" ? [e.to] : []))));
    expect([...reached].sort()).toEqual([...STATUSES].sort());
  });
});

describe("the instant clock and determinism", () => {
  it("plays a day of scripted waits without waiting for it", async () => {
    const m = await merchant();
    // Done within the test's own timeout: a day of sandbox time with the wall clock hardly moving.
    const transcript = await run("hold-then-returned", m);
    const returned = transcript.events.find((e) => e.kind === "status" && e.to === "returned")!;
    expect(returned.at).toBeGreaterThanOrEqual(86_400_000);
    // IPN timestamps follow sandbox time, not the wall clock.
    const times = m.received.map((r) => Number(r.form.get("timestamp")));
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(86_400_000);
  });

  it("gives byte-identical JSON transcripts for the same seed", async () => {
    const m = await merchant();
    const scenarios = ["happy-path", "duplicate-ipn", "out-of-order", "tampered-hash"].map((n) => findBuiltinScenario(n)!);
    const first = formatTranscriptJson(await runScenarios({ scenarios, ipnUrl: m.url, ipnSecret: SECRET, seed: 5 }), { timings: false });
    const bodiesFirst = m.received.map((r) => r.body);
    m.received.length = 0;
    const second = formatTranscriptJson(await runScenarios({ scenarios, ipnUrl: m.url, ipnSecret: SECRET, seed: 5 }), { timings: false });
    expect(second).toBe(first);
    expect(m.received.map((r) => r.body)).toEqual(bodiesFirst);
  });

  it("gives other ids and amounts for another seed", async () => {
    const m = await merchant();
    // ETH → WMZ keeps the docs' rate for every seed; another route's rate follows the seed.
    const scenarios = [{ ...findBuiltinScenario("happy-path")!, route: "BTC>USDTTRC20" }];
    const a = await runScenarios({ scenarios, ipnUrl: m.url, ipnSecret: SECRET, seed: 1 });
    const b = await runScenarios({ scenarios, ipnUrl: m.url, ipnSecret: SECRET, seed: 2 });
    expect(a[0]!.order.outAmount).not.toBe(b[0]!.order.outAmount);
  });
});

describe("expectations", () => {
  it("fail when the merchant answers 500 to everything", async () => {
    const { startSink } = await import("./support/sink.js");
    const broken = await startSink((_req, res) => res.writeHead(500).end("boom"));
    open.push(broken);
    const [transcript] = await runScenarios({ scenarios: [findBuiltinScenario("happy-path")!], ipnUrl: broken.url, ipnSecret: SECRET });
    expect(transcript!.passed).toBe(false);
    expect(transcript!.events.filter((e) => e.kind === "expect" && !e.ok).length).toBeGreaterThan(0);
  });

  it("fail when a merchant accepts a tampered IPN", async () => {
    const { startSink } = await import("./support/sink.js");
    const gullible = await startSink((_req, res) => res.writeHead(200).end("OK"));
    open.push(gullible);
    const [transcript] = await runScenarios({ scenarios: [findBuiltinScenario("tampered-hash")!], ipnUrl: gullible.url, ipnSecret: SECRET });
    expect(transcript!.passed).toBe(false);
    expect(transcript!.events.find((e) => e.kind === "expect" && !e.ok)).toMatchObject({ expectation: "rejected" });
  });
});
