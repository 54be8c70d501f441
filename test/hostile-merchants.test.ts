// IPN delivery against hostile merchants: one clear record, the timeout on the test's own wall clock, capped reads.

import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createNodeTransport, IPN_BODY_EXCERPT_CHARS, IPN_BODY_READ_LIMIT_BYTES, type DeliveryRecord, type Transport } from "../sandbox/ipn/index.js";
import { SECRET, cleanUp, ipnFields, setup, startSink, within } from "./support/dispatcher.js";

const TIMEOUT_MS = 500;
const TEN_MB = Buffer.alloc(10 * 1024 * 1024, "a");

interface Merchant {
  url: string;
  /** Requests that arrived. */
  requests: number;
  /** Resolves once `count` requests have arrived. */
  arrived(count: number): Promise<void>;
  /** Body bytes written for each answer, as the server managed to hand them to the socket. */
  written: number[];
  close(): Promise<void>;
}

const merchants: Merchant[] = [];
afterEach(async () => {
  await cleanUp();
  await Promise.all(merchants.splice(0).map((m) => m.close()));
});

async function listen(server: net.Server, path = "/ipn"): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

/** The merchant's bookkeeping: its request count, and waiting for it. */
function counted(url: string, close: () => Promise<void>): Merchant & { arrive(): number } {
  const waiters: { count: number; resolve: () => void }[] = [];
  const merchant = {
    url,
    requests: 0,
    written: [] as number[],
    close,
    arrived: (count: number) =>
      within(merchant.requests >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })), undefined, `${count} request(s) at the merchant`),
    arrive() {
      const index = merchant.requests++;
      for (const waiter of waiters.filter((w) => w.count <= merchant.requests)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
      return index;
    },
  };
  merchants.push(merchant);
  return merchant;
}

