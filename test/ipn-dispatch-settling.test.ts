// How a dispatch settles and idle() waits, for the IPNs the dispatcher tracks without a promise of their own.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createClock } from "../sandbox/clock/index.js";
import { createDispatcher } from "../sandbox/ipn/index.js";
import type { Dispatcher, DispatcherOptions } from "../sandbox/ipn/index.js";
import { createLogger } from "../sandbox/log/index.js";
import { createMemoryStore } from "../sandbox/store/index.js";
import { docsIpnFields } from "./support/fixtures.js";

const SECRET = "merchantSecret42";
const servers: http.Server[] = [];
const dispatchers: Dispatcher[] = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((dispatcher) => dispatcher.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

/** A merchant that answers "OK", except the IPNs `hang` picks by their body, which it never answers. */
async function startSink(hang: (body: string) => boolean = () => false): Promise<{ url: string; received: string[]; arrived: Promise<void> }> {
  const received: string[] = [];
  let arrive = () => {};
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push(body);
      arrive();
      if (!hang(body)) res.end("OK");
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ipn`, received, arrived };
}

/** A dispatcher whose IPN timeout runs on `network`, a manual clock: nothing times out until the test advances it. */
function setup(options: Partial<DispatcherOptions> = {}) {
  const store = createMemoryStore();
  const network = createClock("manual", { startAt: 0 });
  const dispatcher = createDispatcher({ store, clock: createClock("real"), wallClock: network, logger: createLogger({ quiet: true }), ...options });
  dispatchers.push(dispatcher);
  return { store, network, dispatcher };
}

const ipn = (url: string, orderUID: number) => ({ orderUID, url, secret: SECRET, fields: docsIpnFields({ orderUID: String(orderUID) }) });

describe("settling a dispatch", () => {
  it("gives the final record through settled even when asked for only after the IPN was delivered", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const dispatched = dispatcher.dispatch(ipn(sink.url, 1));
    await dispatcher.idle();

    const finals = await dispatched.settled;
    expect(finals).toEqual([store.getDelivery(dispatched.records[0]!.id)]);
    expect(finals[0]).toMatchObject({ outcome: "accepted", response: { status: 200, bodyExcerpt: "OK" } });
    expect(dispatched.settled).toBe(dispatched.settled);
  });

  it("idle() also waits for an IPN dispatched when another one settles", async () => {
    const sink = await startSink();
    const { dispatcher, store } = setup();
    const first = dispatcher.dispatch(ipn(sink.url, 1));
    void first.settled.then(() => dispatcher.dispatch(ipn(sink.url, 2)));
    await dispatcher.idle();

    expect(store.listDeliveries().map((record) => [record.orderUID, record.outcome])).toEqual([
      [1, "accepted"],
      [2, "accepted"],
    ]);
  });

  it("times out IPNs queued behind a merchant that hangs, and sends later ones once the socket is free", async () => {
    const sink = await startSink((body) => new URLSearchParams(body).get("orderUID") !== "4");
    const { dispatcher, store, network } = setup({ maxSocketsPerOrigin: 1, timeoutMs: 150 });
    const stuck = [1, 2, 3].map((uid) => dispatcher.dispatch(ipn(sink.url, uid)));
    // The merchant holds the first on the only connection; the other two wait in the queue when the timeout comes.
    await sink.arrived;
    network.advance(150);
    await dispatcher.idle();

    expect(await Promise.all(stuck.map(async ({ settled }) => (await settled)[0]!.error))).toEqual([
      "no answer within 150 ms",
      "not sent within 150 ms: no connection to the merchant was free or could be made",
      "not sent within 150 ms: no connection to the merchant was free or could be made",
    ]);
    expect(stuck.map(({ records }) => store.getDelivery(records[0]!.id)!.outcome)).toEqual(["timeout", "timeout", "timeout"]);
    expect(sink.received).toHaveLength(1);

    const later = dispatcher.dispatch(ipn(sink.url, 4));
    expect((await later.settled)[0]).toMatchObject({ outcome: "accepted" });
    expect(store.listDeliveries()).toHaveLength(4);
  });
});
