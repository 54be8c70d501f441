// Orders moving through statuses fire signed IPNs at a real merchant sink; every delivery is recorded.

import { afterEach, describe, expect, it } from "vitest";
import { createClock, decodeIpnBody, verifyIpnHash } from "../sandbox/index.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";
import { answerOk, deadUrl, hang, startSink, type Sink } from "./support/sink.js";
import { until } from "./support/wait.js";

const SECRET = "merchant-secret-42";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(options: Parameters<typeof startSandbox>[0] = {}) {
  const sb = await startSandbox(options);
  open.push(sb);
  return sb;
}

async function sink(behaviour = answerOk): Promise<Sink> {
  const s = await startSink(behaviour);
  open.push(s);
  return s;
}

async function createOrder(sb: RunningSandbox, ipnUrl: string | null, from = "ETH", to = "WMZ", amount?: string) {
  const route = routeByXml(sb.sandbox, from, to);
  const extra = ipnUrl === null ? {} : { ipnUrl, ipnSecret: SECRET };
  const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ...extra, ...(amount ? { amount } : {}) }));
  if (!res.success) throw new Error(res.error!.message);
  return res.data as { _id: string; uid: number; secret: string; inAmount: string; outAmount: string };
}

describe("IPN on a status change", () => {
  it("posts a form with every documented field, a millisecond timestamp and a hash that verifies", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url, "ETH", "WMZ", "2");
    const before = Date.now();
    const moved = await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    expect(moved.status).toBe(200);
    const [ipn] = await merchant.waitFor(1);

    expect(ipn!.method).toBe("POST");
    expect(ipn!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect([...new Set([...ipn!.form.keys()].map((k) => k.replace(/\[.*$/, "")))]).toEqual([
      "orderUID", "orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp", "toValues", "hash",
    ]);
    const { fields, hash } = decodeIpnBody(ipn!.body);
    const route = routeByXml(sb.sandbox, "ETH", "WMZ");
    expect(fields).toMatchObject({
      orderUID: String(order.uid),
      orderId: order._id,
      newStatus: "waitPayment",
      inAmount: "2",
      outAmount: "317.42",
      xml_from: "ETH",
      xml_to: "WMZ",
    });
    expect(fields.toValues).toEqual([{ key: route.toFields[0]!._id, name: route.toFields[0]!.name, value: route.toFields[0]!.placeholder }]);
    expect(ipn!.form.get("toValues[0][value]")).toBe(route.toFields[0]!.placeholder);
    const timestamp = Number(fields.timestamp);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Date.now());
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyIpnHash(fields, SECRET, hash!)).toBe(true);
    expect(verifyIpnHash(fields, "another-secret", hash!)).toBe(false);
  });

  it("sends no IPN when the order is created, only when it moves", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url);
    await sb.sandbox.dispatcher.idle();
    expect(merchant.received).toHaveLength(0);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "deleted" });
    expect((await merchant.waitFor(1))[0]!.form.get("newStatus")).toBe("deleted");
  });

  it("sends nothing for an order without an ipnUrl", async () => {
    const sb = await setup();
    const order = await createOrder(sb, null);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await sb.sandbox.dispatcher.idle();
    expect((await sb.control("GET", "/deliveries")).json.deliveries).toEqual([]);
  });

  it("sends one IPN per step when the client pays a new order", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url);
    const paid = await sb.control("POST", `/orders/${order.uid}/pay`);
    expect(paid.json.status).toBe("inProgress");
    const received = await merchant.waitFor(2);
    expect(received.map((r) => r.form.get("newStatus"))).toEqual(["waitPayment", "inProgress"]);
    expect(paid.json.history.map((h: any) => [h.to, h.cause])).toEqual([["new", "create"], ["waitPayment", "control:pay"], ["inProgress", "control:pay"]]);
  });

  it("names the checksum field as configured", async () => {
    const sb = await setup({ ipnHashField: "signature" });
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    const [ipn] = await merchant.waitFor(1);
    expect(ipn!.form.has("hash")).toBe(false);
    const { fields, hash } = decodeIpnBody(ipn!.body, "signature");
    expect(verifyIpnHash(fields, SECRET, hash!)).toBe(true);
  });

  it("fires the IPN when the merchant itself confirms a manual payment", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url, "CARDUAH", "USDTTRC20");
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "inProgress" });
    const received = await merchant.waitFor(2);
    expect(received.map((r) => r.form.get("newStatus"))).toEqual(["waitPayment", "inProgress"]);
  });
});

