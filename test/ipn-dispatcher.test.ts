// Integration tests for the IPN dispatcher: real node:http merchant sinks on 127.0.0.1, the built-in transport.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClock } from "../sandbox/clock/index.js";
import { docsIpnFields } from "./support/fixtures.js";
import type { Clock, Timer } from "../sandbox/clock/index.js";
import {
  IPN_BODY_EXCERPT_CHARS,
  createDispatcher,
  decodeIpnBody,
  verifyIpnHash,
} from "../sandbox/ipn/index.js";
import type {
  DeliveryRecord,
  Dispatched,
  Dispatcher,
  DispatcherOptions,
  FaultSpec,
  IpnFields,
  Transport,
} from "../sandbox/ipn/index.js";
import { createLogger } from "../sandbox/log/index.js";
import type { LogEvent } from "../sandbox/log/index.js";
import { createMemoryStore } from "../sandbox/store/index.js";

const SECRET = "merchantSecret42";

interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Sink {
  url: string;
  server: http.Server;
  received: Received[];
  /** TCP connections the sink accepted. */
  connections: number;
}

type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const sinks: http.Server[] = [];
const dispatchers: Dispatcher[] = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
  await Promise.all(
    sinks.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function startSink(answer: Answer = (_req, res) => res.end("OK")): Promise<Sink> {
  const server = http.createServer();
  const sink: Sink = { url: "", server, received: [], connections: 0 };
  server.on("connection", () => sink.connections++);
  server.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      sink.received.push({ method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      answer(req, res);
    });
  });
  sinks.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ipn`;
  return sink;
}

/** A port nothing listens on: bound once, then released. */
async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function setup(options: Partial<DispatcherOptions> = {}) {
  const store = createMemoryStore();
  const clock = createClock("real");
  const logged: LogEvent[] = [];
  const logger = createLogger({ format: "json", write: (line) => logged.push(JSON.parse(line) as LogEvent) });
  const dispatcher = createDispatcher({ store, clock, logger, ...options });
  dispatchers.push(dispatcher);
  return { store, clock, logged, dispatcher };
}

/** The one record of a dispatch that makes exactly one. */
function only(dispatched: Dispatched | undefined): DeliveryRecord {
  expect(dispatched?.records).toHaveLength(1);
  return dispatched!.records[0]!;
}

/** Resolves as `promise` does, or fails the test after `ms` of wall time: no wait in these tests is unbounded. */
async function within<T>(promise: Promise<T>, ms = 3_000, what = "the IPN to settle"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${ms} ms for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The docs' example with a second requisite whose name and value need encoding. */
function ipnFields(overrides: Partial<IpnFields> = {}): IpnFields {
  return docsIpnFields({
    toValues: [
      { key: "5d8e6002b80b7b4cd75a6401", name: "Wallet", value: "Z123456789012" },
      { key: "5d8e6002b80b7b4cd75a6402", name: "Имя & фамилия", value: "Иван = Петров" },
    ],
    ...overrides,
  });
}

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
    expect(record?.latencyMs).toBeGreaterThanOrEqual(0);
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
    const silent = await startSink(() => {});
    const healthy = await startSink();
    const { dispatcher, store, logged } = setup({ timeoutMs: 300 });

    const slow = only(dispatcher.dispatch({ orderUID: 1, url: silent.url, secret: SECRET, fields: ipnFields() }));
    const fast = only(dispatcher.dispatch({ orderUID: 2, url: healthy.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();

    expect(store.getDelivery(slow.id)).toMatchObject({
      outcome: "timeout",
      response: null,
      error: "no answer within 300 ms",
    });
    expect(store.getDelivery(slow.id)?.latencyMs).toBeGreaterThanOrEqual(290);
    expect(store.getDelivery(fast.id)).toMatchObject({ outcome: "accepted" });
    expect(store.getDelivery(fast.id)?.latencyMs).toBeLessThan(300);
    expect(logged.map((event) => event.type === "ipn" && event.deliveryId)).toEqual([fast.id, slow.id]);
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
    const { dispatcher, store } = setup({ timeoutMs: 2_000 });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome: "accepted", response: { status: 200 } });
    expect(store.getDelivery(id)?.latencyMs).toBeLessThan(2_000);
  });

  it("reuses one keep-alive socket for two IPNs in a row to one merchant", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
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

describe("IPN delivery through an injected transport", () => {
  it("times out even when the transport ignores the abort signal", async () => {
    const transport: Transport = () => new Promise(() => {});
    const { dispatcher, store } = setup({ transport, timeoutMs: 50 });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome: "timeout", error: "no answer within 50 ms" });
  });

  it("records a transport that throws as an error", async () => {
    const transport: Transport = () => {
      throw new Error("kaput");
    };
    const { dispatcher, store } = setup({ transport });
    const { id } = only(dispatcher.dispatch({ orderUID: 1, url: "http://merchant.test/ipn", secret: SECRET, fields: ipnFields() }));
    await dispatcher.idle();
    expect(store.getDelivery(id)).toMatchObject({ outcome: "error", error: "kaput" });
  });

  it("does not write an in-flight IPN back into a store that was reset under it", async () => {
    let answer: (value: { status: number; bodyExcerpt: string }) => void = () => {};
    const transport: Transport = () => new Promise((resolve) => (answer = resolve));
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
    const { dispatcher } = setup({ transport: async () => ({ status: 200, bodyExcerpt: "" }) });
    expect(() =>
      dispatcher.dispatch({ orderUID: 1, url: "http://x.test/", secret: SECRET, fields: ipnFields(), fault: "explode" as never }),
    ).toThrow(/unknown IPN fault "explode"; expected one of: deliver, drop/);
  });
});

/**
 * A sandbox clock that moves only when the test calls `advance`: the Clock interface, small enough to trust, so
 * timing faults can be stepped through deterministically.
 */
function createTestClock(startAt = 1_700_000_000_000) {
  let now = startAt;
  let seq = 0;
  const timers = new Map<number, { dueAt: number; fn: () => void }>();
  const advanceTo = (target: number) => {
    for (;;) {
      const due = [...timers].filter(([, t]) => t.dueAt <= target).sort(([a, x], [b, y]) => x.dueAt - y.dueAt || a - b)[0];
      if (!due) break;
      timers.delete(due[0]);
      now = Math.max(now, due[1].dueAt);
      due[1].fn();
    }
    now = Math.max(now, target);
  };
  const clock = {
    kind: "manual" as Clock["kind"],
    speed: 0,
    now: () => now,
    setTimer(ms: number, fn: () => void): Timer {
      const id = seq++;
      timers.set(id, { dueAt: now + Math.max(0, ms), fn });
      return { cancel: () => void timers.delete(id) };
    },
    sleep: (ms: number) => new Promise<void>((resolve) => void clock.setTimer(ms, resolve)),
    advance: (ms: number) => advanceTo(now + ms),
    nextTimerAt: () => Math.min(...[...timers.values()].map((t) => t.dueAt)) || null,
    dispose: () => timers.clear(),
    /** Timers still waiting. */
    pending: () => timers.size,
  } satisfies Clock & { pending(): number };
  return clock;
}

function setupOnTestClock(options: Partial<DispatcherOptions> = {}) {
  const clock = createTestClock();
  return { ...setup({ clock, ...options }), clock };
}

const newStatusOf = (request: Received) => decodeIpnBody(request.body).fields.newStatus;

/** Whether idle() is still waiting after a short real pause. */
async function stillBusy(dispatcher: Dispatcher): Promise<boolean> {
  let idle = false;
  void dispatcher.idle().then(() => (idle = true));
  await new Promise((resolve) => setTimeout(resolve, 30));
  return !idle;
}

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
    let open = 0;
    let mostOpen = 0;
    const sink = await startSink((_req, res) => {
      mostOpen = Math.max(mostOpen, ++open);
      setTimeout(() => {
        open--;
        res.end("OK");
      }, 10);
    });
    const { dispatcher, clock } = setupOnTestClock();
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
    expect(records.map((record) => record.sentAt)).toEqual([clock.now(), null, null]);

    const finals = await within(settled);
    expect(sink.received.map((request) => request.body)).toEqual([records[0]!.body, records[0]!.body, records[0]!.body]);
    expect(finals.map((record) => record.outcome)).toEqual(["accepted", "accepted", "accepted"]);
    expect(mostOpen).toBe(1);
  });

  it("reorder: holds the IPN until the order's next one has been sent, then sends it right after", async () => {
    let open = 0;
    let mostOpen = 0;
    const sink = await startSink((_req, res) => {
      mostOpen = Math.max(mostOpen, ++open);
      setTimeout(() => {
        open--;
        res.end("OK");
      }, 20);
    });
    const { dispatcher, store, clock } = setupOnTestClock();
    const first = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "inProgress" }), fault: "reorder" });
    expect(only(first)).toMatchObject({ outcome: "held", dueAt: clock.now() + 60_000 });
    const next = dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields({ newStatus: "done" }) });

    const [held] = await within(first.settled);
    expect(sink.received.map(newStatusOf)).toEqual(["done", "inProgress"]);
    // Sent once the next IPN was answered, not merely started.
    expect(mostOpen).toBe(1);
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
    clock.advance(10_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    await new Promise((resolve) => setTimeout(resolve, 20));
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
    expect(resent.records[0]).toMatchObject({ resendOf: copy!.id, group: resent.records[0]!.id, fault: "tamperHash", sentAt: clock.now() });
    const [final] = await within(resent.settled);
    expect(final?.outcome).toBe("accepted");
    expect(sink.received.map((request) => request.body)).toEqual([copy!.body, copy!.body]);
  });
});

describe("the per-origin socket limit", () => {
  it("has at most maxSocketsPerOrigin IPNs on the wire to one merchant, queues the rest and delivers them all", async () => {
    let open = 0;
    let mostOpen = 0;
    const waiting: http.ServerResponse[] = [];
    const sink = await startSink((_req, res) => {
      open++;
      mostOpen = Math.max(mostOpen, open);
      res.on("finish", () => open--);
      waiting.push(res);
    });
    const { dispatcher, store } = setup({ maxSocketsPerOrigin: 2 });
    for (let n = 0; n < 9; n++) {
      dispatcher.dispatch({ orderUID: 2000 + n, url: sink.url, secret: SECRET, fields: ipnFields({ orderUID: String(2000 + n) }) });
    }
    // Answer whatever is waiting, a turn at a time, until all nine have come and gone.
    const settled = dispatcher.idle();
    for (let turn = 0; turn < 400 && !(sink.received.length === 9 && waiting.length === 0); turn++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(waiting.length).toBeLessThanOrEqual(2);
      for (const res of waiting.splice(0)) res.end("OK");
    }
    await within(settled);
    expect(sink.received).toHaveLength(9);
    expect(mostOpen).toBe(2);
    expect(store.listDeliveries().map((r) => r.outcome)).toEqual(Array(9).fill("accepted"));
    // The received order is the dispatch order: the queue is first come, first served.
    expect(sink.received.map((r) => new URLSearchParams(r.body).get("orderUID"))).toEqual(Array.from({ length: 9 }, (_, n) => String(2000 + n)));
  });
});
