// Shared by the dispatcher's tests: merchant sinks on 127.0.0.1, a dispatcher on a memory store, test clocks for
// sandbox time and for the wall time the IPN timeout runs on.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { Clock, Timer } from "../../sandbox/clock/index.js";
import { createClock } from "../../sandbox/clock/index.js";
import { createDispatcher, decodeIpnBody } from "../../sandbox/ipn/index.js";
import type {
  DeliveryRecord,
  Dispatched,
  Dispatcher,
  DispatcherOptions,
  IpnFields,
  Transport,
  TransportRequest,
  TransportResponse,
} from "../../sandbox/ipn/index.js";
import { createLogger, type LogEvent } from "../../sandbox/log/index.js";
import { createMemoryStore } from "../../sandbox/store/index.js";
import { docsIpnFields } from "./fixtures.js";
import { within as waitWithin } from "./wait.js";

export const SECRET = "merchantSecret42";

export interface Received {
  method: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Sink {
  url: string;
  server: http.Server;
  received: Received[];
  /** TCP connections the sink accepted. */
  connections: number;
}

export type Answer = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const sinks: http.Server[] = [];
const dispatchers: Dispatcher[] = [];

/** Closes every sink and dispatcher the test made: call it in afterEach. */
export async function cleanUp(): Promise<void> {
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
}

export async function startSink(answer: Answer = (_req, res) => res.end("OK")): Promise<Sink> {
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
export async function deadPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A dispatcher on a memory store and a real sandbox clock. Its IPN timeout runs on `network`, a test clock that moves
 * only when the test advances it: no delivery here times out unless the test says so, however busy the machine.
 */
export function setup(options: Partial<DispatcherOptions> = {}) {
  const store = createMemoryStore();
  const clock = createClock("real");
  const network = createTestClock(0);
  const logged: LogEvent[] = [];
  const logger = createLogger({ format: "json", write: (line) => logged.push(JSON.parse(line) as LogEvent) });
  const dispatcher = createDispatcher({ store, clock, logger, wallClock: network, ...options });
  dispatchers.push(dispatcher);
  return { store, clock, network, logged, dispatcher };
}

/** The one record of a dispatch that makes exactly one. */
export function only(dispatched: Dispatched | undefined): DeliveryRecord {
  expect(dispatched?.records).toHaveLength(1);
  return dispatched!.records[0]!;
}

/** Resolves as `promise` does, or fails the test after a hang guard's wait: no wait in these tests is unbounded. */
export const within = <T>(promise: Promise<T>, ms?: number, what = "the IPN to settle"): Promise<T> => waitWithin(promise, ms, what);

/** The docs' example with a second requisite whose name and value need encoding. */
export function ipnFields(overrides: Partial<IpnFields> = {}): IpnFields {
  return docsIpnFields({
    toValues: [
      { key: "5d8e6002b80b7b4cd75a6401", name: "Wallet", value: "Z123456789012" },
      { key: "5d8e6002b80b7b4cd75a6402", name: "Имя & фамилия", value: "Иван = Петров" },
    ],
    ...overrides,
  });
}

/** A transport made of a function that answers each request: it puts the request on the wire at once. */
export function promised(answer: (request: TransportRequest) => Promise<TransportResponse>): Transport {
  return {
    send(request) {
      request.onSent();
      answer(request).then(
        (response) => request.onEnd(null, response),
        (error: unknown) => request.onEnd(error, null),
      );
      return { cancel: () => {} };
    },
    close: async () => {},
  };
}

/**
 * A sandbox clock that moves only when the test calls `advance`: the Clock interface, small enough to trust, so
 * timing faults can be stepped through deterministically.
 */
export function createTestClock(startAt = 1_700_000_000_000) {
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

export function setupOnTestClock(options: Partial<DispatcherOptions> = {}) {
  const clock = createTestClock();
  return { ...setup({ clock, ...options }), clock };
}

export const newStatusOf = (request: Received) => decodeIpnBody(request.body).fields.newStatus;

/**
 * Whether idle() is still waiting once everything already due has run: its promise chain, and a turn of the event
 * loop. A held IPN waits on the test clock alone, so nothing else can settle it.
 */
export async function stillBusy(dispatcher: Dispatcher): Promise<boolean> {
  let idle = false;
  void dispatcher.idle().then(() => (idle = true));
  await new Promise((resolve) => setImmediate(resolve));
  return !idle;
}

/** A request a holding sink has, unanswered until the test answers it. */
export interface HeldRequest extends Received {
  answer(status?: number, body?: string): void;
}

/**
 * A sink that answers nothing until the test does: `next()` resolves with the next request to arrive, and `held`
 * counts those not answered yet. The test decides when each answer goes, so nothing depends on how fast it runs.
 */
export async function startHoldingSink(): Promise<Sink & { next(what?: string): Promise<HeldRequest>; held(): number }> {
  const arrived: HeldRequest[] = [];
  const waiting: ((request: HeldRequest) => void)[] = [];
  let unanswered = 0;
  const sink = await startSink((_req, res) => {
    unanswered++;
    let answered = false;
    const request: HeldRequest = {
      // The sink recorded the request just before asking for its answer.
      ...sink.received.at(-1)!,
      answer(status = 200, body = "OK") {
        if (answered) return;
        answered = true;
        unanswered--;
        res.writeHead(status).end(body);
      },
    };
    const waiter = waiting.shift();
    if (waiter) waiter(request);
    else arrived.push(request);
  });
  return Object.assign(sink, {
    next: (what = "the next IPN to reach the merchant") => {
      const ready = arrived.shift();
      return within(ready ? Promise.resolve(ready) : new Promise<HeldRequest>((resolve) => waiting.push(resolve)), undefined, what);
    },
    held: () => unanswered,
  });
}
