// Integration tests for the IPN dispatcher: real node:http merchant sinks on 127.0.0.1, the built-in transport.

import { afterEach, describe, expect, it } from "vitest";
import { IPN_BODY_EXCERPT_CHARS, decodeIpnBody, verifyIpnHash } from "../sandbox/ipn/index.js";
import type { DispatcherOptions, Transport } from "../sandbox/ipn/index.js";
import { SECRET, cleanUp, deadPort, ipnFields, only, promised, setup, startHoldingSink, startSink, within } from "./support/dispatcher.js";

afterEach(cleanUp);

describe("IPN delivery", () => {
  it("POSTs a form-urlencoded body with every documented field and a hash that verifies", async () => {
    const sink = await startSink();
    const { dispatcher, store, clock } = setup({ userAgent: "exchanger-sandbox/9.9.9" });
    const before = clock.now();

    const first = only(dispatcher.dispatch({ orderUID: 1409, url: sink.url, secret: SECRET, fields: ipnFields() }));
    expect(first).toMatchObject({ id: "d1", outcome: "pending", fault: "deliver", response: null, resendOf: null });
    await dispatcher.idle();

    expect(sink.received).toHaveLength(1);
    const [request] = sink.received;
    expect(request?.method).toBe("POST");
    expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request?.headers["content-length"]).toBe(String(Buffer.byteLength(request?.body ?? "")));
    expect(request?.headers["user-agent"]).toBe("exchanger-sandbox/9.9.9");
    expect(request?.body).toContain("toValues%5B1%5D%5Bname%5D=");

    const { fields, hash } = decodeIpnBody(request?.body ?? "");
    expect(fields).toEqual(ipnFields());
    expect(verifyIpnHash(fields, SECRET, hash ?? "")).toBe(true);
    expect(verifyIpnHash(fields, "anotherSecret", hash ?? "")).toBe(false);

    const record = store.getDelivery(first.id);
    expect(record).toMatchObject({
      orderUID: 1409,
      status: "inProgress",
      url: sink.url,
      body: request?.body,
      hash,
      hashField: "hash",
      outcome: "accepted",
      response: { status: 200, bodyExcerpt: "OK" },
      error: null,
    });
    expect(record?.hashedString).not.toContain(SECRET);
    expect(record?.sentAt).toBeGreaterThanOrEqual(before);
    expect(record?.sentAt).toBeLessThanOrEqual(clock.now());
  });

  it("sends the checksum under the configured field name", async () => {
    const sink = await startSink();
    const { dispatcher } = setup({ hashField: "signature" });
    dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() });
    await dispatcher.idle();
    const { fields, hash } = decodeIpnBody(sink.received[0]?.body ?? "", "signature");
    expect(verifyIpnHash(fields, SECRET, hash ?? "")).toBe(true);
  });

  it.each<[number, string, "accepted" | "rejected"]>([
    [200, "OK", "accepted"],
    [204, "", "accepted"],
    [404, "no such endpoint", "rejected"],
    [500, "boom", "rejected"],
  ])("records a %i answer with its body as %s", async (status, body, outcome) => {
    const sink = await startSink((_req, res) => {
      res.statusCode = status;
      res.end(body);
    });
    const { dispatcher, store, logged } = setup();
    const { id } = only(dispatcher.dispatch({ orderUID: 7, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome, response: { status, bodyExcerpt: body }, error: null });
    expect(logged).toEqual([expect.objectContaining({ type: "ipn", deliveryId: id, outcome, responseStatus: status })]);
  });

  it("records a redirect as rejected and does not follow it", async () => {
    const elsewhere = await startSink();
    const sink = await startSink((_req, res) => {
      res.writeHead(302, { Location: elsewhere.url });
      res.end();
    });
    const { dispatcher, store } = setup();
    const { id } = only(dispatcher.dispatch({ orderUID: 7, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome: "rejected", response: { status: 302 } });
    expect(elsewhere.received).toHaveLength(0);
  });

  it("times out a silent merchant while another merchant's IPN is delivered meanwhile", async () => {
    const silent = await startHoldingSink();
    const healthy = await startSink();
    const { dispatcher, store, network, logged } = setup({ timeoutMs: 300 });

    const slow = dispatcher.dispatch({ orderUID: 1, url: silent.url, secret: SECRET, fields: ipnFields() });
    const fast = dispatcher.dispatch({ orderUID: 2, url: healthy.url, secret: SECRET, fields: ipnFields() });
    // The silent merchant holds its IPN while the healthy one's is answered: one does not wait for the other.
    await silent.next();
    expect(await within(fast.settled)).toEqual([expect.objectContaining({ outcome: "accepted", latencyMs: 0 })]);
    expect(store.getDelivery(only(slow).id)?.outcome).toBe("pending");

    network.advance(299);
    expect(store.getDelivery(only(slow).id)?.outcome).toBe("pending");
    network.advance(1);
    expect(await within(slow.settled)).toEqual([
      expect.objectContaining({ outcome: "timeout", response: null, error: "no answer within 300 ms", latencyMs: 300 }),
    ]);
    expect(logged.map((event) => event.type === "ipn" && event.deliveryId)).toEqual([only(fast).id, only(slow).id]);
  });

  it("records a refused connection as an error instead of throwing", async () => {
    const port = await deadPort();
    const { dispatcher, store } = setup();
    const { id } = only(dispatcher.dispatch({
      orderUID: 1,
      url: `http://127.0.0.1:${port}/ipn`,
      secret: SECRET,
      fields: ipnFields(),
    }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({
      outcome: "error",
      response: null,
      error: `connection refused (ECONNREFUSED 127.0.0.1:${port})`,
    });
  });

  it.each([
    ["ftp://127.0.0.1/ipn", "only http and https IPN URLs are allowed"],
    ["file:///etc/passwd", "only http and https IPN URLs are allowed"],
    ["javascript:alert(1)", "only http and https IPN URLs are allowed"],
    ["not a url", "invalid URL"],
    ["", "invalid URL"],
  ])("records %j as an error record without sending it", async (url, error) => {
    const { dispatcher, store, logged } = setup();
    const record = only(dispatcher.dispatch({ orderUID: 1, url, secret: SECRET, fields: ipnFields() }));
    expect(record).toMatchObject({ outcome: "error", error, url });
    expect(store.getDelivery(record.id)).toEqual(record);
    await dispatcher.idle();
    expect(logged).toEqual([expect.objectContaining({ deliveryId: record.id, outcome: "error", error })]);
  });

  it("records a dropped IPN and sends the merchant nothing", async () => {
    const sink = await startSink();
    const { dispatcher, store, logged } = setup();
    const dropped = only(dispatcher.dispatch({
      orderUID: 1,
      url: sink.url,
      secret: SECRET,
      fields: ipnFields({ newStatus: "inProgress" }),
      fault: "drop",
    }));
    expect(dropped).toMatchObject({ outcome: "dropped", fault: "drop", response: null, latencyMs: null });
    expect(dropped.body).toContain("newStatus=inProgress");
    // A delivered IPN after the dropped one proves the sink was listening and saw only the second.
    dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) });
    await dispatcher.idle();

    expect(sink.received.map((request) => decodeIpnBody(request.body).fields.newStatus)).toEqual(["done"]);
    expect(store.getDelivery(dropped.id)?.outcome).toBe("dropped");
    expect(logged[0]).toMatchObject({ deliveryId: dropped.id, outcome: "dropped", fault: "drop" });
  });

  it("resends the exact same body as a new record", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const original = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();

    const again = only(dispatcher.resend(original.id));
    expect(again).toMatchObject({ id: "d2", resendOf: original.id, fault: "deliver", outcome: "pending" });
    await dispatcher.idle();

    expect(sink.received).toHaveLength(2);
    expect(sink.received[1]?.body).toBe(sink.received[0]?.body);
    expect(store.getDelivery("d2")).toMatchObject({ body: original.body, hash: original.hash, outcome: "accepted" });
    expect(dispatcher.resend("d999")).toBeUndefined();
  });

  it("cuts a 10 MB answer to the excerpt without reading it all", async () => {
    const sink = await startSink((_req, res) => {
      res.on("error", () => {});
      res.end(Buffer.alloc(10 * 1024 * 1024, "a"));
    });
    const { dispatcher, store } = setup();
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    const record = store.getDelivery(id);
    expect(record).toMatchObject({ outcome: "accepted", response: { status: 200 } });
    expect(record?.response?.bodyExcerpt.length).toBe(IPN_BODY_EXCERPT_CHARS);
  });

  it("stops reading an answer that never ends instead of waiting for it", async () => {
    const sink = await startSink((_req, res) => {
      res.on("error", () => {});
      res.write(Buffer.alloc(1024 * 1024, "b"));
    });
    // The IPN timeout runs on the test's wall clock, which stays put: only the read limit can end this delivery.
    const { dispatcher, store } = setup();
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await within(dispatcher.idle());
    expect(store.getDelivery(id)).toMatchObject({ outcome: "accepted", response: { status: 200 }, error: null });
  });

  it("reuses its keep-alive connection for the next IPN to the same merchant", async () => {
    const sink = await startSink();
    // One connection allowed, so the second IPN can only go out on the first one's.
    const { dispatcher, store } = setup({ maxSocketsPerOrigin: 1 });
    dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() });
    await dispatcher.idle();
    dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) });
    await dispatcher.idle();
    expect(store.listDeliveries().map((record) => record.outcome)).toEqual(["accepted", "accepted"]);
    expect(sink.connections).toBe(1);
  });

  it("records in-flight IPNs as shut down on close, and sends none afterwards", async () => {
    const silent = await startSink(() => {});
    const { dispatcher, store } = setup();
    const inFlight = only(dispatcher.dispatch({ orderUID: 1, url: silent.url, secret: SECRET, fields: ipnFields() }));
    // Close only once the merchant holds the whole request, so the abort hits a delivery truly in flight.
    await new Promise<void>((resolve) => silent.server.once("request", (req) => req.on("end", () => resolve())));
    await dispatcher.close();

    expect(store.getDelivery(inFlight.id)).toMatchObject({ outcome: "error", error: "sandbox shut down" });
    const late = only(dispatcher.dispatch({ orderUID: 1, url: silent.url, secret: SECRET, fields: ipnFields() }));
    expect(late).toMatchObject({ outcome: "error", error: "sandbox shut down" });
    expect(silent.received).toHaveLength(1);
  });
});

