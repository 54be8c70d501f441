// The kit's judgements as pure rules: answers to verdicts, state changes to verdicts, URLs to reachable or not.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnreachableUrl } from "../contracts/index.js";
import { judgeAnswers, type Expected, type Sent } from "../contracts/answers.js";
import { reachAll } from "../contracts/reach.js";
import { changedKeys, gainedFromDone, judgeStateChange, type StateExpectation, type StateRead } from "../contracts/state.js";

const sent = (outcome: Sent["outcome"], answer: number | null = null): Sent => ({
  id: "d1",
  status: "done",
  how: null,
  answer,
  bodyExcerpt: "",
  outcome,
  error: outcome === "broken" ? "other side closed" : null,
  latencyMs: 3,
  record: null,
});

describe("judgeAnswers", () => {
  const run = { crashesOnValid: false, timeoutMs: 1000 };
  it.each<[string, Sent, Expected, string, RegExp | null]>([
    ["a 403 to a forgery", sent("answered", 403), "refused", "ok", null],
    ["a 200 to a forgery", sent("answered", 200), "refused", "fail", /expected a refusal \(4xx\), got 200$/],
    ["a redirect to a forgery", sent("answered", 302), "refused", "fail", /a redirect is not a refusal/],
    ["a 500 to a forgery: a crash, not a refusal", sent("answered", 500), "refused", "fail", /got 500: your handler crashed/],
    ["a reset connection", sent("broken"), "refused", "fail", /got no answer to d1: other side closed/],
    ["no answer in time: not judged", sent("timeout"), "refused", "notJudged", /no answer to d1 within the timeout \(1000 ms\)/],
    ["a 200 to a valid IPN", sent("answered", 200), "accepted", "ok", null],
    ["a 403 to a valid IPN", sent("answered", 403), "accepted", "fail", /expected 2xx, got 403/],
    ["a 409 to a late IPN", sent("answered", 409), "answered", "ok", null],
    ["a 503 to a late IPN", sent("answered", 503), "answered", "fail", /got 503: your handler crashed/],
    ["a dropped IPN alone: nothing to judge", sent("dropped"), "refused", "ok", null],
  ])("%s", (_name, one, expected, kind, text) => {
    const verdict = judgeAnswers([one], expected, run);
    expect(verdict.kind).toBe(kind);
    if (text) expect(verdict.kind === "fail" ? verdict.line : verdict.kind === "notJudged" ? verdict.why : "").toMatch(text);
  });

  it("gives a crash and a timeout their own hints, never the check's", () => {
    const crash = judgeAnswers([sent("answered", 500)], "refused", run);
    const timeout = judgeAnswers([sent("timeout")], "refused", run);
    const broken = judgeAnswers([sent("broken")], "refused", run);
    const refusedWrongly = judgeAnswers([sent("answered", 200)], "refused", run);
    expect(crash.kind === "fail" && crash.hint).toMatch(/crashed/);
    expect(timeout.kind === "notJudged" && timeout.hint).toMatch(/timeliness\/every-answer carries this verdict/);
    expect(broken.kind === "fail" && broken.hint).toMatch(/closed the connection/);
    expect(refusedWrongly.kind === "fail" && refusedWrongly.hint).toBeNull();
  });

  it("leaves a 5xx unjudged when correctly signed IPNs get one too, except on the valid path itself", () => {
    const same = { crashesOnValid: true, timeoutMs: 1000 };
    expect(judgeAnswers([sent("answered", 500)], "refused", same)).toMatchObject({ kind: "notJudged", why: expect.stringMatching(/as correctly signed IPNs do/) });
    expect(judgeAnswers([sent("answered", 500)], "accepted", { ...same, validPath: true })).toMatchObject({ kind: "fail" });
  });

  it("prefers a failure over a timeout, and a timeout over a pass", () => {
    expect(judgeAnswers([sent("timeout"), sent("answered", 200)], "refused", run).kind).toBe("fail");
    expect(judgeAnswers([sent("answered", 403), sent("timeout")], "refused", run).kind).toBe("notJudged");
  });
});

