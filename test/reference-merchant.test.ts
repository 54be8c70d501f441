// The reference merchant the contract kit is tested against: the correct one behaves end to end through a real
// sandbox, and each MerchantBug really breaks its one behaviour (so the kit's own tests can rely on it).

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClock, type Clock, type DeliveryRecord, type FaultSpec, type OrderStatus } from "../sandbox/index.js";
import { startSandbox, type RunningSandbox } from "./support/sandbox.js";
import {
  MERCHANT_BUGS,
  startReferenceMerchant,
  type MerchantBug,
  type ReferenceMerchant,
  type ReferenceMerchantOptions,
} from "./support/reference-merchant.js";
import { HANG_GUARD_MS, until } from "./support/wait.js";

const SECRET = "reference-merchant-secret";
/** A guard against a hang on the merchant's own HTTP answers, never a deadline they must beat. */
const SETTLE_MS = HANG_GUARD_MS;
/** Far apart, so that letting a held answer go (SLOW_MS) never sets a poll off as well. */
const RECONCILE_EVERY_MS = 60_000;
const SLOW_MS = 600;

let sb: RunningSandbox;
/** The merchants a test started, each with the manual clock its polls and held-back answers wait on. */
const open: ReferenceMerchant[] = [];
const clocks = new Map<ReferenceMerchant, Clock>();

beforeAll(async () => {
  sb = await startSandbox();
});
afterAll(async () => {
  await sb.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  clocks.clear();
});

/**
 * A merchant on the shared sandbox. Its polls and held-back answers wait on a manual clock of its own: a poll goes
 * out only when the test moves that clock RECONCILE_EVERY_MS forward (`reconcile`), a held answer when settling
 * lets it go.
 */
async function startMerchant(bugs: MerchantBug[] = [], options: Partial<ReferenceMerchantOptions> = {}) {
  const clock = createClock("manual", { startAt: 0 });
  const m = await startReferenceMerchant({ sandboxUrl: sb.url, secret: SECRET, bugs, reconcileEveryMs: RECONCILE_EVERY_MS, slowMs: SLOW_MS, clock, ...options });
  open.push(m);
  clocks.set(m, clock);
  return m;
}

/** Lets the merchant's next order/get poll go out, if it plans one, and waits for it to be done with the answer. */
async function reconcile(m: ReferenceMerchant) {
  const clock = clocks.get(m)!;
  clock.advance(Math.max(0, (clock.nextTimerAt() ?? clock.now() + RECONCILE_EVERY_MS) - clock.now()));
  await m.reconciled();
}

interface Checkout {
  orderId: string;
  uid: number;
  ref: string;
  paymentUrl: string;
}

async function checkout(m: ReferenceMerchant): Promise<Checkout> {
  const res = await fetch(m.checkoutUrl, { method: "POST", signal: AbortSignal.timeout(SETTLE_MS) });
  const json = (await res.json()) as Checkout;
  expect(res.status, JSON.stringify(json)).toBe(201);
  return json;
}

async function state(m: ReferenceMerchant, orderId: string): Promise<{ orderId: string; status: string; credits: number }> {
  const res = await fetch(m.stateUrlTemplate.replace("{orderId}", orderId), { signal: AbortSignal.timeout(SETTLE_MS) });
  expect(res.status).toBe(200);
  return (await res.json()) as { orderId: string; status: string; credits: number };
}

/**
 * Waits until each record is answered (or deliberately not sent). A merchant holding an answer back (`slow`,
 * `regressesLate`) gets there at once: its clock is moved on by the wait.
 */
async function settle(records: DeliveryRecord[]): Promise<DeliveryRecord[]> {
  const settled = () => records.map((record) => sb.sandbox.store.getDelivery(record.id)!);
  await until(() => {
    for (const [m, clock] of clocks) if (m.holding() > 0) clock.advance(SLOW_MS);
    return settled().every((record) => record.outcome !== "pending" && record.outcome !== "held");
  }, `deliveries ${records.map((r) => r.id).join(", ")} to be answered`);
  return settled();
}

