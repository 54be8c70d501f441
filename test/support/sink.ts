// A real merchant IPN sink for tests: a plain node:http server on port 0 that records what it receives.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HANG_GUARD_MS } from "./wait.js";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The body decoded as a form, key → value, in order. */
  form: URLSearchParams;
  at: number;
}

export type SinkBehaviour = (req: ReceivedRequest, res: ServerResponse) => void;

export interface Sink {
  url: string;
  received: ReceivedRequest[];
  /** Resolves once `count` requests have arrived (or rejects after `timeoutMs`, a guard against a hang). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export const answerOk: SinkBehaviour = (_req, res) => {
  res.writeHead(200, { "content-type": "text/plain" }).end("OK");
};

/** Never answers: the request hangs until the client gives up. */
export const hang: SinkBehaviour = () => {};

export async function startSink(behaviour: SinkBehaviour = answerOk): Promise<Sink> {
  const received: ReceivedRequest[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const entry: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
        at: performance.now(),
      };
      received.push(entry);
      for (const wake of waiters.splice(0)) wake();
      behaviour(entry, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ipn`,
    received,
    async waitFor(count, timeoutMs = HANG_GUARD_MS) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`sink received ${received.length} of ${count} requests within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
      return received.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 that was free a moment ago, for a server started in another process. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A port on 127.0.0.1 where nothing listens: connecting to it is refused. */
export async function deadUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/ipn`;
}