/** An http merchant; `answer` runs once the IPN's body has arrived. */
async function httpMerchant(answer: (res: http.ServerResponse, merchant: Merchant, index: number) => void): Promise<Merchant> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    res.on("error", () => {});
    req.resume();
    req.on("end", () => {
      const index = merchant.arrive();
      merchant.written[index] = 0;
      answer(res, merchant, index);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const merchant = counted(await listen(server), () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return merchant;
}

const hostile = {
  /** Takes the IPN and never answers. */
  hangs: () => httpMerchant(() => {}),
  /** Sends the status line and headers, a few bytes of a longer body, then resets the connection. */
  resets: async (): Promise<Merchant> => {
    const server = net.createServer((socket) => {
      merchant.arrive();
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\npartial", () => socket.resetAndDestroy());
      });
      socket.on("error", () => {});
    });
    const merchant = counted(await listen(server), () => new Promise<void>((resolve) => server.close(() => resolve())));
    return merchant;
  },
  /** Answers 200 at once, then drips its body one byte every 50 ms, forever. */
  drips: () =>
    httpMerchant((res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("O");
      const timer = setInterval(() => res.write("K"), 50);
      res.on("close", () => clearInterval(timer));
    }),
  /** Answers 200 with 10 MB, written as fast as the socket takes it, counting what it managed to write. */
  answers10MB: () =>
    httpMerchant((res, merchant, index) => {
      res.writeHead(200, { "content-type": "text/plain", "content-length": String(TEN_MB.length) });
      let offset = 0;
      const pump = () => {
        while (offset < TEN_MB.length) {
          const chunk = TEN_MB.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          merchant.written[index]! += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      pump();
    }),
  /** Redirects every request to itself. */
  redirectsToItself: () =>
    httpMerchant((res) => {
      res.writeHead(302, { location: "/ipn" }).end("moved");
    }),
};

/**
 * The built-in transport, also telling the test when an answer's status line has arrived: a merchant that then
 * stalls is only told apart from a silent one once it has.
 */
const node = createNodeTransport();
afterAll(() => node.close());
const statusSeen = new Map<string, () => void>();
const transport: Transport = {
  send: (request) =>
    node.send({
      url: request.url,
      body: request.body,
      headers: request.headers,
      onSent: () => request.onSent(),
      onStatus(status) {
        request.onStatus(status);
        statusSeen.get(request.url.href)?.();
      },
      onEnd: (error, response) => request.onEnd(error, response),
    }),
  close: async () => {},
};
const statusArrives = (url: string) => within(new Promise<void>((resolve) => statusSeen.set(new URL(url).href, resolve)), undefined, `the status line from ${url}`);

/** A dispatcher whose IPN timeout is TIMEOUT_MS of the test's own wall clock, and the IPNs it sends. */
function dispatcherFor() {
  const { dispatcher, network } = setup({ transport, timeoutMs: TIMEOUT_MS });
  let uid = 0;
  const send = (url: string) => dispatcher.dispatch({ orderUID: ++uid, url, secret: SECRET, fields: ipnFields({ orderUID: String(uid) }) });
  return { dispatcher, network, send };
}

const healthy = () => httpMerchant((res) => res.end("OK"));

describe("IPN delivery to a hostile merchant", () => {
  it.each<[string, () => Promise<Merchant>, Partial<DeliveryRecord>, RegExp | null, "request" | "status" | null]>([
    ["hangs", hostile.hangs, { outcome: "timeout", response: null }, /^no answer within 500 ms$/, "request"],
    ["resets the connection mid-answer", hostile.resets, { outcome: "error", response: null }, /connection reset|closed before the answer was complete/, null],
    ["drips its body one byte every 50 ms", hostile.drips, { outcome: "timeout", response: null }, /^HTTP 200 arrived, but not the rest of the answer within 500 ms$/, "status"],
    ["redirects to itself", hostile.redirectsToItself, { outcome: "rejected", error: null }, null, null],
  ])("that %s: one record with a clear outcome, while another order's IPN goes out", async (_name, make, expected, error, timesOutAfter) => {
    const merchant = await make();
    const sink = await healthy();
    const { network, send } = dispatcherFor();
    const status = timesOutAfter === "status" ? statusArrives(merchant.url) : null;
    const bad = send(merchant.url);
    const good = send(sink.url);

    // The healthy merchant's IPN is answered whatever the hostile one does: no time passes for the timeout meanwhile.
    expect(await within(good.settled)).toEqual([expect.objectContaining({ outcome: "accepted", response: { status: 200, bodyExcerpt: "OK" } })]);
    if (timesOutAfter !== null) {
      await merchant.arrived(1);
      await status;
      network.advance(TIMEOUT_MS);
    }
    const records = await within(bad.settled);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject(expected);
    if (error) expect(records[0]!.error).toMatch(error);
    if (timesOutAfter !== null) expect(records[0]!.latencyMs).toBe(TIMEOUT_MS);
    expect(merchant.requests).toBe(1);
  });

  it("that redirects to itself: the 302 is recorded with its answer and never followed", async () => {
    const merchant = await hostile.redirectsToItself();
    const { send } = dispatcherFor();
    expect(await within(send(merchant.url).settled)).toEqual([expect.objectContaining({ outcome: "rejected", response: { status: 302, bodyExcerpt: "moved" } })]);
    expect(merchant.requests).toBe(1);
  });

  it("that answers with 10 MB: accepted, the excerpt cut, and no more than the read limit taken from it", async () => {
    const merchant = await hostile.answers10MB();
    const sink = await healthy();
    const { send } = dispatcherFor();
    const [big, small] = [send(merchant.url), send(sink.url)];
    const [record] = await within(big.settled);
    expect(record).toMatchObject({ outcome: "accepted", response: { status: 200 } });
    expect(record!.response!.bodyExcerpt).toBe("a".repeat(IPN_BODY_EXCERPT_CHARS));
    expect((await within(small.settled))[0]).toMatchObject({ outcome: "accepted" });
    // The sandbox stopped reading and closed the connection: the merchant could not hand over its 10 MB.
    expect(merchant.written[0]).toBeLessThan(TEN_MB.length);
  });

  it("answering 10 MB to 20 IPNs at once: every one accepted, and none read to its end", async () => {
    const merchant = await hostile.answers10MB();
    const { dispatcher, send } = dispatcherFor();
    const sent = Array.from({ length: 20 }, () => send(merchant.url));
    await within(dispatcher.idle(), 60_000);
    const finals = await Promise.all(sent.map((s) => s.settled));
    expect(finals.map((records) => records.map((r) => r.outcome))).toEqual(sent.map(() => ["accepted"]));
    expect(merchant.requests).toBe(20);
    for (const written of merchant.written) expect(written).toBeLessThan(TEN_MB.length);
  });
});

describe("the read limit", () => {
  /** A merchant answering `bytes` bytes to every IPN, and whether two IPNs in a row shared one connection. */
  async function twoInARow(bytes: number) {
    const sink = await startSink((_req, res) => res.writeHead(200, { "content-length": String(bytes) }).end(Buffer.alloc(bytes, "b")));
    // Kept open between the two IPNs however long the machine takes: only the sandbox may close it.
    sink.server.keepAliveTimeout = 600_000;
    // One connection per merchant: the second IPN goes out on the first one's, unless that was closed.
    const { dispatcher } = setup({ maxSocketsPerOrigin: 1 });
    const send = () => within(dispatcher.dispatch({ orderUID: 1, url: sink.url, secret: SECRET, fields: ipnFields() }).settled);
    const first = await send();
    const second = await send();
    return { outcomes: [...first, ...second].map((r) => r.outcome), excerpt: first[0]!.response!.bodyExcerpt.length, connections: sink.connections };
  }

  it("reads an answer of up to IPN_BODY_READ_LIMIT_BYTES to its end, so its connection serves the next IPN", async () => {
    expect(await twoInARow(IPN_BODY_READ_LIMIT_BYTES)).toEqual({ outcomes: ["accepted", "accepted"], excerpt: IPN_BODY_EXCERPT_CHARS, connections: 1 });
  });

  it("cuts an answer one byte longer and closes its connection rather than drain it", async () => {
    expect(await twoInARow(IPN_BODY_READ_LIMIT_BYTES + 1)).toEqual({ outcomes: ["accepted", "accepted"], excerpt: IPN_BODY_EXCERPT_CHARS, connections: 2 });
  });
});
