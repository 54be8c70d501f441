// The contract kit against reference merchants: the correct one passes everything, each broken one fails its own contract.

import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../sandbox/index.js";
import { formatJunit, formatText, runContracts, summarize, type ContractGroup, type Report } from "../contracts/index.js";
import { startReferenceMerchant, type MerchantBug, type ReferenceMerchant } from "./support/reference-merchant.js";
import { startSink } from "./support/sink.js";

const SECRET = "contract-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(bugs: MerchantBug[] = []): Promise<{ sandbox: Sandbox; url: string; merchant: ReferenceMerchant }> {
  const sandbox = createSandbox({ ipnTimeoutMs: 1000 });
  const { url } = await sandbox.listen(0);
  const merchant = await startReferenceMerchant({ sandboxUrl: url, secret: SECRET, bugs, reconcileEveryMs: 200, slowMs: 1500 });
  open.push(merchant, sandbox);
  return { sandbox, url, merchant };
}

async function verify(bugs: MerchantBug[], extra: Partial<Parameters<typeof runContracts>[0]> = {}): Promise<Report> {
  const { url, merchant } = await setup(bugs);
  return runContracts({
    sandboxUrl: url,
    ipnUrl: merchant.ipnUrl,
    ipnSecret: SECRET,
    checkoutUrl: merchant.checkoutUrl,
    stateUrl: merchant.stateUrlTemplate,
    ipnTimeoutMs: 1000,
    reconcileTimeoutMs: 3000,
    chromiumPath: null,
    ...extra,
  });
}

const outcome = (report: Report, id: string) => report.checks.find((c) => c.id === id);

describe("the correct merchant", () => {
  it("passes every contract, the browser walk included", async () => {
    const report = await verify([], { chromiumPath: undefined });
    const text = formatText(report);
    expect(report.passed, text).toBe(true);
    expect(report.checks.filter((c) => c.outcome !== "passed"), text).toEqual([]);
    expect(report.checks.map((c) => c.group)).toEqual(expect.arrayContaining(["signature", "encoding", "idempotency", "ordering", "finality", "timeliness", "reconcile", "callback", "replay"]));
    expect(outcome(report, "callback/browser")!.evidence.join("\n")).toContain("status=success");
  }, 60_000);
});

