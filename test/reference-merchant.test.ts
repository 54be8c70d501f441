// The correct reference merchant, which the contract kit is tested against, behaves end to end through a real sandbox.

import { describe, expect, it } from "vitest";
import type { DeliveryRecord, FaultSpec } from "../sandbox/index.js";
import { SECRET, SETTLE_MS, RECONCILE_EVERY_MS, useReferenceMerchantHarness } from "./support/reference-merchant-harness.js";

const h = useReferenceMerchantHarness();
const { clocks, startMerchant, reconcile, checkout, state, settle, sendIpn, move, answers, returnPage } = h;

describe("the correct reference merchant", () => {
  it("creates an ETH → WMZ order on the sandbox at checkout, with its ipnUrl, secret and return URL", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    expect(order.orderId).toMatch(/^[0-9a-f]{24}$/);
    expect(order.paymentUrl).toBe(`${h.sandbox().url}/en/payment/${order.uid}/${m.orders.get(order.orderId)!.secret}/`);
    expect((await fetch(order.paymentUrl, { signal: AbortSignal.timeout(SETTLE_MS) })).status).toBe(200);

    const sandboxOrder = h.sandbox().sandbox.store.getOrder(order.uid)!;
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
    const { json } = await h.sandbox().control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status: "done" });
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
    expect([m.polls, h.sandbox().sandbox.orders.readCount(order.uid)]).toEqual([1, 1]);
    expect(m.orders.get(order.orderId)!.history.some((line) => line.startsWith("reconcile done"))).toBe(true);
    // Final: no next poll is planned.
    expect(clocks.get(m)!.nextTimerAt()).toBeNull();
  });

  it("polls an unfinished order again and again, and never once closed", async () => {
    const m = await startMerchant();
    const order = await checkout(m);
    await reconcile(m);
    await reconcile(m);
    expect([m.polls, h.sandbox().sandbox.orders.readCount(order.uid)]).toEqual([2, 2]);
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
