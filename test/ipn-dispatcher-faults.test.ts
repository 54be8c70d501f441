// The timing and body faults on a test clock: held, dropped, copied and reordered IPNs, against a real merchant sink.

import { afterEach, describe, expect, it } from "vitest";
import type { FaultSpec } from "../sandbox/ipn/index.js";
import { SECRET, cleanUp, ipnFields, newStatusOf, only, setupOnTestClock, startHoldingSink, startSink, stillBusy, within } from "./support/dispatcher.js";

afterEach(cleanUp);

describe("IPN delivery faults in time, on a test clock", () => {
  it("delay: holds the IPN until the sandbox clock has moved ms, then sends it", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const start = clock.now();
    const delayed = only(
      dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: { type: "delay", ms: 5_000 } }),
    );
    expect(delayed).toMatchObject({ outcome: "held", fault: "delay", dueAt: start + 5_000, sentAt: null, faultDetail: "held 5000 ms" });
    expect(await stillBusy(dispatcher)).toBe(true);

    clock.advance(4_999);
    // An IPN to another order, delivered now, proves the sink was listening and saw nothing else.
    await within(dispatcher.dispatch({ orderUID: 2, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) }).settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done"]);
    expect(store.getDelivery(delayed.id)?.outcome).toBe("held");

    const settled = dispatcher.idle();
    clock.advance(1);
    await within(settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done", "inProgress"]);
    expect(sink.received[1]?.body).toBe(delayed.body);
    expect(store.getDelivery(delayed.id)).toMatchObject({ outcome: "accepted", sentAt: start + 5_000, dueAt: null });
  });

  it("dropOnce: records the lost first copy, then sends one identical copy ms later", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const start = clock.now();
    const { records, settled } = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "dropOnce" });
    const [lost, copy] = records;
    expect(records).toHaveLength(2);
    expect(lost).toMatchObject({ id: "d1", group: "d1", outcome: "dropped", faultDetail: "first copy lost", sentAt: start });
    expect(copy).toMatchObject({ id: "d2", group: "d1", outcome: "held", dueAt: start + 30_000, sentAt: null, body: lost?.body });

    clock.advance(30_000);
    const finals = await within(settled);
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]?.body).toBe(lost?.body);
    expect(finals.map((record) => record.outcome)).toEqual(["dropped", "accepted"]);
    expect(store.getDelivery("d2")).toMatchObject({ outcome: "accepted", sentAt: start + 30_000 });
  });

  it("duplicate: sends `copies` identical bodies, each after the previous one was answered", async () => {
    const sink = await startHoldingSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const { records, settled } = dispatcher.dispatch({
      orderUID: 1,
      url: sink.url,
      secret: SECRET,
      fields: ipnFields(),
      fault: { type: "duplicate", copies: 3 },
    });
    expect(records.map((record) => [record.id, record.group, record.outcome, record.faultDetail])).toEqual([
      ["d1", "d1", "pending", "copy 1 of 3"],
      ["d2", "d1", "pending", "copy 2 of 3"],
      ["d3", "d1", "pending", "copy 3 of 3"],
    ]);
    // None is on the wire yet: sentAt is set when each copy goes out.
    expect(records.map((record) => record.sentAt)).toEqual([null, null, null]);

    // While the merchant holds a copy, the next one is not sent.
    for (let copy = 0; copy < 3; copy++) {
      const request = await sink.next(`copy ${copy + 1}`);
      expect(sink.held()).toBe(1);
      expect(records.map((record) => store.getDelivery(record.id)!.sentAt !== null)).toEqual([0, 1, 2].map((i) => i <= copy));
      request.answer();
    }
    const finals = await within(settled);
    expect(finals.map((record) => record.sentAt)).toEqual([clock.now(), clock.now(), clock.now()]);
    expect(sink.received.map((request) => request.body)).toEqual([records[0]!.body, records[0]!.body, records[0]!.body]);
    expect(finals.map((record) => record.outcome)).toEqual(["accepted", "accepted", "accepted"]);
  });

  it("reorder: holds the IPN until the order's next one has been sent, then sends it right after", async () => {
    const sink = await startHoldingSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const first = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "inProgress" }), fault: "reorder" });
    expect(only(first)).toMatchObject({ outcome: "held", dueAt: clock.now() + 60_000 });
    const next = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) });

    // Sent once the next IPN was answered, not merely started: while the merchant holds done, inProgress is held.
    const done = await sink.next("the next IPN");
    expect(newStatusOf(done)).toBe("done");
    expect(store.getDelivery(only(first).id)?.outcome).toBe("held");
    done.answer();
    (await sink.next("the reordered IPN")).answer();
    const [held] = await within(first.settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done", "inProgress"]);
    expect(held).toMatchObject({ outcome: "accepted", faultDetail: expect.stringContaining(next.records[0]!.id) });
    expect(store.getDelivery(held!.id)?.outcome).toBe("accepted");
    expect(clock.pending()).toBe(0);
  });

  it("reorder: sends the IPN after ms when the order has no next IPN, and another order's IPN does not release it", async () => {
    const sink = await startSink();
    const { dispatcher, clock } = setupOnTestClock();
    const held = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: { type: "reorder", ms: 60_000 } });
    clock.advance(59_999);
    await within(dispatcher.dispatch({ orderUID: 2, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) }).settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done"]);

    clock.advance(1);
    const [final] = await within(held.settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done", "inProgress"]);
    expect(final).toMatchObject({ outcome: "accepted", faultDetail: "no later IPN for the order within 60000 ms; sent then" });
  });

  it("reorder: waits for the order's very next IPN, even when a later one is sent first", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const send = (newStatus: string, fault?: FaultSpec) =>
      dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus }), ...(fault ? { fault } : {}) });
    const reordered = send("waitPayment", "reorder");
    send("inProgress", { type: "delay", ms: 1_000 });
    await within(send("done").settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done"]);
    expect(store.getDelivery(reordered.records[0]!.id)?.outcome).toBe("held");

    clock.advance(1_000);
    await within(reordered.settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done", "inProgress", "waitPayment"]);
  });

  it("reorder: only delays a test IPN, which has no order", async () => {
    const sink = await startSink();
    const { dispatcher, clock } = setupOnTestClock();
    const held = only(dispatcher.dispatch({ orderUID: null, url: sink.url, secret: SECRET, fields: ipnFields(), fault: { type: "reorder", ms: 1_000 } }));
    expect(held.faultDetail).toContain("test IPN");
    clock.advance(1_000);
    await within(dispatcher.idle());
    expect(sink.received).toHaveLength(1);
  });

  it("close: records held IPNs as shut down and never sends them", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const { settled } = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "delay" });
    await within(dispatcher.close());
    expect(await within(settled)).toEqual([expect.objectContaining({ outcome: "error", error: "sandbox shut down", dueAt: null })]);
    expect(store.getDelivery("d1")).toMatchObject({ outcome: "error", error: "sandbox shut down" });
    // No timer is left that could send it.
    expect(clock.pending()).toBe(0);
    clock.advance(10_000);
    await within(dispatcher.idle());
    expect(sink.received).toHaveLength(0);
  });

  it("a store reset cancels held IPNs: they are gone and never sent", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setupOnTestClock();
    const { settled } = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "dropOnce" });
    store.reset();
    const finals = await within(settled);
    expect(finals.map((record) => record.outcome)).toEqual(["dropped", "error"]);
    expect(finals[1]?.error).toMatch(/reset/);
    await within(dispatcher.idle());
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    await within(dispatcher.idle());
    expect(sink.received).toHaveLength(0);
    expect(store.listDeliveries()).toEqual([]);
  });

  it("body faults: sends the altered body at once and records what was altered", async () => {
    const sink = await startSink();
    const { dispatcher } = setupOnTestClock();
    const tampered = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "tamperField" }));
    const unsigned = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "missingHash" }));
    await within(dispatcher.idle());
    expect(sink.received.map((request) => request.body)).toEqual([tampered.body, unsigned.body]);
    expect(tampered).toMatchObject({ fault: "tamperField", faultDetail: "outAmount changed after signing: 317.42 → 3174.2" });
    expect(tampered.fields.outAmount).toBe("3174.2");
    expect(unsigned).toMatchObject({ hash: null, hashedString: null, faultDetail: 'no "hash" field' });
  });

  it("resend: sends the body again at once, and settles", async () => {
    const sink = await startSink();
    const { dispatcher, clock } = setupOnTestClock();
    const [copy] = (await within(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields(), fault: "tamperHash" }).settled));
    const resent = dispatcher.resend(copy!.id)!;
    expect(resent.records[0]).toMatchObject({ resendOf: copy!.id, group: resent.records[0]!.id, fault: "tamperHash", sentAt: null });
    const [final] = await within(resent.settled);
    expect(final).toMatchObject({ outcome: "accepted", sentAt: clock.now() });
    expect(sink.received.map((request) => request.body)).toEqual([copy!.body, copy!.body]);
  });
});