describe("each broken merchant fails its own contract, with the bug's evidence", () => {
  it.each<[MerchantBug, ContractGroup, string, RegExp]>([
    ["acceptsAnything", "signature", "signature/wrong-secret", /expected a refusal \(4xx\), got 2xx/],
    ["wrongFieldOrder", "signature", "signature/valid", /the sandbox hashed: [0-9a-f]{24}:waitPayment:/],
    ["missingHashAccepted", "signature", "signature/missing-hash", /got 2xx/],
    ["creditsTwice", "idempotency", "idempotency/duplicate", /credits changed/],
    ["regresses", "ordering", "ordering/late-in-progress", /your status is "processing"; after done it was "paid"/],
    ["paidOnAnyFinal", "finality", "finality/returned", /the same as a paid order's/],
    ["trustsReturnStatus", "callback", "callback/success-does-not-pay", /your status became "paid" with no payment/],
    ["crashesOnMalformed", "encoding", "encoding/malformed-body", /answered 500/],
    ["slow", "timeliness", "timeliness/every-answer", /did not answer in time/],
    ["returnPage500", "callback", "callback/answers", /→ 500/],
  ])("%s fails %s", async (bug, group, id, evidence) => {
    const report = await verify([bug], { only: [group] });
    const failed = outcome(report, id);
    expect(failed?.outcome, formatText(report)).toBe("failed");
    expect(failed!.evidence.join("\n")).toMatch(evidence);
    expect(failed!.hint).toBeTruthy();
    expect(report.passed).toBe(false);
  }, 30_000);

  it("returnPageScriptError fails the walk in Chromium with the page error", async () => {
    const report = await verify(["returnPageScriptError"], { only: ["callback"], chromiumPath: undefined });
    const walk = outcome(report, "callback/browser")!;
    expect(walk.outcome, formatText(report)).toBe("failed");
    expect(walk.evidence.join("\n")).toMatch(/page error .*boom/);
  }, 30_000);

  it("noReconcile fails the advisory lost-IPN contract without failing the run, unless reconcile is required", async () => {
    const advisory = await verify(["noReconcile"], { only: ["reconcile"], reconcileTimeoutMs: 1500 });
    expect(outcome(advisory, "reconcile/lost-done")).toMatchObject({ outcome: "failed", required: false });
    expect(advisory.passed).toBe(true);
    const required = await verify(["noReconcile"], { only: ["reconcile"], reconcileTimeoutMs: 1500, requireReconcile: true });
    expect(outcome(required, "reconcile/lost-done")).toMatchObject({ outcome: "failed", required: true });
    expect(required.passed).toBe(false);
  }, 30_000);

  it("ignoresTimestamp fails the advisory replay contract", async () => {
    const report = await verify(["ignoresTimestamp"], { only: ["replay"] });
    expect(outcome(report, "replay/old-ipn")).toMatchObject({ outcome: "failed", required: false });
    expect(outcome(report, "replay/old-ipn")!.evidence.join("\n")).toMatch(/a day-old IPN changed status/);
  }, 30_000);

  it("acceptsAnything also fails every other tampering check", async () => {
    const report = await verify(["acceptsAnything"], { only: ["signature"] });
    for (const id of ["wrong-secret", "altered-hash", "altered-amount", "altered-status", "missing-hash", "other-order-hash"]) {
      expect(outcome(report, `signature/${id}`)?.outcome, id).toBe("failed");
    }
  }, 30_000);
});

describe("without checkout and state URLs", () => {
  it("judges what HTTP answers show, says plainly what it could not judge, and never passes it", async () => {
    const { url, merchant } = await setup();
    const report = await runContracts({ sandboxUrl: url, ipnUrl: merchant.ipnUrl, ipnSecret: SECRET, ipnTimeoutMs: 1000, chromiumPath: null });
    const s = summarize(report.checks);
    expect(s.notJudged).toBeGreaterThan(0);
    for (const id of ["ordering/late-in-progress", "finality/returned", "reconcile/lost-done", "replay/old-ipn", "callback/success-does-not-pay"]) {
      expect(outcome(report, id)?.outcome, id).toBe("notJudged");
    }
    expect(outcome(report, "encoding/malformed-body")?.outcome).toBe("passed");
    expect(outcome(report, "timeliness/burst")?.outcome).toBe("passed");
    expect(formatText(report)).toContain("Not judged is not passed");
  }, 30_000);

  it("still catches a merchant that accepts anything", async () => {
    const sink = await startSink((_req, res) => res.writeHead(200).end("OK"));
    open.push(sink);
    const sandbox = createSandbox({ ipnTimeoutMs: 1000 });
    const { url } = await sandbox.listen(0);
    open.push(sandbox);
    const report = await runContracts({ sandboxUrl: url, ipnUrl: sink.url, ipnSecret: SECRET, ipnTimeoutMs: 1000, chromiumPath: null, only: ["signature", "encoding"] });
    expect(outcome(report, "signature/wrong-secret")?.outcome).toBe("failed");
    expect(outcome(report, "encoding/malformed-body")?.outcome).toBe("failed");
    expect(report.passed).toBe(false);
  }, 30_000);
});

describe("the JUnit report", () => {
  it("has a testsuite per contract, failures for failed checks and skipped for not judged", async () => {
    const report = await verify(["creditsTwice"], { only: ["idempotency", "ordering"], stateUrl: undefined, checkoutUrl: undefined });
    const xml = formatJunit(report);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    expect(xml.match(/<testsuite /g)?.length).toBe(new Set(report.checks.map((c) => c.group)).size);
    expect((xml.match(/<skipped /g) ?? []).length).toBe(summarize(report.checks).notJudged);
    expect(xml).not.toMatch(/<(?!\/?(testsuites|testsuite|testcase|failure|skipped|system-out)\b)[a-z]/);
  });
});
