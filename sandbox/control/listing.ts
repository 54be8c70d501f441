// GET /_sandbox/orders and /_sandbox/deliveries: a page at a time with `limit` and a cursor, or everything as a
// stream of pages, so that no listing holds up the API however many orders there are.

import type { Context } from "hono";
import { ControlError } from "../errors.js";
import type { DeliveryRecord } from "../ipn/index.js";
import type { OrderService } from "../orders/service.js";
import { STATUSES, type OrderStatus } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";
import { DELIVERY_OUTCOMES, type DeliveryQuery, type OrderQuery, type Page, type Store } from "../store/index.js";
import { listedDelivery, listedOrder } from "./views.js";

/** The most items one page may ask for. */
export const MAX_PAGE_LIMIT = 1000;
/** Items per chunk when a listing without `limit` is streamed whole. */
const STREAM_PAGE = 100;

/** The query parameters of each listing: anything else is refused. */
export const ORDER_PARAMS = ["limit", "cursor", "order", "status", "uid"] as const;
export const DELIVERY_PARAMS = ["limit", "cursor", "order", "orderUID", "status", "outcome"] as const;

/** Reads the query once: every name known, none twice. */
function readQuery<N extends string>(c: Context, known: readonly N[]): Partial<Record<N, string>> {
  const out: Partial<Record<N, string>> = {};
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (!(known as readonly string[]).includes(name)) {
      throw new ControlError(400, "bad_request", `Unknown query parameter ${JSON.stringify(name)}; this listing takes ${known.join(", ")}`);
    }
    if (values.length > 1) throw new ControlError(400, "bad_request", `The query parameter ${name} is given ${values.length} times; give it once`);
    out[name as N] = values[0]!;
  }
  return out;
}

function positive(raw: string | undefined, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ControlError(400, "bad_request", `${name} is a whole number from 1 to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function oneOf<T extends string>(raw: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new ControlError(400, "bad_request", `${name} is one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

function newestFirst(raw: string | undefined): boolean {
  return oneOf(raw, "order", ["oldest", "newest"] as const) === "newest";
}

/** GET /orders: `{orders, next}`, a page with `limit`, else every order (filtered), streamed. */
export function listOrders(c: Context, store: Store, orders: OrderService): Response {
  const q = readQuery(c, ORDER_PARAMS);
  const status = oneOf<OrderStatus>(q.status, "status", STATUSES);
  const uid = positive(q.uid, "uid");
  const after = positive(q.cursor, "cursor (the next of an earlier page)");
  const query: Omit<OrderQuery, "limit"> = {
    newestFirst: newestFirst(q.order),
    ...(status === undefined ? {} : { status }),
    ...(uid === undefined ? {} : { uid }),
  };
  const show = (order: Order) => listedOrder(order, orders.readCount(order.uid));
  const page = (from: number | undefined, limit: number): Page<Order, number> =>
    store.pageOrders({ ...query, limit, ...(from === undefined ? {} : { after: from }) });
  const limit = positive(q.limit, "limit", MAX_PAGE_LIMIT);
  if (limit !== undefined) {
    const { items, next } = page(after, limit);
    return c.json({ orders: items.map(show), next: next === null ? null : String(next) });
  }
  return streamListing(c, "orders", after, (from) => page(from, STREAM_PAGE), show);
}

/** GET /deliveries: `{deliveries, next}`, a page with `limit`, else every delivery (filtered), streamed. */
export function listDeliveries(c: Context, store: Store): Response {
  const q = readQuery(c, DELIVERY_PARAMS);
  const orderUID = positive(q.orderUID, "orderUID");
  const status = oneOf<OrderStatus>(q.status, "status", STATUSES);
  const outcome = oneOf(q.outcome, "outcome", DELIVERY_OUTCOMES);
  if (q.cursor !== undefined && !/^d\d{1,15}$/.test(q.cursor)) {
    throw new ControlError(400, "bad_request", `cursor is the next of an earlier page, such as "d17", got ${JSON.stringify(q.cursor)}`);
  }
  const query: Omit<DeliveryQuery, "limit"> = {
    newestFirst: newestFirst(q.order),
    ...(orderUID === undefined ? {} : { orderUID }),
    ...(status === undefined ? {} : { status }),
    ...(outcome === undefined ? {} : { outcome }),
  };
  const page = (from: string | undefined, limit: number): Page<DeliveryRecord, string> =>
    store.pageDeliveries({ ...query, limit, ...(from === undefined ? {} : { after: from }) });
  const limit = positive(q.limit, "limit", MAX_PAGE_LIMIT);
  if (limit !== undefined) {
    const { items, next } = page(q.cursor, limit);
    return c.json({ deliveries: items.map(listedDelivery), next });
  }
  return streamListing(c, "deliveries", q.cursor, (from) => page(from, STREAM_PAGE), listedDelivery);
}

/**
 * Answers `{"<key>": [...every item...], "next": null}` a page per chunk, each chunk made only when the client has
 * taken the one before, with a turn of the event loop between: API calls go on being answered meanwhile, and the
 * whole answer is never in memory at once.
 */
function streamListing<T, C>(c: Context, key: string, start: C | undefined, pageFrom: (after: C | undefined) => Page<T, C>, show: (item: T) => unknown): Response {
  const encoder = new TextEncoder();
  let after = start;
  let begun = false;
  let anyItem = false;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (done) return controller.close();
      if (begun) await new Promise((resolve) => setImmediate(resolve));
      const { items, next } = pageFrom(after);
      let text = begun ? "" : `{${JSON.stringify(key)}:[`;
      begun = true;
      for (const item of items) {
        text += (anyItem ? "," : "") + JSON.stringify(show(item));
        anyItem = true;
      }
      if (next === null) {
        text += '],"next":null}';
        done = true;
      }
      after = next ?? undefined;
      controller.enqueue(encoder.encode(text));
    },
  });
  return c.body(body, 200, { "Content-Type": "application/json; charset=UTF-8" });
}
