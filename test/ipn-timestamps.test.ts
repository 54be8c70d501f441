// One order's IPN timestamps strictly increase, on every kind of clock, so a merchant can order them by timestamp.

import { afterEach, describe, expect, it } from "vitest";
import { createClock, createSandbox, exampleCreateParams, type Sandbox } from "../sandbox/index.js";
import { startSink, type Sink } from "./support/sink.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(clock: string): Promise<{ sandbox: Sandbox; sink: Sink }> {
  const sandbox = createSandbox({ seed: 1, clock: clock === "real" ? "real" : createClock(clock, { startAt: Date.UTC(2026, 0, 1) }) });
  const sink = await startSink();
  open.push(sandbox, sink);
  return { sandbox, sink };
}

async function createOrder(sandbox: Sandbox, ipnUrl: string): Promise<number> {
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(exampleCreateParams(route, { ipnUrl, ipnSecret: "s" })),
  });
  const json = (await res.json()) as { data: { uid: number } };
  return json.data.uid;
}

const timestamps = (sandbox: Sandbox, uid: number) => sandbox.store.listDeliveries({ orderUID: uid }).map((d) => Number(d.fields.timestamp));

describe("IPN timestamps of one order", () => {
  it.each(["manual", "instant", "fast:60", "real"])("strictly increase on the %s clock when the client pays a new order (two IPNs in one move)", async (clock) => {
    const { sandbox, sink } = await setup(clock);
    const uid = await createOrder(sandbox, sink.url);
    sandbox.orders.pay(uid, "test");
    sandbox.orders.move(uid, "done", { cause: "test" });
    await sandbox.dispatcher.idle();
    const sent = timestamps(sandbox, uid);
    expect(sandbox.store.listDeliveries({ orderUID: uid }).map((d) => d.status)).toEqual(["waitPayment", "inProgress", "done"]);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!, `IPN ${i + 1} of ${sent.join(", ")}`).toBeGreaterThan(sent[i - 1]!);
    // The merchant received the same stamps, in that order.
    expect(sink.received.map((r) => Number(r.form.get("timestamp")))).toEqual(sent);
  });

  it("follow the clock when it is ahead, and stand 1 ms apart only when it is not", async () => {
    const { sandbox, sink } = await setup("manual");
    const start = sandbox.clock.now();
    const uid = await createOrder(sandbox, sink.url);
    sandbox.orders.pay(uid, "test");
    sandbox.clock.advance(60_000);
    sandbox.orders.move(uid, "done", { cause: "test" });
    await sandbox.dispatcher.idle();
    expect(timestamps(sandbox, uid)).toEqual([start, start + 1, start + 60_000]);
    // The history keeps the clock's own times; only the IPN's stamp is kept apart.
    expect(sandbox.orders.get(uid)!.history.map((h) => h.at)).toEqual([start, start, start, start + 60_000]);
  });

  it("keep increasing across two orders' IPNs independently", async () => {
    const { sandbox, sink } = await setup("manual");
    const start = sandbox.clock.now();
    const a = await createOrder(sandbox, sink.url);
    const b = await createOrder(sandbox, sink.url);
    sandbox.orders.move(a, "waitPayment", { cause: "test" });
    sandbox.orders.move(b, "waitPayment", { cause: "test" });
    await sandbox.dispatcher.idle();
    expect(timestamps(sandbox, a)).toEqual([start]);
    expect(timestamps(sandbox, b)).toEqual([start]);
  });
});
