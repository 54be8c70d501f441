// The order and delivery store: one interface, kept in memory (a durable one can sit behind the same interface).

import type { DeliveryRecord } from "../ipn/types.js";
import type { Order } from "../orders/types.js";

export type StoreChange =
  | { kind: "order"; order: Order }
  | { kind: "delivery"; delivery: DeliveryRecord }
  | { kind: "reset" };

export interface Store {
  insertOrder(order: Order): void;
  /** Replaces the stored order with the same uid. */
  saveOrder(order: Order): void;
  getOrder(uid: number): Order | undefined;
  listOrders(): Order[];
  /** The next order uid (positive, increasing). */
  nextUid(): number;

  addDelivery(record: DeliveryRecord): void;
  updateDelivery(id: string, patch: Partial<DeliveryRecord>): DeliveryRecord;
  getDelivery(id: string): DeliveryRecord | undefined;
  listDeliveries(filter?: { orderUID?: number }): DeliveryRecord[];
  /** The next delivery id, "d1", "d2", … */
  nextDeliveryId(): string;

  /**
   * Small named values that extensions keep beside the orders (e.g. a scenario play's progress), durable when the
   * store is; `undefined` deletes. Forgotten on reset.
   */
  setMeta(key: string, value: unknown): void;
  getMeta(key: string): unknown;
  /** Every meta key starting with `prefix`, with its value. */
  listMeta(prefix: string): [string, unknown][];

  /**
   * Forgets every order and delivery. Delivery ids start again at d1; uids go on from the last one issued, so that no
   * uid ever names two orders (a merchant's database may still hold the first).
   */
  reset(): void;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: (change: StoreChange) => void): () => void;
}

export interface MemoryStoreOptions {
  /** The first order uid handed out (default 1001). */
  firstUid?: number;
}

export function createMemoryStore(options: MemoryStoreOptions = {}): Store {
  const firstUid = options.firstUid ?? 1001;
  if (!Number.isSafeInteger(firstUid) || firstUid < 1) {
    throw new RangeError(`firstUid must be a positive integer, got ${firstUid}`);
  }
  const orders = new Map<number, Order>();
  const deliveries = new Map<string, DeliveryRecord>();
  const byOrder = new Map<number, string[]>();
  const meta = new Map<string, unknown>();
  const listeners = new Set<(change: StoreChange) => void>();
  let uid = firstUid;
  let deliverySeq = 1;

  const emit = (change: StoreChange) => {
    for (const listener of listeners) listener(change);
  };

  return {
    insertOrder(order) {
      if (orders.has(order.uid)) throw new Error(`order ${order.uid} already exists`);
      orders.set(order.uid, order);
      emit({ kind: "order", order });
    },
    saveOrder(order) {
      if (!orders.has(order.uid)) throw new Error(`order ${order.uid} does not exist`);
      orders.set(order.uid, order);
      emit({ kind: "order", order });
    },
    getOrder: (id) => orders.get(id),
    listOrders: () => [...orders.values()],
    nextUid: () => uid++,

    addDelivery(record) {
      deliveries.set(record.id, record);
      if (record.orderUID !== null) {
        const ids = byOrder.get(record.orderUID) ?? [];
        ids.push(record.id);
        byOrder.set(record.orderUID, ids);
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
      deliveries.clear();
      byOrder.clear();
      deliverySeq = 1;
      emit({ kind: "reset" });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
