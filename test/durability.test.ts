// A restart keeps orders, deliveries and the clock, and what was under way goes on: expiry and held IPNs.

import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClock, createSandbox, exampleCreateParams, type Sandbox } from "../sandbox/index.js";
import { JOURNAL_FILE } from "../sandbox/store/journal.js";
import { BUILTIN_SCENARIOS, findBuiltinScenario, scenarioDirector } from "../scenarios/index.js";
import { startSink, type Sink } from "./support/sink.js";
import { HANG_GUARD_MS, until, within } from "./support/wait.js";

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

const dataDir = () => mkdtempSync(join(tmpdir(), "sandbox-data-"));

function start(dir: string, options: Parameters<typeof createSandbox>[0] = {}, lines: string[] = []): Sandbox {
  return createSandbox({ dataDir: dir, logger: { format: "pretty", write: (line) => lines.push(line) }, ...options });
}

async function sink(): Promise<Sink> {
  const s = await startSink();
  open.push(s);
  return s;
}

async function createOrder(sandbox: Sandbox, ipnUrl?: string) {
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    body: JSON.stringify(exampleCreateParams(route, ipnUrl ? { ipnUrl, ipnSecret: "S" } : {})),
    headers: { "content-type": "application/json" },
  });
  const json = (await res.json()) as { data: { uid: number; _id: string } };
  return json.data;
}