describe("sentAt: when a copy goes on the wire", () => {
  it("stays null while an IPN waits for a connection, and is stored as soon as the IPN is on the wire", async () => {
    const sink = await startHoldingSink();
    const { dispatcher, store, clock } = setup({ maxSocketsPerOrigin: 1 });
    const first = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }));
    const second = only(dispatcher.dispatch({ orderUID: 2, url: sink.url, secret: SECRET, fields: ipnFields() }));
    expect([first.sentAt, second.sentAt]).toEqual([null, null]);

    // The merchant holds the first IPN: it is in flight, and the store says so; the second still waits.
    const held = await sink.next("the first IPN");
    expect(store.getDelivery(first.id)).toMatchObject({ outcome: "pending", sentAt: expect.any(Number) });
    expect(store.getDelivery(second.id)).toMatchObject({ outcome: "pending", sentAt: null });

    held.answer();
    (await sink.next("the second IPN")).answer();
    await within(dispatcher.idle());
    expect(store.getDelivery(second.id)).toMatchObject({ outcome: "accepted", sentAt: expect.any(Number) });
    expect(store.getDelivery(second.id)!.sentAt).toBeGreaterThanOrEqual(store.getDelivery(first.id)!.sentAt!);
    expect(store.getDelivery(second.id)!.sentAt).toBeLessThanOrEqual(clock.now());
  });

  it("times out an IPN that never got on the wire, and says it was not sent", async () => {
    const transport: Transport = { send: () => ({ cancel: () => {} }), close: async () => {} };
    const { dispatcher, store, network } = setup({ transport, timeoutMs: 50 });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    network.advance(50);
    await within(dispatcher.idle());
    expect(store.getDelivery(id)).toMatchObject({
      outcome: "timeout",
      sentAt: null,
      error: "not sent within 50 ms: no connection to the merchant was free or could be made",
    });
  });
});

