// After a restart the dispatcher takes over the records a durable store kept: an IPN that was on the wire is recorded
// as interrupted and never sent twice; one that was still queued, never sent, goes out now; a held one waits on.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams } from "../sandbox/index.js";
import { applyFault, DEFAULT_MAX_SOCKETS_PER_ORIGIN, type DeliveryRecord } from "../sandbox/ipn/index.js";
import { SECRET, cleanUp, ipnFields, newStatusOf, setup, setupOnTestClock, startSink, within } from "./support/dispatcher.js";

afterEach(cleanUp);

/** A record as a journal keeps it, for an IPN to `url` carrying `newStatus`. */
function kept(id: string, url: string, newStatus: string, patch: Partial<DeliveryRecord>): DeliveryRecord {
  const wire = applyFault(ipnFields({ newStatus }), SECRET, "hash", { type: "deliver" });
  return {
    id,
    orderUID: 1,
    status: newStatus,
    url,
    body: wire.body,
    fields: wire.fields,
    hashField: "hash",
    hash: wire.hash,
    hashedString: wire.hashedString,
    fault: "deliver",
    faultDetail: null,
    outcome: "pending",
    dueAt: null,
    group: id,
    sentAt: null,
    response: null,
    latencyMs: null,
    error: null,
    resendOf: null,
    ...patch,
  };
}