describe("a sandbox with --data", () => {
  it("keeps orders, their history and deliveries, and hands out new uids and ids after the old ones", async () => {
    const dir = dataDir();
    const merchant = await sink();
    const first = start(dir);
    const a = await createOrder(first, merchant.url);
    const b = await createOrder(first);
    first.orders.move(a.uid, "waitPayment", { cause: "test" });
    await first.dispatcher.idle();
    const before = { orders: first.store.listOrders(), deliveries: first.store.listDeliveries() };
    await first.close();

    const second = start(dir);
    open.push(second);
    expect(second.store.listOrders()).toEqual(before.orders);
    expect(second.store.listDeliveries()).toEqual(before.deliveries);
    expect(second.store.getOrder(a.uid)!.history.map((h) => h.to)).toEqual(["new", "waitPayment"]);
    const c = await createOrder(second);
    expect(c.uid).toBe(b.uid + 1);
    expect([a._id, b._id]).not.toContain(c._id);
    second.orders.move(a.uid, "inProgress", { cause: "test" });
    await second.dispatcher.idle();
    expect(second.store.listDeliveries().map((d) => d.id)).toEqual(["d1", "d2"]);
  });

  it("resumes a virtual clock where it was", async () => {
    const dir = dataDir();
    const first = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1) });
    first.clock.advance(3_600_000);
    await first.close();
    const second = start(dir, { clock: "manual", startAt: Date.UTC(2020, 0, 1) });
    open.push(second);
    expect(second.clock.now()).toBe(Date.UTC(2026, 0, 1) + 3_600_000);
  });

  it("still expires an unpaid order after a restart", async () => {
    const dir = dataDir();
    const first = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1) });
    const order = await createOrder(first);
    first.orders.move(order.uid, "waitPayment", { cause: "test" });
    await first.close();
    const second = start(dir, { clock: "manual" });
    open.push(second);
    second.clock.advance(29 * 60_000);
    expect(second.store.getOrder(order.uid)!.status).toBe("waitPayment");
    second.clock.advance(2 * 60_000);
    expect(second.store.getOrder(order.uid)!.status).toBe("deleted");
    expect(second.store.getOrder(order.uid)!.history.at(-1)!.cause).toBe("expiry");
  });

  it("still sends a delayed IPN after a restart, at its moment", async () => {
    const dir = dataDir();
    const merchant = await sink();
    const first = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1) });
    const order = await createOrder(first, merchant.url);
    first.orders.move(order.uid, "waitPayment", { cause: "test", fault: { type: "delay", ms: 60_000 } });
    await first.close();
    expect(merchant.received).toHaveLength(0);

    const second = start(dir, { clock: "manual" });
    open.push(second);
    expect(second.store.listDeliveries()[0]!.outcome).toBe("held");
    second.clock.advance(60_000);
    await merchant.waitFor(1);
    await second.dispatcher.idle();
    expect(second.store.listDeliveries()[0]).toMatchObject({ outcome: "accepted", faultDetail: expect.stringContaining("held across a restart") });
  });

  it("sends a delayed IPN whose moment passed while the sandbox was down at once, and says it was late", async () => {
    const dir = dataDir();
    const merchant = await sink();
    const first = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1) });
    const order = await createOrder(first, merchant.url);
    first.orders.move(order.uid, "waitPayment", { cause: "test", fault: { type: "delay", ms: 60_000 } });
    await first.close();
    expect(merchant.received).toHaveLength(0);
    // Back up two minutes later (a running clock): the IPN was due while the sandbox was down.
    const second = start(dir, { clock: createClock("real", { startAt: Date.UTC(2026, 0, 1) + 120_000 }) });
    open.push(second);
    await merchant.waitFor(1);
    await second.dispatcher.idle();
    expect(second.store.listDeliveries()[0]).toMatchObject({ outcome: "accepted", faultDetail: expect.stringContaining("sent late") });
  });

  it.each(["manual", "instant"])("sends a held IPN that is overdue at start at once on the %s clock, which nobody moves", async (kind) => {
    const dir = dataDir();
    const merchant = await sink();
    const startAt = Date.UTC(2026, 0, 1);
    const first = start(dir, { clock: kind, startAt });
    const order = await createOrder(first, merchant.url);
    first.orders.move(order.uid, "waitPayment", { cause: "test", fault: { type: "delay", ms: 60_000 } });
    await first.close();
    // The journal's clock two minutes on, the IPN still held: what a stop leaves when it comes after the IPN's moment
    // but before its timer ran (a moving clock's timer fires a hair after its moment).
    appendFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify({ t: "clock", now: startAt + 120_000, wall: Date.now() })}\n`);

    const second = start(dir, { clock: kind });
    open.push(second);
    expect(second.clock.now()).toBe(startAt + 120_000);
    await within(second.dispatcher.idle(), HANG_GUARD_MS, "the overdue IPN to settle");
    expect(merchant.received).toHaveLength(1);
    expect(second.store.listDeliveries()[0]).toMatchObject({
      outcome: "accepted",
      faultDetail: "held 60000 ms; sent late: the sandbox was down at its moment",
    });
    expect(second.clock.now()).toBe(startAt + 120_000);
  });

  it("skips a torn last record with a warning instead of failing to start", async () => {
    const dir = dataDir();
    const first = start(dir);
    const order = await createOrder(first);
    await first.close();
    appendFileSync(join(dir, JOURNAL_FILE), '{"t":"order","v":{"_id":"abc","uid":10');
    const lines: string[] = [];
    const second = start(dir, {}, lines);
    open.push(second);
    expect(second.store.getOrder(order.uid)).toBeDefined();
    expect(lines.join("\n")).toMatch(/warn journal .*skipped unreadable line \d+ \(a record torn by a crash\)/);
    // The journal is compacted on start: the torn line is gone.
    expect(readFileSync(join(dir, JOURNAL_FILE), "utf8")).not.toContain('"uid":10\n');
  });

  it("forgets every order on reset, across a restart too, and never hands out a uid again", async () => {
    const dir = dataDir();
    const first = start(dir);
    const forgotten = await createOrder(first);
    first.store.reset();
    const fresh = await createOrder(first);
    expect(forgotten.uid).toBe(1001);
    expect(fresh.uid).toBe(1002);
    await first.close();
    const second = start(dir);
    expect(second.store.listOrders().map((o) => o.uid)).toEqual([fresh.uid]);
    second.store.reset();
    await second.close();
    // Compaction drops the orders a reset forgot, but not the uids they had.
    const third = start(dir);
    open.push(third);
    expect(third.store.listOrders()).toEqual([]);
    expect((await createOrder(third)).uid).toBe(1003);
  });

  it("gives the same seed's later orders new ids after a reset and a restart, not the first run's again", async () => {
    const dir = dataDir();
    const first = start(dir, { seed: 5 });
    const a = await createOrder(first);
    const aSecret = first.store.getOrder(a.uid)!.secret;
    first.store.reset();
    await first.close();
    const second = start(dir, { seed: 5 });
    open.push(second);
    const b = await createOrder(second);
    expect(b.uid).toBe(a.uid + 1);
    expect(b._id.slice(8)).not.toBe(a._id.slice(8));
    expect(second.store.getOrder(b.uid)!.secret).not.toBe(aSecret);
  });
});

describe("scenario plays with --data", () => {
  const scenario = findBuiltinScenario("hold-then-done")!;
  const director = () => scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 10_000, defaultScenario: scenario });
  /** The step of hold-then-done that waits two hours. */
  const WAIT_STEP = scenario.steps.findIndex((step) => "wait" in step);
  /** What the play keeps in the store for a restart: the step it has begun and when. */
  const progress = (sandbox: Sandbox, uid: number) =>
    (sandbox.store.getMeta(`play:${sandbox.store.getOrder(uid)!._id}`) as { state: string; progress: { step: number; startedAt: number } | null }).progress;

  it("go on after a restart: a play waiting for the client, then in the middle of a two-hour wait", async () => {
    const dir = dataDir();
    const merchant = await sink();
    const first = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1), extensions: [director()] });
    const order = await createOrder(first, merchant.url);
    await until(() => first.store.getOrder(order.uid)!.status === "waitPayment", "waitPayment");
    await first.close();

    // The play was waiting for the client to pay; after a restart it still is.
    const second = start(dir, { clock: "manual", extensions: [director()] });
    second.orders.pay(order.uid, "test");
    // It moves the order to hold and begins its two-hour wait, which the store keeps.
    await until(() => progress(second, order.uid)?.step === WAIT_STEP, "the two-hour wait");
    const waitBegan = progress(second, order.uid)!.startedAt;
    expect(second.store.getOrder(order.uid)!.status).toBe("hold");
    second.clock.advance(3_600_000);
    await second.close();

    // Cut short an hour into its two-hour wait: after another restart only the hour left of it is waited for.
    // Whatever the wait's end sets off runs within a turn of the event loop.
    const third = start(dir, { clock: "manual", extensions: [director()] });
    open.push(third);
    expect(third.clock.now()).toBe(waitBegan + 3_600_000);
    third.clock.advance(3_600_000 - 1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(third.store.getOrder(order.uid)!.status).toBe("hold");
    third.clock.advance(1);
    await until(() => third.store.getOrder(order.uid)!.status === "done", "done");
    const res = await third.app.request(`/_sandbox/orders/${order.uid}/scenario`);
    await until(() => (third.store.getMeta(`play:${third.store.getOrder(order.uid)!._id}`) as { state: string }).state !== "running", "the play to end");
    const play = (await (await third.app.request(`/_sandbox/orders/${order.uid}/scenario`)).json()) as { state: string; transcript: { events: { kind: string }[] } };
    expect(res.status).toBe(200);
    expect(play.state).toBe("passed");
    expect(play.transcript.events.some((e) => e.kind === "resumed")).toBe(true);
  });
});
