// The contract kit's runs beyond the mutation matrix: partial URLs, bare sinks, the kit's own sandbox, the reports.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams, type Sandbox } from "../sandbox/index.js";
import { formatJson, formatJunit, formatText, runContracts, summarize, UnreachableUrl, type Report } from "../contracts/index.js";
import { startReferenceMerchant, type MerchantBug, type ReferenceMerchant } from "./support/reference-merchant.js";
import { startSink } from "./support/sink.js";

const SECRET = "contract-secret";
const TIMEOUT_MS = 5000;
let sandbox: Sandbox;
let url: string;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  sandbox = createSandbox({ ipnTimeoutMs: TIMEOUT_MS });
  url = (await sandbox.listen(0)).url;
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function reference(bugs: MerchantBug[] = []): Promise<ReferenceMerchant> {
  const merchant = await startReferenceMerchant({ sandboxUrl: url, secret: SECRET, bugs, reconcileEveryMs: 100 });
  open.push(merchant);
  return merchant;
}

const outcome = (report: Report, id: string) => report.checks.find((c) => c.id === id);

describe("without checkout and state URLs", () => {
  it("judges what HTTP answers show, says plainly what it could not judge, and never passes it", async () => {
    const merchant = await reference();
    const report = await runContracts({ sandboxUrl: url, ipnUrl: merchant.ipnUrl, ipnSecret: SECRET, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null });
    expect(summarize(report.checks).notJudged).toBeGreaterThan(0);
    for (const id of ["ordering/late-in-progress", "finality/returned", "reconcile/lost-done", "replay/old-ipn", "callback/success-does-not-pay"]) {
      expect(outcome(report, id)?.outcome, id).toBe("notJudged");
    }
    expect(outcome(report, "signature/valid")).toMatchObject({ outcome: "notJudged", evidence: [expect.stringMatching(/needs --checkout-url.*answered 404/)] });
    for (const id of ["encoding/malformed-body", "encoding/missing-field", "encoding/json-body", "timeliness/burst"]) expect(outcome(report, id)?.outcome, id).toBe("passed");
    expect(report.learned).toBeNull();
    expect(formatText(report)).toContain("Not judged is not passed");
  }, 60_000);

  it("still catches a merchant that accepts anything", async () => {
    const sink = await startSink((_req, res) => res.writeHead(200).end("OK"));
    open.push(sink);
    const report = await runContracts({ sandboxUrl: url, ipnUrl: sink.url, ipnSecret: SECRET, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null, only: ["signature", "encoding"] });
    for (const id of ["signature/wrong-secret", "encoding/malformed-body", "encoding/empty-body", "encoding/json-body"]) expect(outcome(report, id)?.outcome, id).toBe("failed");
    expect(report.passed).toBe(false);
  }, 60_000);

  it("fails a merchant that answers 500 to every IPN as a crash, once, and judges nothing else by it", async () => {
    const sink = await startSink((_req, res) => res.writeHead(500).end("boom"));
    open.push(sink);
    const report = await runContracts({ sandboxUrl: url, ipnUrl: sink.url, ipnSecret: SECRET, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null, only: ["signature", "encoding"] });
    expect(report.checks.filter((c) => c.outcome === "failed").map((c) => c.id)).toEqual(["signature/valid"]);
    expect(outcome(report, "signature/valid")!.evidence.join("\n")).toMatch(/expected 2xx, got 500: your handler crashed/);
    expect(outcome(report, "signature/valid")!.hint).toMatch(/crashed \(5xx\) on a correctly signed IPN/);
    expect(outcome(report, "encoding/empty-body")!.evidence[0]).toMatch(/not judged: k\d+ got 500, as correctly signed IPNs do/);
  }, 60_000);
});