describe("the built-in transport", () => {
  it("sends a URL's user and password as Basic authorization, as node:http did", async () => {
    const sink = await startSink();
    const { dispatcher } = setup();
    const url = sink.url.replace("http://", "http://shop:p%40ss@");
    dispatcher.dispatch({ orderUID: 1, url, secret: SECRET, fields: ipnFields() });
    await dispatcher.idle();
    expect(sink.received[0]?.headers.authorization).toBe(`Basic ${Buffer.from("shop:p@ss").toString("base64")}`);
  });

  it("sends the query string of the IPN URL, and no fragment", async () => {
    const sink = await startSink();
    const paths: string[] = [];
    sink.server.on("request", (req) => paths.push(req.url ?? ""));
    const { dispatcher } = setup();
    dispatcher.dispatch({ orderUID: 1, url: `${sink.url}?shop=7&x=a%20b#top`, secret: SECRET, fields: ipnFields() });
    await dispatcher.idle();
    expect(paths).toEqual(["/ipn?shop=7&x=a%20b"]);
  });
});

describe("IPN delivery through an injected transport", () => {
  it("times out even when the transport ignores the cancel", async () => {
    const transport = promised(() => new Promise(() => {}));
    const { dispatcher, store, network } = setup({ transport, timeoutMs: 50 });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    network.advance(50);
    await within(dispatcher.idle());
    expect(store.getDelivery(id)).toMatchObject({ outcome: "timeout", error: "no answer within 50 ms", latencyMs: 50 });
  });

  it("measures latency on the wall clock, from the dispatch to the answer, whatever the sandbox clock does", async () => {
    let answer: (value: { status: number; bodyExcerpt: string }) => void = () => {};
    const transport = promised(() => new Promise((resolve) => (answer = resolve)));
    const { dispatcher, store, clock, network } = setup({ transport });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    network.advance(120);
    clock.advance(3_600_000);
    answer({ status: 200, bodyExcerpt: "OK" });
    await within(dispatcher.idle());
    expect(store.getDelivery(id)).toMatchObject({ outcome: "accepted", latencyMs: 120 });
  });

  it("times out each IPN at its own deadline, and no later one early", async () => {
    const transport = promised(() => new Promise(() => {}));
    const { dispatcher, store, network } = setup({ transport, timeoutMs: 100 });
    const first = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    network.advance(60);
    const second = only(dispatcher.dispatch({ orderUID: 2, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    network.advance(40);
    expect([store.getDelivery(first.id)?.outcome, store.getDelivery(second.id)?.outcome]).toEqual(["timeout", "pending"]);
    network.advance(59);
    expect(store.getDelivery(second.id)?.outcome).toBe("pending");
    network.advance(1);
    await within(dispatcher.idle());
    expect([store.getDelivery(first.id), store.getDelivery(second.id)]).toEqual([
      expect.objectContaining({ outcome: "timeout", latencyMs: 100 }),
      expect.objectContaining({ outcome: "timeout", latencyMs: 100 }),
    ]);
    expect(network.pending()).toBe(0);
  });

  it("records a transport that throws as an error", async () => {
    const transport: Transport = {
      send: () => {
        throw new Error("kaput");
      },
      close: async () => {},
    };
    const { dispatcher, store } = setup({ transport });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome: "error", error: "kaput" });
  });

  it("does not write an in-flight IPN back into a store that was reset under it", async () => {
    let answer: (value: { status: number; bodyExcerpt: string }) => void = () => {};
    const transport = promised(() => new Promise((resolve) => (answer = resolve)));
    const { dispatcher, store } = setup({ transport });
    dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() });
    store.reset();
    const fresh = only(dispatcher.dispatch({ orderUID: 2, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields(), fault: "drop" }));
    expect(fresh.id).toBe("d1");
    answer({ status: 200, bodyExcerpt: "OK" });
    await dispatcher.idle();
    expect(store.listDeliveries()).toEqual([fresh]);
  });
});