/** Fires an IPN for the order at the merchant without moving the order (a tampered copy, a late status…). */
async function sendIpn(m: ReferenceMerchant, uid: number, status: OrderStatus, fault: FaultSpec = "deliver") {
  const { status: http, json } = await sb.control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status, orderUID: uid, fault });
  expect(http, JSON.stringify(json)).toBe(201);
  return settle((json as { deliveries: DeliveryRecord[] }).deliveries);
}

/** Moves the sandbox order (forced) and waits for the IPN records the move made. */
async function move(uid: number, status: OrderStatus, fault: FaultSpec = "deliver") {
  const before = new Set(((await sb.control("GET", `/deliveries?orderUID=${uid}`)).json.deliveries as DeliveryRecord[]).map((d) => d.id));
  const moved = await sb.control("POST", `/orders/${uid}/status`, { status, force: true, fault });
  expect(moved.status, JSON.stringify(moved.json)).toBe(200);
  const after = (await sb.control("GET", `/deliveries?orderUID=${uid}`)).json.deliveries as DeliveryRecord[];
  return settle(after.filter((d) => !before.has(d.id)));
}

const answers = (records: DeliveryRecord[]) => records.map((r) => r.response?.status ?? r.outcome);

async function returnPage(m: ReferenceMerchant, ref: string, status: string) {
  const res = await fetch(`${m.callbackUrl}?order=${encodeURIComponent(ref)}&status=${encodeURIComponent(status)}`, {
    signal: AbortSignal.timeout(SETTLE_MS),
  });
  return { status: res.status, csp: res.headers.get("content-security-policy"), html: await res.text() };
}


