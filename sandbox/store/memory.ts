// The store kept in memory: maps of orders and deliveries, with sorted keys so that a page costs only its size.

import type { DeliveryRecord } from "../ipn/types.js";
import type { Order } from "../orders/types.js";
import { collectPage, SortedKeys } from "./sorted-keys.js";
import type { DeliveryQuery, OrderQuery, Store, StoreChange } from "./types.js";

export interface MemoryStoreOptions {
  /** The first order uid handed out (default 1001). */
  firstUid?: number;
}

/** "d17" → 17; delivery ids are "d" and a running number. */
export function deliveryNumber(id: string): number {
  const n = /^d(\d{1,15})$/.exec(id)?.[1];
  if (n === undefined) throw new Error(`a delivery id is "d" and a number, e.g. "d17", got ${JSON.stringify(id)}`);
  return Number(n);
}

export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const firstUid = options.firstUid ?? 1001;
  if (!Number.isSafeInteger(firstUid) || firstUid < 1) {
    throw new RangeError(`firstUid must be a positive integer, got ${firstUid}`);
  }
  const orders = new Map<number, Order>();
  const orderKeys = new SortedKeys();
  const deliveries = new Map<string, DeliveryRecord>();
  const deliveryKeys = new SortedKeys();
  /** Test IPNs, which belong to no order: the dashboard lists them apart. */
  const testKeys = new SortedKeys();
  const byOrder = new Map<number, string[]>();
  const meta = new Map<string, unknown>();
  const listeners = new Set<(change: StoreChange) => void>();
  let uid = firstUid;
  let deliverySeq = 1;

  const emit = (change: StoreChange) => {
    for (const listener of listeners) listener(change);
  };

  const pageOrders = (query: OrderQuery) => {
    const pick = (key: number) => {
      const order = orders.get(key);
      return order !== undefined && (query.status === undefined || order.status === query.status) ? order : undefined;
    };
    if (query.uid !== undefined) {
      // One order at most: no walk.
      const order = query.after === undefined ? pick(query.uid) : undefined;
      return { items: order ? [order] : [], next: null };
    }
    const { items, lastKey } = collectPage(orderKeys, query.after, query.newestFirst ?? false, query.limit, pick);
    return { items, next: lastKey };
  };

  const pageDeliveries = (query: DeliveryQuery) => {
    const pick = (key: number) => {
      const record = deliveries.get(`d${key}`);
      if (record === undefined) return undefined;
      if (query.orderUID !== undefined && record.orderUID !== query.orderUID) return undefined;
      if (query.status !== undefined && record.status !== query.status) return undefined;
      if (query.outcome !== undefined && record.outcome !== query.outcome) return undefined;
      return record;
    };
    const after = query.after === undefined ? undefined : deliveryNumber(query.after);
    // Walk only what the filter can match: one order's few deliveries, or the test IPNs.
    let keys = deliveryKeys;
    if (query.orderUID === null) keys = testKeys;
    else if (query.orderUID !== undefined) {
      keys = new SortedKeys();
      for (const id of byOrder.get(query.orderUID) ?? []) keys.add(deliveryNumber(id));
    }
    const { items, lastKey } = collectPage(keys, after, query.newestFirst ?? false, query.limit, pick);
    return { items, next: lastKey === null ? null : `d${lastKey}` };
  };

  return {
    insertOrder(order) {
      if (orders.has(order.uid)) throw new Error(`order ${order.uid} already exists`);
      orders.set(order.uid, order);
      orderKeys.add(order.uid);
      emit({ kind: "order", order });
    },
    saveOrder(order) {
      if (!orders.has(order.uid)) throw new Error(`order ${order.uid} does not exist`);
      orders.set(order.uid, order);
      emit({ kind: "order", order });
    },
    getOrder: (id) => orders.get(id),
    listOrders: () => [...orders.values()],
    pageOrders,
    countOrders: () => orders.size,
    nextUid: () => uid++,
    lastUid: () => (uid > firstUid ? uid - 1 : 0),

    addDelivery(record) {
      const key = deliveryNumber(record.id);
      deliveries.set(record.id, record);
      deliveryKeys.add(key);
      if (record.orderUID === null) testKeys.add(key);
      else {
        const ids = byOrder.get(record.orderUID);
        if (ids === undefined) byOrder.set(record.orderUID, [record.id]);
        else if (!ids.includes(record.id)) ids.push(record.id);
      }
      emit({ kind: "delivery", delivery: record });
    },
    updateDelivery(id, patch) {
      const current = deliveries.get(id);
      if (!current) throw new Error(`delivery ${id} does not exist`);
      const next = { ...current, ...patch, id };
      deliveries.set(id, next);
      emit({ kind: "delivery", delivery: next });
      return next;
    },
    getDelivery: (id) => deliveries.get(id),
    listDeliveries(filter = {}) {
      if (filter.orderUID === undefined) return [...deliveries.values()];
      return (byOrder.get(filter.orderUID) ?? []).map((id) => deliveries.get(id)!).filter(Boolean);
    },
    pageDeliveries,
    nextDeliveryId: () => `d${deliverySeq++}`,

    setMeta(key, value) {
      if (value === undefined) meta.delete(key);
      else meta.set(key, value);
    },
    getMeta: (key) => meta.get(key),
    listMeta: (prefix) => [...meta.entries()].filter(([key]) => key.startsWith(prefix)),

    reset() {
      meta.clear();
      orders.clear();
      orderKeys.clear();
      deliveries.clear();
      deliveryKeys.clear();
      testKeys.clear();
      byOrder.clear();
      deliverySeq = 1;
      emit({ kind: "reset" });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    guard: (change) => change(),
    unavailable: () => null,
  };
}