describe("createDispatcher options", () => {
  it.each<[string, Partial<DispatcherOptions>, RegExp]>([
    ["a zero timeout", { timeoutMs: 0 }, /timeoutMs must be a positive integer.*got 0/],
    ["a fractional timeout", { timeoutMs: 1.5 }, /timeoutMs/],
    ["a timeout over ten minutes", { timeoutMs: 600_001 }, /up to 600000/],
    ["a hash field with a dash", { hashField: "x-hash" }, /hashField: .*letters, digits or underscores/],
    ["a hash field named like an IPN field", { hashField: "timestamp" }, /"timestamp" is already an IPN field/],
    ["zero sockets per origin", { maxSocketsPerOrigin: 0 }, /maxSocketsPerOrigin/],
    ["a user agent with a newline", { userAgent: "x\r\nX-Evil: 1" }, /userAgent/],
    ["no store", { store: undefined as never }, /store must be an object/],
  ])("rejects %s with a message naming it", (_name, options, message) => {
    expect(() => setup(options)).toThrow(message);
  });

  it("rejects an unknown fault listing the valid ones", () => {
    const { dispatcher } = setup({ transport: promised(async () => ({ status: 200, bodyExcerpt: "" })) });
    expect(() =>
      dispatcher.dispatch({ orderUID: 1, url: "http://x.test/", secret: SECRET, fields: ipnFields(), fault: "explode" as never }),
    ).toThrow(/unknown IPN fault "explode"; expected one of: deliver, drop/);
  });
});