const doc = (document: unknown): StateRead => ({ document, status: null });
const DONE = changedKeys({ status: "processing", credits: 0, paid: false }, { status: "paid", credits: 1, paid: true });

describe("judgeStateChange", () => {
  it.each<[string, StateRead, StateRead, StateExpectation, string, RegExp]>([
    ["an unchanged document, timestamps aside", doc({ status: "paid", updatedAt: 1 }), doc({ status: "paid", updatedAt: 2 }), { kind: "unchanged" }, "ok", /state unchanged/],
    ["a nested change", doc({ order: { state: "done", balance: "1" } }), doc({ order: { state: "done", balance: "2" } }), { kind: "unchanged" }, "broken", /order\.balance "1" → "2"/],
    ["an applied IPN", doc({ status: "new" }), doc({ status: "paid" }), { kind: "changed" }, "ok", /state after x/],
    ["an IPN that changed nothing", doc({ status: "new", seenAt: 1 }), doc({ status: "new", seenAt: 2 }), { kind: "changed" }, "broken", /\(unchanged\)/],
    ["returned as its own status", doc({ status: "processing", credits: 0, paid: false }), doc({ status: "failed", credits: 0, paid: false }), { kind: "notPaid", done: DONE }, "ok", /none of what done gives/],
    ["a credit on returned while the status mirrors it", doc({ status: "inProgress", credits: 0, paid: false }), doc({ status: "returned", credits: 1, paid: false }), { kind: "notPaid", done: DONE }, "broken", /gained what done gives: credits 0 → 1$/m],
    ["returned treated as paid", doc({ status: "processing", credits: 0 }), doc({ status: "paid", credits: 1 }), { kind: "notPaid", done: DONE }, "broken", /status "processing" → "paid", credits 0 → 1/],
    ["a state URL that failed", { error: "GET /x answered 500" }, doc({}), { kind: "unchanged" }, "unreadable", /./],
  ])("%s", (_name, before, after, expectation, kind, text) => {
    const judged = judgeStateChange(before, after, expectation, "x");
    expect(judged.kind).toBe(kind);
    expect(judged.kind === "unreadable" ? judged.error : judged.lines.join("\n")).toMatch(text);
  });

  it("counts only what takes done's value and did not have it before", () => {
    expect(gainedFromDone({ credits: 1 }, { credits: 1 }, DONE)).toEqual([]);
    expect(gainedFromDone({ credits: 0 }, { credits: 2 }, DONE)).toEqual([]);
    expect(gainedFromDone({ paid: false }, { paid: true }, DONE)).toEqual([{ path: "paid", before: false, after: true }]);
  });
});

describe("reachAll", () => {
  let server: Server;
  let port: number;
  let closedPort: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("passes when every URL accepts a connection, and sends no request", async () => {
    let requests = 0;
    server.on("request", () => requests++);
    await reachAll([{ flag: "--ipn-url", url: `http://127.0.0.1:${port}/ipn` }, { flag: "--checkout-url", url: `http://127.0.0.1:${port}/checkout` }], 5000);
    expect(requests).toBe(0);
  });

  it.each<[string, () => string, RegExp]>([
    ["a refused connection", () => `http://127.0.0.1:${closedPort}/ipn`, /ECONNREFUSED/],
    ["a name that does not resolve", () => "http://nothing-here.invalid/ipn", /nothing-here\.invalid/],
    ["a TLS handshake with a plain HTTP server", () => `https://127.0.0.1:${port}/ipn`, /./],
  ])("throws UnreachableUrl naming the option and the URL for %s", async (_name, url, reason) => {
    const error = await reachAll([{ flag: "--checkout-url", url: `http://127.0.0.1:${port}/c` }, { flag: "--callback-url", url: url() }], 5000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableUrl);
    expect(error).toMatchObject({ flag: "--callback-url", url: url() });
    expect((error as UnreachableUrl).reason).toMatch(reason);
    expect((error as Error).message).toBe(`cannot reach --callback-url ${url()}: ${(error as UnreachableUrl).reason}`);
  });
});