describe("the correct reference merchant", () => {
  it("creates an ETH → WMZ order on the sandbox at checkout, with its ipnUrl, secret and return URL", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    expect(order.orderId).toMatch(/^[0-9a-f]{24}$/);
    expect(order.paymentUrl).toBe(`${sb.url}/en/payment/${order.uid}/${m.orders.get(order.orderId)!.secret}/`);
    expect((await fetch(order.paymentUrl, { signal: AbortSignal.timeout(SETTLE_MS) })).status).toBe(200);

    const sandboxOrder = sb.sandbox.store.getOrder(order.uid)!;
    expect(sandboxOrder).toMatchObject({ _id: order.orderId, ipnUrl: m.ipnUrl, ipnSecret: SECRET, status: "new" });
    expect(sandboxOrder.clientCallbackUrl).toBe(`${m.callbackUrl}?order=${order.ref}`);
    expect([sandboxOrder.route.from.xml, sandboxOrder.route.to.xml]).toEqual(["ETH", "WMZ"]);
    expect(await state(m, order.orderId)).toEqual({ orderId: order.orderId, status: "pending", credits: 0 });
  });

  it("answers 404 for an order it does not know, in its state view and its IPN handler", async () => {
    const m = await startMerchant();
    const res = await fetch(m.stateUrlTemplate.replace("{orderId}", "5d8e6002b80b7b4cd75a6424"));
    expect(res.status).toBe(404);
    expect(await res.json()).toHaveProperty("error");
    // A test IPN without orderUID carries the docs' sample order, which this merchant never created.
    const { json } = await sb.control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status: "done" });
    expect(answers(await settle(json.deliveries))).toEqual([404]);
  });

  it("marks the order paid once on a valid done, and a duplicate keeps one credit", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    const [first] = await move(order.uid, "done");
    expect(first).toMatchObject({ outcome: "accepted", response: { status: 200, bodyExcerpt: "OK" } });
    expect(await state(m, order.orderId)).toMatchObject({ status: "paid", credits: 1 });

    expect(answers(await sendIpn(m, order.uid, "done", { type: "duplicate", copies: 3 }))).toEqual([200, 200, 200]);
    expect(await state(m, order.orderId)).toMatchObject({ status: "paid", credits: 1 });
  });

  it.each<[string, FaultSpec]>([
    ["wrongSecret", "wrongSecret"],
    ["tamperHash", "tamperHash"],
    ["missingHash", "missingHash"],
    ["tamperField outAmount", "tamperField"],
    ["tamperField newStatus", { type: "tamperField", field: "newStatus" }],
    ["tamperField orderId", { type: "tamperField", field: "orderId" }],
  ])("refuses a %s IPN with a 4xx and leaves the state", async (_name, fault) => {
    const m = await startMerchant();
    const order = await checkout(m);
    const [record] = await sendIpn(m, order.uid, "done", fault);
    expect(record!.response?.status).toBeGreaterThanOrEqual(400);
    expect(record!.response?.status).toBeLessThan(500);
    expect(await state(m, order.orderId)).toEqual({ orderId: order.orderId, status: "pending", credits: 0 });
  });

  it("answers 400 to a malformed body, a body missing fields and an empty body", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    expect(answers(await sendIpn(m, order.uid, "done", "malformedBody"))).toEqual([400]);
    for (const body of ["", "orderId=x&hash=y", "not a form at all %E0%A4%A"]) {
      const res = await fetch(m.ipnUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(res.status, body).toBe(400);
    }
    expect(await state(m, order.orderId)).toMatchObject({ status: "pending", credits: 0 });
  });

  it("keeps a final state: a late inProgress after done, and errors after done, change nothing", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    await move(order.uid, "done");
    for (const status of ["inProgress", "waitPayment", "returned", "errorPayment"] as const) {
      expect(answers(await sendIpn(m, order.uid, status)), status).toEqual([200]);
    }
    expect(await state(m, order.orderId)).toMatchObject({ status: "paid", credits: 1 });
  });

  it.each(["returned", "deleted", "errorPayment"] as const)("treats %s as failed, not paid", async (status) => {
    const m = await startMerchant();
    const order = await checkout(m);
    expect(answers(await sendIpn(m, order.uid, status))).toEqual([200]);
    expect(await state(m, order.orderId)).toMatchObject({ status: "failed", credits: 0 });
  });

  it("follows the non-final statuses as processing", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    await move(order.uid, "waitPayment");
    expect(await state(m, order.orderId)).toMatchObject({ status: "processing", credits: 0 });
    await move(order.uid, "inProgress");
    await move(order.uid, "hold");
    expect(await state(m, order.orderId)).toMatchObject({ status: "processing", credits: 0 });
  });

  it("ignores a replayed IPN a day old and one older than an IPN already applied, answering 200", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    const [stale] = await sendIpn(m, order.uid, "done", "staleTimestamp");
    expect(stale).toMatchObject({ response: { status: 200, bodyExcerpt: "ignored: too old" } });
    expect(answers(await sendIpn(m, order.uid, "done", "secondsTimestamp"))).toEqual([200]);
    expect(await state(m, order.orderId)).toMatchObject({ status: "pending", credits: 0 });

    await sendIpn(m, order.uid, "inProgress");
    const [older] = await sendIpn(m, order.uid, "returned", { type: "staleTimestamp", ms: 60_000 });
    expect(older?.response?.bodyExcerpt).toBe("ignored: older than an IPN already applied");
    expect(await state(m, order.orderId)).toMatchObject({ status: "processing", credits: 0 });
  });

  it("shows a script-free thank-you page for any return status and never changes the state from it", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    for (const status of ["success", "error", "<b>junk</b>", ""]) {
      const page = await returnPage(m, order.ref, status);
      expect(page.status, status).toBe(200);
      expect(page.html).toContain("Thank you");
      expect(page.html).not.toContain("<script");
      expect(page.html).not.toContain("<b>junk");
      expect(page.csp).toBe("default-src 'none'");
    }
    expect((await returnPage(m, order.ref, "<b>junk</b>")).html).toContain("&#60;b&#62;junk&#60;/b&#62;");
    expect((await returnPage(m, "no-such-ref", "success")).status).toBe(200);
    expect(await state(m, order.orderId)).toMatchObject({ status: "pending", credits: 0 });
  });

  it("learns through order/get that the order is done when the done IPN is dropped, and stops polling then", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    expect((await move(order.uid, "done", "drop")).map((r) => r.outcome)).toEqual(["dropped"]);
    expect(await state(m, order.orderId)).toMatchObject({ status: "pending", credits: 0 });
    await reconcile(m);
    expect(await state(m, order.orderId)).toMatchObject({ status: "paid", credits: 1 });
    expect([m.polls, sb.sandbox.orders.readCount(order.uid)]).toEqual([1, 1]);
    expect(m.orders.get(order.orderId)!.history.some((line) => line.startsWith("reconcile done"))).toBe(true);
    // Final: no next poll is planned.
    expect(clocks.get(m)!.nextTimerAt()).toBeNull();
  });

  it("polls an unfinished order again and again, and never once closed", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    await reconcile(m);
    await reconcile(m);
    expect([m.polls, sb.sandbox.orders.readCount(order.uid)]).toEqual([2, 2]);
    expect(clocks.get(m)!.nextTimerAt()).not.toBeNull();
    await m.close();
    expect(clocks.get(m)!.nextTimerAt()).toBeNull();
    clocks.get(m)!.advance(10 * RECONCILE_EVERY_MS);
    expect(m.polls).toBe(2);
  });

  it("answers 500 JSON at checkout when the sandbox is not there", async () => {
    const m = await startMerchant([], { sandboxUrl: "http://127.0.0.1:9" });
    const res = await fetch(m.checkoutUrl, { method: "POST", signal: AbortSignal.timeout(SETTLE_MS * 2) });
    expect(res.status).toBe(500);
    expect(await res.json()).toHaveProperty("error");
  });
});