describe("the kit's own sandbox", () => {
  it("is seeded with --seed: the same seed gives the same orders, another seed others", async () => {
    const orderIds = async (seed: number) => {
      const sink = await startSink((_req, res) => res.writeHead(403).end());
      open.push(sink);
      await runContracts({ sandboxPort: 0, seed, ipnUrl: sink.url, ipnSecret: SECRET, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null, only: ["signature"] });
      return sink.received.map((r) => r.form.get("orderId")).filter(Boolean)[0];
    };
    const expected = createSandbox({ seed: 42 });
    const route = expected.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
    const res = await expected.app.request("/service/api/v1/public/exchanger/order/create/", {
      method: "POST",
      body: JSON.stringify(exampleCreateParams(route, { ipnUrl: "http://127.0.0.1:1/ipn", ipnSecret: SECRET })),
      headers: { "content-type": "application/json" },
    });
    const first = ((await res.json()) as { data: { _id: string } }).data._id;
    await expected.close();
    // An ObjectId's first 8 digits are its creation second; the rest comes from the seed.
    const seeded = (id: string | null | undefined) => id?.slice(8);
    expect(seeded(await orderIds(42))).toBe(seeded(first));
    expect(seeded(await orderIds(43))).not.toBe(seeded(first));
  }, 60_000);

  it("is never started when a URL cannot be reached: the run stops naming it", async () => {
    const closed = await startSink();
    const dead = closed.url;
    await closed.close();
    const merchant = await reference();
    const error = await runContracts({ sandboxPort: 0, ipnUrl: merchant.ipnUrl, ipnSecret: SECRET, checkoutUrl: merchant.checkoutUrl, callbackUrl: dead }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableUrl);
    expect((error as Error).message).toMatch(new RegExp(`^cannot reach --callback-url ${dead}: connect ECONNREFUSED`));
  });
});

describe("the reports", () => {
  it("say what the kit learned a paid order looks like, in text and JSON", async () => {
    const merchant = await reference();
    const report = await runContracts({ sandboxUrl: url, ipnUrl: merchant.ipnUrl, ipnSecret: SECRET, checkoutUrl: merchant.checkoutUrl, stateUrl: merchant.stateUrlTemplate, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null, only: ["signature"] });
    expect(report.learned).toMatchObject({
      paidDocument: { status: "paid", credits: 1 },
      doneChanged: [
        { path: "status", before: "processing", after: "paid" },
        { path: "credits", before: 0, after: 1 },
      ],
    });
    expect(formatText(report).split("\n")[1]).toMatch(/^learned: done changes status "processing" → "paid", credits 0 → 1 in your state; a paid order looks like \{"orderId":"[0-9a-f]{24}","status":"paid","credits":1\}$/);
    expect(JSON.parse(formatJson(report))).toMatchObject({ learned: report.learned, setup: { sandboxUrl: url, sandboxVersion: expect.any(String) } });
  }, 60_000);

  it("show the sandbox's seed in the setup line when its health answer has one, and nothing when not", () => {
    const base: Report = {
      passed: true,
      checks: [],
      setup: { sandboxUrl: "http://127.0.0.1:7070", sandboxVersion: "0.1.0", seed: 42, ipnUrl: "http://127.0.0.1:3000/ipn", checkoutUrl: null, stateUrl: null, callbackUrl: null, ipnTimeoutMs: 10_000 },
      learned: null,
      startedAt: new Date(0).toISOString(),
      durationMs: 0,
    };
    expect(formatText(base).split("\n")[0]).toBe("exchanger-sandbox verify: http://127.0.0.1:3000/ipn against the sandbox at http://127.0.0.1:7070 (version 0.1.0, seed 42)");
    expect(formatText({ ...base, setup: { ...base.setup, seed: null } }).split("\n")[0]).toMatch(/\(version 0\.1\.0\)$/);
  });

  it("JUnit: a testsuite per contract, failures for failed checks and skipped for not judged", async () => {
    const merchant = await reference(["creditsTwice"]);
    const report = await runContracts({ sandboxUrl: url, ipnUrl: merchant.ipnUrl, ipnSecret: SECRET, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null, only: ["idempotency", "ordering"] });
    const xml = formatJunit(report);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
    expect(xml.match(/<testsuite /g)?.length).toBe(new Set(report.checks.map((c) => c.group)).size);
    expect((xml.match(/<skipped /g) ?? []).length).toBe(summarize(report.checks).notJudged);
    expect(xml).toContain('<skipped message="not judged: needs --state-url');
    expect(xml).not.toMatch(/<(?!\/?(testsuites|testsuite|testcase|failure|skipped|system-out)\b)[a-z]/);
  }, 60_000);
});