describe("delivery records", () => {
  it("times out a merchant that hangs while a second order's IPN to a healthy merchant is delivered meanwhile", async () => {
    // The IPN timeout runs on a wall clock of the test's own, which moves only when the test says.
    const network = createClock("manual", { startAt: 0 });
    const sb = await setup({ ipnTimeoutMs: 500, ipnWallClock: network });
    const slow = await sink(hang);
    const healthy = await sink();
    const stuck = await createOrder(sb, slow.url);
    const fine = await createOrder(sb, healthy.url);

    await sb.control("POST", `/orders/${stuck.uid}/status`, { status: "waitPayment" });
    await slow.waitFor(1);
    // The API answers at once, and the healthy merchant gets its IPN, while the other merchant still holds its own.
    const moved = await sb.control("POST", `/orders/${fine.uid}/status`, { status: "waitPayment" });
    expect(moved.status).toBe(200);
    await healthy.waitFor(1);
    await until(() => sb.sandbox.store.listDeliveries({ orderUID: fine.uid })[0]!.outcome !== "pending", "the healthy merchant's answer");
    expect(sb.sandbox.store.listDeliveries({ orderUID: fine.uid })[0]).toMatchObject({ outcome: "accepted", response: { status: 200, bodyExcerpt: "OK" }, error: null });
    expect(sb.sandbox.store.listDeliveries({ orderUID: stuck.uid })[0]).toMatchObject({ outcome: "pending", response: null });

    network.advance(500);
    await sb.sandbox.dispatcher.idle();
    expect(sb.sandbox.store.listDeliveries({ orderUID: stuck.uid })[0]).toMatchObject({ outcome: "timeout", response: null, error: "no answer within 500 ms", latencyMs: 500 });
  });

  it("records a refused connection instead of throwing, and the API keeps answering", async () => {
    const sb = await setup();
    const order = await createOrder(sb, await deadUrl());
    const moved = await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    expect(moved.status).toBe(200);
    await sb.sandbox.dispatcher.idle();
    const { json } = await sb.control("GET", `/deliveries?orderUID=${order.uid}`);
    expect(json.deliveries).toHaveLength(1);
    expect(json.deliveries[0]).toMatchObject({ outcome: "error", response: null, error: expect.stringContaining("connection refused") });
    expect((await sb.api("GET", "public/exchanger/route/get")).success).toBe(true);
  });

  it("records a merchant's rejection with its status and body excerpt", async () => {
    const sb = await setup();
    const merchant = await sink((_req, res) => res.writeHead(403).end("bad signature"));
    const order = await createOrder(sb, merchant.url);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await sb.sandbox.dispatcher.idle();
    const { json } = await sb.control("GET", `/orders/${order.uid}`);
    expect(json.deliveries[0]).toMatchObject({ outcome: "rejected", response: { status: 403, bodyExcerpt: "bad signature" }, fault: "deliver", url: merchant.url });
  });

  it("records a dropped IPN that the merchant never receives", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment", fault: "drop" });
    await sb.sandbox.dispatcher.idle();
    expect(merchant.received).toHaveLength(0);
    const [record] = (await sb.control("GET", "/deliveries")).json.deliveries;
    expect(record).toMatchObject({ orderUID: order.uid, status: "waitPayment", fault: "drop", outcome: "dropped", response: null });
    expect(record.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("resends a delivery as a new record with the identical body", async () => {
    const sb = await setup();
    const merchant = await sink();
    const order = await createOrder(sb, merchant.url);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await merchant.waitFor(1);
    const first = (await sb.control("GET", "/deliveries")).json.deliveries[0];
    const resent = await sb.control("POST", `/deliveries/${first.id}/resend`);
    expect(resent.status).toBe(201);
    expect(resent.json.deliveries).toEqual([expect.objectContaining({ resendOf: first.id, body: first.body, hash: first.hash })]);
    const [a, b] = await merchant.waitFor(2);
    expect(b!.body).toBe(a!.body);
    expect((await sb.control("POST", "/deliveries/d999/resend")).status).toBe(404);
  });
});
