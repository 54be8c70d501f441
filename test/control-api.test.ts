// The sandbox's control API: JSON in and out, real HTTP statuses, stable paths.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeIpnBody, verifyIpnHash } from "../sandbox/index.js";
import { FAULTS } from "../sandbox/ipn/index.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";
import { startSink, type Sink } from "./support/sink.js";
import { streamText } from "./support/wait.js";

let sb: RunningSandbox;
let merchant: Sink;
beforeAll(async () => {
  sb = await startSandbox({ seed: 11 });
  merchant = await startSink();
});
afterAll(async () => {
  await sb.close();
  await merchant.close();
});

async function newOrder() {
  const route = routeByXml(sb.sandbox, "ETH", "WMZ");
  return (await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ipnUrl: merchant.url, ipnSecret: "top-secret-value" }))).data;
}

describe("control API", () => {
  it("reports health and the version", async () => {
    const { status, json } = await sb.control("GET", "/health");
    expect(status).toBe(200);
    expect(json).toEqual({ ok: true, version: sb.sandbox.version, seed: 11 });
  });

  it("lists orders and shows one with its history, its deliveries and its IPN secret masked", async () => {
    const order = await newOrder();
    const list = await sb.control("GET", "/orders");
    expect(list.json.orders.map((o: any) => o.uid)).toContain(order.uid);
    const { json } = await sb.control("GET", `/orders/${order.uid}`);
    expect(json).toMatchObject({ uid: order.uid, status: "new", secret: order.secret, deliveries: [], history: [{ from: null, to: "new", cause: "create" }] });
    expect(json.ipnSecret).not.toContain("secret-val");
    expect(json.ipnSecret).toMatch(/^to•+ue$/);
  });

  it("moves an order along the table and refuses a move the table forbids with 409", async () => {
    const order = await newOrder();
    const refused = await sb.control("POST", `/orders/${order.uid}/status`, { status: "done" });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toContain("allowed from new: waitPayment, deleted");
    const forced = await sb.control("POST", `/orders/${order.uid}/status`, { status: "done", force: true });
    expect(forced.status).toBe(200);
    expect(forced.json.history.at(-1)).toMatchObject({ from: "new", to: "done", forced: true, cause: "control" });
  });

  it("refuses a move to the current status with 409 saying force re-sends it, and force re-sends it as a late duplicate", async () => {
    const order = await newOrder();
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await sb.control("POST", `/orders/${order.uid}/pay`);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "done" });
    const refused = await sb.control("POST", `/orders/${order.uid}/status`, { status: "done" });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toBe(`order ${order.uid} cannot move from done to done: it is already done; send "force": true to send done again, as a late duplicate would`);
    const forced = await sb.control("POST", `/orders/${order.uid}/status`, { status: "done", force: true });
    expect(forced.status).toBe(200);
    expect(forced.json).toMatchObject({ status: "done" });
    expect(forced.json.history.at(-1)).toMatchObject({ from: "done", to: "done", forced: true, cause: "control" });
    await sb.sandbox.dispatcher.idle();
    const done = sb.sandbox.store.listDeliveries({ orderUID: order.uid }).filter((d) => d.status === "done");
    expect(done).toHaveLength(2);
    // A later copy: signed anew over a later timestamp, as the exchanger's own late duplicate would be.
    expect(Number(done[1]!.fields.timestamp)).toBeGreaterThan(Number(done[0]!.fields.timestamp));
    expect(verifyIpnHash(done[1]!.fields, "top-secret-value", done[1]!.hash!)).toBe(true);
  });

  it.each([
    ["an unknown status", { status: "paid" }, /status/],
    ["an unknown fault", { status: "waitPayment", fault: "explode" }, /fault/],
    ["an unknown field", { status: "waitPayment", colour: "red" }, /colour/],
    ["force that is not a boolean", { status: "waitPayment", force: "yes" }, /force/],
  ])("answers 400 for %s", async (_name, body, message) => {
    const order = await newOrder();
    const { status, json } = await sb.control("POST", `/orders/${order.uid}/status`, body);
    expect(status).toBe(400);
    expect(json.error.message).toMatch(message);
    expect(sb.sandbox.store.getOrder(order.uid)!.status).toBe("new");
  });

  it("moves an order with a fault given as an object: duplicate with 3 copies sends 3 identical bodies", async () => {
    const order = await newOrder();
    const before = merchant.received.length;
    const moved = await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment", fault: { type: "duplicate", copies: 3 } });
    expect(moved.status).toBe(200);
    const bodies = (await merchant.waitFor(before + 3)).slice(before).map((request) => request.body);
    await sb.sandbox.dispatcher.idle();
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies).size).toBe(1);
    expect(decodeIpnBody(bodies[0]!).fields).toMatchObject({ orderUID: String(order.uid), newStatus: "waitPayment" });
    const { json } = await sb.control("GET", `/deliveries?orderUID=${order.uid}`);
    expect(json.deliveries.map((d: any) => [d.fault, d.group, d.outcome, d.body])).toEqual([
      ["duplicate", json.deliveries[0].id, "accepted", bodies[0]],
      ["duplicate", json.deliveries[0].id, "accepted", bodies[0]],
      ["duplicate", json.deliveries[0].id, "accepted", bodies[0]],
    ]);
  });

  it.each([
    ["an unknown fault name", "explode", 'fault: unknown IPN fault "explode"; expected one of: '],
    ["an unknown fault type", { type: "explode" }, 'fault: unknown IPN fault "explode"; expected one of: '],
  ])("answers 400 for %s, listing the valid faults", async (_name, fault, message) => {
    const order = await newOrder();
    const { status, json } = await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment", fault });
    expect(status).toBe(400);
    expect(json.error.message).toBe(`${message}${FAULTS.join(", ")}`);
    expect(sb.sandbox.store.getOrder(order.uid)!.status).toBe("new");
  });

  it("answers 400 for a fault parameter out of range, saying the range", async () => {
    const order = await newOrder();
    const { status, json } = await sb.control("POST", `/orders/${order.uid}/pay`, { fault: { type: "duplicate", copies: 11 } });
    expect(status).toBe(400);
    expect(json.error.message).toBe('fault: IPN fault "duplicate": copies must be a whole number from 2 to 10; got 11');
  });

  it("answers 400 for a body that is not JSON", async () => {
    const order = await newOrder();
    const res = await fetch(`${sb.url}/_sandbox/orders/${order.uid}/status`, { method: "POST", body: "{status:" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain("not valid JSON");
  });

  it("answers 404 for an unknown order, 400 for a uid that is not a number, 404 for an unknown path", async () => {
    expect((await sb.control("GET", "/orders/999999")).status).toBe(404);
    expect((await sb.control("GET", "/orders/abc")).status).toBe(400);
    expect((await sb.control("POST", "/orders/999999/pay")).status).toBe(404);
    expect((await sb.control("GET", "/nope")).status).toBe(404);
  });

  it("fires a test IPN at any URL, signed with the given secret", async () => {
    const before = merchant.received.length;
    const { status, json } = await sb.control("POST", "/ipn", { ipnUrl: merchant.url, ipnSecret: "S3", status: "done" });
    expect(status).toBe(201);
    expect(json.deliveries).toEqual([expect.objectContaining({ orderUID: null, status: "done", url: merchant.url, fault: "deliver" })]);
    const ipn = (await merchant.waitFor(before + 1))[before]!;
    const { fields, hash } = decodeIpnBody(ipn.body);
    expect(fields).toMatchObject({ newStatus: "done", orderId: "5d8e6002b80b7b4cd75a6424", xml_from: "ETH", xml_to: "WMZ" });
    expect(verifyIpnHash(fields, "S3", hash!)).toBe(true);
  });

  it("refuses a test IPN to a URL that is not http", async () => {
    const { status } = await sb.control("POST", "/ipn", { ipnUrl: "file:///etc/passwd", ipnSecret: "S", status: "done" });
    expect(status).toBe(400);
  });

  it("advances the sandbox clock, and refuses to turn it back", async () => {
    const before = (await sb.control("GET", "/clock")).json;
    const after = (await sb.control("POST", "/clock/advance", { ms: 3_600_000 })).json;
    expect(after.now - before.now).toBeGreaterThanOrEqual(3_600_000);
    expect(after.kind).toBe("real");
    expect((await sb.control("POST", "/clock/advance", { ms: -5 })).status).toBe(400);
  });

  it("forgets every order and delivery on reset", async () => {
    await newOrder();
    expect((await sb.control("POST", "/reset")).json).toEqual({ ok: true });
    expect((await sb.control("GET", "/orders")).json.orders).toEqual([]);
    expect((await sb.control("GET", "/deliveries")).json.deliveries).toEqual([]);
  });

  it("streams order and delivery changes as server-sent events", async () => {
    const controller = new AbortController();
    const res = await fetch(`${sb.url}/_sandbox/events`, { signal: controller.signal });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = streamText(res);
    const order = await newOrder();
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    const text = await events.until((t) => t.includes('"kind":"delivery"'), "a delivery event");
    controller.abort();
    expect(text).toContain("event: hello");
    expect(text).toContain(`"uid":${order.uid}`);
    expect(text).toContain('"kind":"delivery"');
  });

  it("serves a dashboard page listing orders, with user text escaped", async () => {
    const route = routeByXml(sb.sandbox, "ETH", "WMZ");
    await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ipnUrl: "http://127.0.0.1:1/<script>alert(1)</script>", ipnSecret: "s" }));
    const res = await fetch(`${sb.url}/_sandbox/`);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("exchanger-sandbox");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;");
  });
});