interface BugCase {
  /** What the probe shows for the correct merchant, and for the merchant with this bug. */
  correct: unknown;
  buggy: unknown;
  options?: Partial<ReferenceMerchantOptions>;
  probe(m: ReferenceMerchant): Promise<unknown>;
}

/** One probe per bug, run on a correct and on a buggy merchant: the two must see what is stated. */
const BUG_CASES: Record<MerchantBug, BugCase> = {
  acceptsAnything: {
    correct: [[403], "pending"],
    buggy: [[200], "paid"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await sendIpn(m, order.uid, "done", "wrongSecret")), (await state(m, order.orderId)).status];
    },
  },
  wrongFieldOrder: {
    correct: [[200], "paid"],
    buggy: [[403], "pending"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await move(order.uid, "done")), (await state(m, order.orderId)).status];
    },
  },
  missingHashAccepted: {
    correct: { missing: [403], tampered: [403], status: "pending" },
    buggy: { missing: [200], tampered: [403], status: "paid" },
    async probe(m) {
      const order = await checkout(m);
      const tampered = answers(await sendIpn(m, order.uid, "done", "tamperHash"));
      const missing = answers(await sendIpn(m, order.uid, "done", "missingHash"));
      return { missing, tampered, status: (await state(m, order.orderId)).status };
    },
  },
  creditsTwice: {
    correct: { status: "paid", credits: 1 },
    buggy: { status: "paid", credits: 2 },
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done", "duplicate");
      const { status, credits } = await state(m, order.orderId);
      return { status, credits };
    },
  },
  regresses: {
    correct: "paid",
    buggy: "processing",
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done");
      await sendIpn(m, order.uid, "inProgress");
      return (await state(m, order.orderId)).status;
    },
  },
  paidOnAnyFinal: {
    correct: ["failed", "failed", "failed"],
    buggy: ["paid", "paid", "paid"],
    async probe(m) {
      const seen: string[] = [];
      for (const status of ["returned", "deleted", "errorPayment"] as const) {
        const order = await checkout(m);
        await sendIpn(m, order.uid, status);
        seen.push((await state(m, order.orderId)).status);
      }
      return seen;
    },
  },
  trustsReturnStatus: {
    correct: [200, "pending"],
    buggy: [200, "paid"],
    async probe(m) {
      const order = await checkout(m);
      const page = await returnPage(m, order.ref, "success");
      return [page.status, (await state(m, order.orderId)).status];
    },
  },
  crashesOnMalformed: {
    correct: [400],
    buggy: [500],
    async probe(m) {
      const order = await checkout(m);
      return answers(await sendIpn(m, order.uid, "waitPayment", "malformedBody"));
    },
  },
  crashesOnMissingFields: {
    correct: { missingOrderId: 400, empty: 400, malformed: [400] },
    buggy: { missingOrderId: 500, empty: 500, malformed: [400] },
    async probe(m) {
      const order = await checkout(m);
      const post = async (body: string) => (await fetch(m.ipnUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } })).status;
      const [record] = await sendIpn(m, order.uid, "waitPayment");
      const withoutOrderId = record!.body.split("&").filter((pair) => !pair.startsWith("orderId=")).join("&");
      return { missingOrderId: await post(withoutOrderId), empty: await post(""), malformed: answers(await sendIpn(m, order.uid, "waitPayment", "malformedBody")) };
    },
  },
  answers500: {
    correct: [[200], "processing"],
    buggy: [[500], "pending"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await move(order.uid, "waitPayment")), (await state(m, order.orderId)).status];
    },
  },
  regressesLate: {
    correct: { late: [200], status: "paid", notes: ["ipn inProgress: ignored, older than an IPN already applied"] },
    buggy: { late: [200], status: "processing", notes: ["late ipn inProgress: → processing (credits 1)", "late ipn inProgress: answer held back 600 ms"] },
    async probe(m) {
      const order = await checkout(m);
      const [held] = await move(order.uid, "inProgress", "drop");
      await move(order.uid, "done");
      const { json } = await sb.control("POST", `/deliveries/${held!.id}/resend`);
      const late = await settle(json.deliveries);
      const notes = m.orders.get(order.orderId)!.history.filter((line) => /older than|^late ipn/.test(line));
      return { late: answers(late), status: (await state(m, order.orderId)).status, notes };
    },
  },
  slow: {
    correct: { answered: [200], heldBack: false },
    buggy: { answered: [200], heldBack: true },
    async probe(m) {
      const order = await checkout(m);
      const { json } = await sb.control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status: "waitPayment", orderUID: order.uid });
      const [sent] = json.deliveries as DeliveryRecord[];
      // Either the answer comes, or the merchant holds it back until its clock moves.
      await until(() => m.holding() > 0 || sb.sandbox.store.getDelivery(sent!.id)!.outcome !== "pending", "an answer, or one held back");
      const heldBack = m.holding() > 0;
      return { answered: answers(await settle([sent!])), heldBack };
    },
  },
  returnPage500: {
    correct: { junk: 200, empty: 200, success: 200, error: 200 },
    buggy: { junk: 500, empty: 500, success: 200, error: 200 },
    async probe(m) {
      const order = await checkout(m);
      const code = async (status: string) => (await returnPage(m, order.ref, status)).status;
      return { junk: await code("junk"), empty: await code(""), success: await code("success"), error: await code("error") };
    },
  },
  returnPageScriptError: {
    correct: { status: 200, throwingScript: false, csp: true },
    buggy: { status: 200, throwingScript: true, csp: false },
    async probe(m) {
      const order = await checkout(m);
      const page = await returnPage(m, order.ref, "success");
      return { status: page.status, throwingScript: page.html.includes(`<script>throw new Error("boom")</script>`), csp: page.csp !== null };
    },
  },
  noReconcile: {
    correct: { status: "paid", polled: true },
    buggy: { status: "pending", polled: false },
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done", "drop");
      await reconcile(m);
      const { status } = await state(m, order.orderId);
      return { status, polled: sb.sandbox.orders.readCount(order.uid) > 0 };
    },
  },
  ignoresTimestamp: {
    correct: [[200], "pending"],
    buggy: [[200], "paid"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await sendIpn(m, order.uid, "done", "staleTimestamp")), (await state(m, order.orderId)).status];
    },
  },
};

describe("each MerchantBug breaks exactly its behaviour", () => {
  it.each([...MERCHANT_BUGS])("%s", async (bug) => {
    const { probe, correct, buggy, options = {} } = BUG_CASES[bug];
    const good = await startMerchant([], options);
    const bad = await startMerchant([bug], options);
    expect(await probe(good), "the correct merchant").toEqual(correct);
    expect(await probe(bad), `the merchant with ${bug}`).toEqual(buggy);
  });

  it("refuses an unknown bug name", async () => {
    await expect(startReferenceMerchant({ sandboxUrl: sb.url, secret: SECRET, bugs: ["nope" as MerchantBug] })).rejects.toThrow(/unknown merchant bug/);
  });
});
