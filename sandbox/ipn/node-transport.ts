// The built-in transport: undici's Agent, a pool of keep-alive connections per merchant origin.

import { createRequire } from "node:module";
import type { Agent, Dispatcher } from "undici";
import {
  IPN_BODY_EXCERPT_CHARS,
  IPN_BODY_READ_LIMIT_BYTES,
  cutExcerpt,
  type Sending,
  type Transport,
  type TransportRequest,
} from "./transport.js";

export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 32;

export interface NodeTransportOptions {
  /**
   * Connections per merchant origin (default 32). Counted per origin, so it bounds the load on one merchant while a
   * slow merchant cannot hold up the others' IPNs; requests beyond it wait for a free connection, first come first
   * served.
   */
  maxSocketsPerOrigin?: number;
}

/**
 * undici rather than node:http: its per-origin pools queue requests in order at a constant cost each and parse
 * answers faster. The dispatcher's deadline is the only timeout, so undici's own (connect, headers, body) are off.
 */
export function createNodeTransport(options: NodeTransportOptions = {}): Transport {
  const connections = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
  let agent: Agent | null = null;
  return {
    send(request) {
      const exchange = new Exchange(request);
      try {
        agent ??= new (loadUndici().Agent)({ connections, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connect: { timeout: 0 } });
        agent.dispatch(requestOptions(request), exchange);
      } catch (error) {
        exchange.end(error, false);
      }
      return exchange;
    },
    close: async () => {
      await agent?.destroy();
      agent = null;
    },
  };
}

/**
 * undici, loaded when the first IPN goes out: a sandbox that sends none (and a scenario file that only imports the
 * package) never loads it, and starting does not wait for it.
 */
function loadUndici(): typeof import("undici") {
  return (undici ??= createRequire(import.meta.url)("undici") as typeof import("undici"));
}
let undici: typeof import("undici") | undefined;

function requestOptions({ url, headers, body }: TransportRequest): Dispatcher.DispatchOptions {
  // node:http sent a URL's user:password as Basic authorization; undici leaves that to its caller.
  const withAuth =
    url.username === "" && url.password === ""
      ? headers
      : { ...headers, Authorization: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}` };
  return { origin: url.origin, path: url.pathname + url.search, method: "POST", headers: withAuth, body };
}

/** One POST as undici's handler: reads at most IPN_BODY_READ_LIMIT_BYTES of the answer, and ends exactly once. */
class Exchange implements Dispatcher.DispatchHandler, Sending {
  private controller: Dispatcher.DispatchController | null = null;
  private ended = false;
  /** Why it was cancelled while still queued: it is stopped as soon as undici hands it a connection. */
  private cancelled: unknown = null;
  private status = 0;
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly request: TransportRequest) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.ended) {
      controller.abort(this.cancelled instanceof Error ? this.cancelled : new Error(String(this.cancelled)));
      return;
    }
    this.request.onSent();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    // 1xx answers (100 Continue, 103 Early Hints) come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.request.onStatus(statusCode);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.ended) return;
    const room = IPN_BODY_READ_LIMIT_BYTES - this.size;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return;
    }
    // Enough: the rest is not read, and the connection, which it would leave mid-answer, is closed.
    this.chunks.push(chunk.subarray(0, room));
    this.size += room;
    this.end(null, true);
    controller.abort(new Error("answer cut at the read limit"));
  }

  onResponseEnd(): void {
    this.end(null, true);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.end(error, false);
  }

  cancel(reason: unknown): void {
    if (this.ended) return;
    this.cancelled = reason;
    this.end(reason, false);
    this.controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  end(error: unknown, answered: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (!answered) {
      this.chunks = [];
      this.request.onEnd(error, null);
      return;
    }
    const bodyExcerpt = excerptOf(this.chunks, this.size);
    this.chunks = [];
    this.request.onEnd(null, { status: this.status, bodyExcerpt });
  }
}

const utf8 = new TextDecoder("utf-8");

/** The excerpt of an answer read as `chunks`, `size` bytes in all. */
function excerptOf(chunks: Buffer[], size: number): string {
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  // Four bytes per character at most, so this many bytes always yield the excerpt when the body is that long.
  return cutExcerpt(utf8.decode(bytes.subarray(0, IPN_BODY_EXCERPT_CHARS * 4)));
}
