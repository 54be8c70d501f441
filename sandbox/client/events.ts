// Reads the control API's event stream (GET /_sandbox/events, server-sent events) as a queue a caller can wait on.

import { createParser } from "eventsource-parser";
import { ControlClientError } from "./errors.js";
import type { ControlEvent, ControlOrder, ControlOrderDetail } from "./types.js";

/** The longest a Node timer can wait (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** An open event stream: the changes since it opened, in order, one at a time. */
export interface EventWatch extends AsyncIterable<ControlEvent> {
  /** The next change, or null when `timeoutMs` (may be Infinity) passes first. Rejects if the stream broke. */
  next(timeoutMs: number): Promise<ControlEvent | null>;
  /** Closes the stream; a pending `next` resolves with null. */
  close(): void;
}

export interface OpenWatchOptions {
  url: string;
  headers: Record<string, string>;
  fetch: typeof fetch;
  /** How long the sandbox may take to open the stream. */
  timeoutMs: number;
}

/**
 * Opens the stream and resolves once the sandbox has sent its `hello`: from then on no change is missed, so a
 * caller can open a watch, then read the current state, then wait for what is still to come.
 */
export async function openWatch(options: OpenWatchOptions): Promise<EventWatch> {
  const abort = new AbortController();
  const queue: ControlEvent[] = [];
  let wake = null as (() => void) | null;
  let broken: Error | null = null;
  let closed = false;
  let hello!: () => void;
  const greeted = new Promise<void>((resolve) => (hello = resolve));

  const parser = createParser({
    onEvent(message) {
      if (message.event === "hello") hello();
      if (message.event !== "change") return;
      queue.push(JSON.parse(message.data) as ControlEvent);
      wake?.();
    },
  });

  const opening = setTimeout(() => abort.abort(), options.timeoutMs);
  let res: Response;
  try {
    res = await options.fetch(options.url, { headers: { ...options.headers, accept: "text/event-stream" }, signal: abort.signal });
  } catch (error) {
    clearTimeout(opening);
    throw ControlClientError.network("GET", options.url, error);
  }
  if (!res.ok || !res.body) {
    clearTimeout(opening);
    throw await ControlClientError.fromResponse("GET", options.url, res);
  }

  void (async () => {
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (!closed) broken = new ControlClientError(`the sandbox closed its event stream (${options.url})`, null);
    } catch (error) {
      if (!closed) broken = ControlClientError.network("GET", options.url, error);
    } finally {
      hello();
      wake?.();
    }
  })();

  await greeted;
  clearTimeout(opening);
  if (broken) throw broken;

  const watch: EventWatch = {
    async next(timeoutMs) {
      for (;;) {
        const event = queue.shift();
        if (event !== undefined) return event;
        if (broken) throw broken;
        if (closed || timeoutMs <= 0) return null;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = await new Promise<boolean>((resolve) => {
          wake = () => resolve(false);
          if (Number.isFinite(timeoutMs)) timer = setTimeout(() => resolve(true), Math.min(timeoutMs, MAX_TIMER_MS));
        });
        clearTimeout(timer);
        wake = null;
        if (timedOut) return queue.shift() ?? null;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      abort.abort();
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          const event = await watch.next(Number.POSITIVE_INFINITY);
          if (event === null) return;
          yield event;
        }
      } finally {
        watch.close();
      }
    },
  };
  return watch;
}

/**
 * Reads `events` until `pick` gives a value for one, and returns it; undefined once `deadline` (a performance.now()
 * time) passes first. Changes queued before the call are read first, so a wait may start after the work it waits on.
 */
export async function pickFrom<T>(events: EventWatch, pick: (event: ControlEvent) => T | undefined | Promise<T | undefined>, deadline: number): Promise<T | undefined> {
  for (;;) {
    const event = await events.next(deadline - performance.now());
    if (event === null) return undefined;
    const picked = await pick(event);
    if (picked !== undefined) return picked;
  }
}

/** True for the event an order's creation makes (its first and only history entry so far). */
export function isNewOrderEvent(event: ControlEvent): event is { kind: "order"; order: ControlOrder } {
  return event.kind === "order" && event.order.history.length === 1 && event.order.history[0]!.from === null;
}

/** A pick for pickFrom: the order a creation event announces, read whole with `order`, when `match` accepts it (default: any). */
export function newOrderPick(
  order: (uid: number) => Promise<ControlOrderDetail>,
  match?: (order: ControlOrderDetail) => boolean,
): (event: ControlEvent) => Promise<ControlOrderDetail | undefined> {
  return async (event) => {
    if (!isNewOrderEvent(event)) return undefined;
    const created = await order(event.order.uid);
    return !match || match(created) ? created : undefined;
  };
}
