// GET /_sandbox/events: server-sent events with ids from one shared, bounded history. A client is sent what it has
// room for; one that falls too far behind is dropped and comes back with Last-Event-ID for what it missed.

import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import { randomBytes } from "node:crypto";
import type { Store, StoreChange } from "../store/index.js";
import { listedDelivery, listedOrder } from "./views.js";

export interface EventHubOptions {
  /** How many recent events are kept for clients that come back (default 4096). */
  history?: number;
  /** How many events a client may have yet to take before it is dropped (default 1024; below `history`). */
  maxLag?: number;
  /** How long a quiet stream waits before a ping (default 15 s). */
  pingMs?: number;
}

interface Entry {
  seq: number;
  change: StoreChange;
  /** The event's text, made once, for the first client that takes it. */
  text?: string;
}

interface Client {
  /** The last event it was sent. */
  cursor: number;
  dropped: boolean;
  wake: (() => void) | null;
  drop(): void;
}

export interface EventHub {
  /** Answers GET /events. */
  serve(c: Context, version: string): Response;
  /** Connected clients, for the tests and the bench. */
  readonly clients: number;
  close(): void;
}

export function createEventHub(store: Store, options: EventHubOptions = {}): EventHub {
  const history = options.history ?? 4096;
  const maxLag = options.maxLag ?? 1024;
  const pingMs = options.pingMs ?? 15_000;
  if (!(Number.isSafeInteger(history) && Number.isSafeInteger(maxLag) && maxLag >= 1 && maxLag < history)) {
    throw new RangeError(`the event history (${history}) must be larger than the most a client may lag (${maxLag})`);
  }
  /** Events are named epoch-seq: an id from before a restart never passes for one of this run. */
  const epoch = randomBytes(4).toString("hex");
  const ring: (Entry | undefined)[] = new Array(history);
  let lastSeq = 0;
  const clients = new Set<Client>();
  /** The last reset: what came before it is let go, so that a reset frees the memory it should. */
  let resetSeq = 0;
  const entry = (seq: number) => ring[seq % history];
  const firstKept = () => Math.max(1, lastSeq - history + 1, resetSeq);

  const unsubscribe = store.subscribe((change) => {
    const seq = ++lastSeq;
    if (change.kind === "reset") {
      // Nothing before a reset matters any more: clients go straight to it, one that comes back from before it is
      // told to resync, and the orders the history held can be let go.
      ring.fill(undefined);
      resetSeq = seq;
      for (const client of clients) client.cursor = Math.max(client.cursor, seq - 1);
    }
    ring[seq % history] = { seq, change };
    for (const client of clients) {
      if (seq - client.cursor > maxLag) client.drop();
      else client.wake?.();
    }
  });

  const format = (e: Entry): string => {
    if (e.text === undefined) {
      const change = e.change;
      const data =
        change.kind === "order"
          ? { kind: "order", order: listedOrder(change.order) }
          : change.kind === "delivery"
            ? { kind: "delivery", delivery: listedDelivery(change.delivery) }
            : { kind: "reset" };
      e.text = `id: ${epoch}-${e.seq}\nevent: change\ndata: ${JSON.stringify(data)}\n\n`;
    }
    return e.text;
  };

  /** Where a client that sent `lastEventId` starts: after that event, or (when it is gone or unknown) from now, told to resync. */
  const startOf = (lastEventId: string | undefined): { cursor: number; resync: string | null } => {
    if (lastEventId === undefined || lastEventId === "") return { cursor: lastSeq, resync: null };
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    if (match === null || match[1] !== epoch) return { cursor: lastSeq, resync: "the sandbox restarted since that event" };
    const seq = Number(match[2]);
    if (seq > lastSeq) return { cursor: lastSeq, resync: "no such event" };
    if (seq < firstKept() - 1) return { cursor: lastSeq, resync: "the events since then are no longer kept" };
    return { cursor: seq, resync: null };
  };

  return {
    get clients() {
      return clients.size;
    },
    serve(c, version) {
      const { cursor, resync } = startOf(c.req.header("last-event-id"));
      const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
      const encoder = new TextEncoder();
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const client: Client = {
        cursor,
        dropped: false,
        wake: null,
        drop() {
          if (client.dropped) return;
          client.dropped = true;
          clients.delete(client);
          client.wake?.();
          // What it was sent still reaches it; then the stream ends. A client that reads nothing would never take
          // that end: its connection is closed outright.
          try {
            controller.close();
          } catch {
            // Already closed.
          }
          outgoing?.destroy();
        },
      };
      clients.add(client);
      let greeted = false;
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
        async pull(stream) {
          if (!greeted) {
            greeted = true;
            // With an id of where it starts, so that even a client dropped before its first change can come back.
            let text = `retry: 1000\nid: ${epoch}-${cursor}\nevent: hello\ndata: ${JSON.stringify({ version })}\n\n`;
            if (resync !== null) text += `event: resync\ndata: ${JSON.stringify({ reason: resync })}\n\n`;
            return stream.enqueue(encoder.encode(text));
          }
          while (!client.dropped) {
            let text = "";
            for (let seq = client.cursor + 1; seq <= lastSeq && text.length < 64 * 1024; seq++) {
              text += format(entry(seq)!);
              client.cursor = seq;
            }
            if (text !== "") return stream.enqueue(encoder.encode(text));
            const woken = await new Promise<boolean>((resolve) => {
              const timer = setTimeout(() => resolve(false), pingMs);
              timer.unref();
              client.wake = () => {
                clearTimeout(timer);
                resolve(true);
              };
            });
            client.wake = null;
            if (!woken && !client.dropped) return stream.enqueue(encoder.encode("event: ping\ndata: {}\n\n"));
          }
        },
        cancel() {
          client.dropped = true;
          clients.delete(client);
          client.wake?.();
        },
      });
      return c.body(body, 200, {
        "Content-Type": "text/event-stream",
        "Cache-Control": "no-cache",
        Connection: "keep-alive",
        "X-Accel-Buffering": "no",
      });
    },
    close() {
      unsubscribe();
      for (const client of [...clients]) client.drop();
    },
  };
}