describe("the per-origin socket limit", () => {
  it("has at most maxSocketsPerOrigin IPNs on the wire to one merchant, queues the rest and delivers them all", async () => {
    const sink = await startHoldingSink();
    const { dispatcher, store } = setup({ maxSocketsPerOrigin: 2 });
    for (let n = 0; n < 9; n++) {
      dispatcher.dispatch({ orderUID: 2000 + n, url: sink.url, secret: SECRET, fields: ipnFields({ orderUID: String(2000 + n) }) });
    }
    // The merchant holds two at a time: while it does, the other seven wait for a connection, never sent.
    for (let answered = 0; answered < 9; answered += 2) {
      const pair = [await sink.next()];
      if (answered < 8) pair.push(await sink.next());
      expect(sink.held()).toBe(pair.length);
      expect(store.listDeliveries().filter((r) => r.outcome === "pending" && r.sentAt === null)).toHaveLength(9 - answered - pair.length);
      for (const request of pair) request.answer();
    }
    await within(dispatcher.idle());
    expect(sink.received).toHaveLength(9);
    // Two connections, each reused: a third would have been opened for the queue had the limit not held.
    expect(sink.connections).toBe(2);
    expect(store.listDeliveries().map((r) => r.outcome)).toEqual(Array(9).fill("accepted"));
    // The received order is the dispatch order: the queue is first come, first served.
    expect(sink.received.map((r) => new URLSearchParams(r.body).get("orderUID"))).toEqual(Array.from({ length: 9 }, (_, n) => String(2000 + n)));
  });
});
