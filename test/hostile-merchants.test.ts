// IPN delivery against hostile merchants: one clear record within the timeout, capped reads, bounded memory.

import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams, type DeliveryRecord, type Sandbox } from "../sandbox/index.js";
import { IPN_BODY_EXCERPT_CHARS, IPN_BODY_READ_LIMIT_BYTES } from "../sandbox/ipn/index.js";

const TIMEOUT_MS = 500;
/** How late past the timeout a record may settle: timers and a loaded machine, not a second timeout. */
const SLACK_MS = 400;
const TEN_MB = Buffer.alloc(10 * 1024 * 1024, "a");

interface Merchant {
  url: string;
  /** Requests that arrived. */
  requests: number;
  /** Body bytes written for each answer, as the server managed to hand them to the socket. */
  written: number[];
  close(): Promise<void>;
}

const merchants: Merchant[] = [];
afterAll(async () => {
  await Promise.all(merchants.map((m) => m.close()));
});

async function listen(server: net.Server, path = "/ipn"): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

/** An http merchant; `answer` runs once the IPN's body has arrived. */
async function httpMerchant(answer: (res: http.ServerResponse, merchant: Merchant, index: number) => void): Promise<Merchant> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const index = merchant.requests++;
    merchant.written[index] = 0;
    res.on("error", () => {});
    req.resume();
    req.on("end", () => answer(res, merchant, index));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const merchant: Merchant = {
    url: await listen(server),
    requests: 0,
    written: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  merchants.push(merchant);
  return merchant;
}

const healthy = () => httpMerchant((res) => res.end("OK"));

const hostile = {
  /** Takes the IPN and never answers. */
  hangs: () => httpMerchant(() => {}),
  /** Sends the status line and headers, a few bytes of a longer body, then resets the connection. */
  resets: async (): Promise<Merchant> => {
    const server = net.createServer((socket) => {
      merchant.requests++;
      socket.once("data", () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\npartial");
        setTimeout(() => socket.resetAndDestroy(), 20);
      });
      socket.on("error", () => {});
    });
    const merchant: Merchant = { url: await listen(server), requests: 0, written: [], close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    merchants.push(merchant);
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

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({ seed: 8, ipnTimeoutMs: TIMEOUT_MS });
});
afterAll(() => sandbox.close());
afterEach(() => sandbox.dispatcher.idle());

async function orderTo(ipnUrl: string): Promise<number> {
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(exampleCreateParams(sandbox.catalog.routes[0]!, { ipnUrl, ipnSecret: "s3cret" })),
  });
  return ((await res.json()) as { data: { uid: number } }).data.uid;
}

/** Moves each order (so each fires one IPN) and resolves with each one's delivery records once all have settled. */
async function deliver(...uids: number[]): Promise<{ records: DeliveryRecord[][]; wallMs: number }> {
  const started = performance.now();
  for (const uid of uids) sandbox.orders.move(uid, "waitPayment", { cause: "test" });
  await sandbox.dispatcher.idle();
  return { records: uids.map((uid) => sandbox.store.listDeliveries({ orderUID: uid })), wallMs: performance.now() - started };
}

describe("IPN delivery to a hostile merchant", () => {
  it.each<[string, () => Promise<Merchant>, Partial<DeliveryRecord>, RegExp | null]>([
    ["hangs", hostile.hangs, { outcome: "timeout", response: null }, /^no answer within 500 ms$/],
    ["resets the connection mid-answer", hostile.resets, { outcome: "error", response: null }, /connection reset|closed before the answer was complete/],
    ["drips its body one byte every 50 ms", hostile.drips, { outcome: "timeout", response: null }, /^HTTP 200 arrived, but not the rest of the answer within 500 ms$/],
    ["redirects to itself", hostile.redirectsToItself, { outcome: "rejected", error: null }, null],
  ])("that %s: one record with a clear outcome within the timeout, while another order's IPN goes out", async (_name, make, expected, error) => {
    const merchant = await make();
    const sink = await healthy();
    const [bad, good] = [await orderTo(merchant.url), await orderTo(sink.url)];
    const { records, wallMs } = await deliver(bad, good);

    expect(records[0]).toHaveLength(1);
    const record = records[0]![0]!;
    expect(record).toMatchObject(expected);
    if (error) expect(record.error).toMatch(error);
    expect(record.latencyMs).toBeLessThanOrEqual(TIMEOUT_MS + SLACK_MS);
    expect(wallMs).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(merchant.requests).toBe(1);

    // The healthy merchant's IPN was not held up behind the hostile one.
    expect(records[1]).toHaveLength(1);
    expect(records[1]![0]).toMatchObject({ outcome: "accepted", response: { status: 200, bodyExcerpt: "OK" } });
    expect(records[1]![0]!.latencyMs).toBeLessThan(TIMEOUT_MS);
  });

  it("that redirects to itself: the 302 is recorded with its answer and never followed", async () => {
    const merchant = await hostile.redirectsToItself();
    const { records } = await deliver(await orderTo(merchant.url));
    expect(records[0]![0]).toMatchObject({ outcome: "rejected", response: { status: 302, bodyExcerpt: "moved" } });
    expect(merchant.requests).toBe(1);
  });

  it("that answers with 10 MB: accepted, the excerpt cut, and no more than the read limit taken from it", async () => {
    const merchant = await hostile.answers10MB();
    const sink = await healthy();
    const { records } = await deliver(await orderTo(merchant.url), await orderTo(sink.url));
    expect(records[0]).toHaveLength(1);
    expect(records[0]![0]).toMatchObject({ outcome: "accepted", response: { status: 200 } });
    expect(records[0]![0]!.response!.bodyExcerpt).toBe("a".repeat(IPN_BODY_EXCERPT_CHARS));
    expect(records[1]![0]).toMatchObject({ outcome: "accepted" });
    // The sandbox stopped reading and closed the connection: the merchant could not hand over its 10 MB.
    expect(merchant.written[0]).toBeLessThan(TEN_MB.length);
    expect(IPN_BODY_READ_LIMIT_BYTES).toBe(64 * 1024);
  });

  it("answering 10 MB to 20 IPNs at once keeps the sandbox's memory bounded", async () => {
    const merchant = await hostile.answers10MB();
    const uids: number[] = [];
    for (let i = 0; i < 20; i++) uids.push(await orderTo(merchant.url));
    const memory = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = memory();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, memory())), 2);
    try {
      const { records } = await deliver(...uids);
      peak = Math.max(peak, memory());
      expect(records.map((r) => r.map((d) => d.outcome))).toEqual(uids.map(() => ["accepted"]));
    } finally {
      clearInterval(sampler);
    }
    expect(merchant.requests).toBe(20);
    expect((peak - baseline) / 1024 / 1024, "MB more at the peak than before").toBeLessThan(50);
    for (const written of merchant.written) expect(written).toBeLessThan(TEN_MB.length);
  });
});