describe("restoring deliveries after a restart", () => {
  it("records an IPN that was on the wire as interrupted, and does not send it again", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const inFlight = kept("d1", sink.url, "waitPayment", { sentAt: 1_700_000_000_000 });
    store.addDelivery(inFlight);
    dispatcher.restore([inFlight]);
    await within(dispatcher.idle());
    expect(store.getDelivery("d1")).toMatchObject({ outcome: "error", sentAt: 1_700_000_000_000, error: expect.stringMatching(/^interrupted: .*not resent/) });
    expect(sink.received).toHaveLength(0);
  });

  it("sends an IPN that was queued and never left, once, and says so", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const queued = kept("d1", sink.url, "waitPayment", {});
    store.addDelivery(queued);
    dispatcher.restore([queued]);
    await within(dispatcher.idle());
    expect(sink.received.map((request) => request.body)).toEqual([queued.body]);
    expect(store.getDelivery("d1")).toMatchObject({
      outcome: "accepted",
      sentAt: expect.any(Number),
      faultDetail: "queued when the sandbox stopped, never sent; sent after the restart",
    });
  });

  it("sends the queued copies of a duplicate one after another, in their order, after the interrupted first", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const copies = [
      kept("d1", sink.url, "done", { fault: "duplicate", group: "d1", faultDetail: "copy 1 of 3", sentAt: 1_700_000_000_000 }),
      kept("d2", sink.url, "done", { fault: "duplicate", group: "d1", faultDetail: "copy 2 of 3" }),
      kept("d3", sink.url, "done", { fault: "duplicate", group: "d1", faultDetail: "copy 3 of 3" }),
    ];
    for (const record of copies) store.addDelivery(record);
    dispatcher.restore(copies);
    await within(dispatcher.idle());
    expect(store.listDeliveries().map((record) => [record.id, record.outcome, record.faultDetail])).toEqual([
      ["d1", "error", "copy 1 of 3"],
      ["d2", "accepted", "copy 2 of 3; queued when the sandbox stopped, never sent; sent after the restart"],
      ["d3", "accepted", "copy 3 of 3; queued when the sandbox stopped, never sent; sent after the restart"],
    ]);
    expect(sink.received).toHaveLength(2);
  });

  it("holds a held IPN until its moment, and sends a queued one meanwhile", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const held = kept("d1", sink.url, "waitPayment", { fault: "delay", outcome: "held", dueAt: clock.now() + 5_000, faultDetail: "held 5000 ms" });
    const queued = kept("d2", sink.url, "inProgress", {});
    store.addDelivery(held);
    store.addDelivery(queued);
    dispatcher.restore([held, queued]);
    await within(new Promise<void>((resolve) => sink.server.once("request", (req) => req.on("end", () => resolve()))));
    expect(sink.received.map(newStatusOf)).toEqual(["inProgress"]);
    clock.advance(5_000);
    await within(dispatcher.idle());
    expect(sink.received.map(newStatusOf)).toEqual(["inProgress", "waitPayment"]);
    expect(store.getDelivery("d1")).toMatchObject({ outcome: "accepted", faultDetail: "held 5000 ms; held across a restart" });
  });

  it("sends a held IPN whose moment has passed at once, said to be late, on a clock that nobody moves", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const overdue = kept("d1", sink.url, "waitPayment", { fault: "delay", outcome: "held", dueAt: clock.now() - 60_000, faultDetail: "held 5000 ms" });
    const dueNow = kept("d2", sink.url, "inProgress", { fault: "delay", outcome: "held", dueAt: clock.now(), faultDetail: "held 5000 ms" });
    store.addDelivery(overdue);
    store.addDelivery(dueNow);
    dispatcher.restore([overdue, dueNow]);
    await within(dispatcher.idle());
    expect(sink.received.map(newStatusOf).sort()).toEqual(["inProgress", "waitPayment"]);
    expect(store.listDeliveries().map((record) => [record.id, record.outcome, record.faultDetail])).toEqual([
      ["d1", "accepted", "held 5000 ms; sent late: the sandbox was down at its moment"],
      ["d2", "accepted", "held 5000 ms; held across a restart"],
    ]);
    expect(clock.pending()).toBe(0);
  });

  it("a graceful stop keeps a queued IPN pending for the next start, and records the one on the wire as shut down", async () => {
    const sink = await startSink(() => {});
    const first = setup({ maxSocketsPerOrigin: 1 });
    const onWire = first.dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }).records[0]!;
    const queued = first.dispatcher.dispatch({ orderUID: 2, url: sink.url, secret: SECRET, fields: ipnFields() }).records[0]!;
    await within(new Promise<void>((resolve) => sink.server.once("request", (req) => req.on("end", () => resolve()))));
    await within(first.dispatcher.close({ keepHeld: true }));
    expect(first.store.getDelivery(onWire.id)).toMatchObject({ outcome: "error", error: "sandbox shut down", sentAt: expect.any(Number) });
    expect(first.store.getDelivery(queued.id)).toMatchObject({ outcome: "pending", sentAt: null });
    expect(sink.received).toHaveLength(1);
  });

  it("through a data folder: IPNs queued behind a silent merchant at a stop are sent by the next start, those on the wire are not", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ipn-restart-"));
    let answer = false;
    let arrived = 0;
    let allArrived = () => {};
    const allOnWire = new Promise<void>((resolve) => (allArrived = resolve));
    const sink = await startSink((_req, res) => {
      if (++arrived === DEFAULT_MAX_SOCKETS_PER_ORIGIN) allArrived();
      if (answer) res.end("OK");
    });
    try {
      const first = createSandbox({ dataDir });
      const total = DEFAULT_MAX_SOCKETS_PER_ORIGIN + 3;
      for (let i = 0; i < total; i++) {
        const res = await first.app.request("/service/api/v1/public/exchanger/order/create/", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(exampleCreateParams(first.catalog.routes[0]!, { ipnUrl: sink.url, ipnSecret: SECRET })),
        });
        first.orders.move(((await res.json()) as { data: { uid: number } }).data.uid, "waitPayment", { cause: "test" });
      }
      await within(allOnWire, 5_000, "every connection to carry an IPN");
      await within(first.close(), 5_000, "the stop");

      answer = true;
      const second = createSandbox({ dataDir });
      await within(second.dispatcher.idle(), 5_000, "the queued IPNs");
      const outcomes = second.store.listDeliveries().map((record) => record.outcome);
      expect(outcomes.filter((outcome) => outcome === "error")).toHaveLength(DEFAULT_MAX_SOCKETS_PER_ORIGIN);
      expect(outcomes.filter((outcome) => outcome === "accepted")).toHaveLength(3);
      expect(arrived).toBe(total);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
