// The store's contract: what every store (in memory, or with a journal on disk) offers the rest of the sandbox.

import type { DeliveryOutcome, DeliveryRecord } from "../ipn/types.js";
import type { OrderStatus } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";

export type StoreChange =
  | { kind: "order"; order: Order }
  | { kind: "delivery"; delivery: DeliveryRecord }
  | { kind: "reset" };

/** One page of a listing, and where the next one starts (null when this is the last). */
export interface Page<T, Cursor> {
  items: T[];
  next: Cursor | null;
}

export interface OrderQuery {
  /** Most orders in the page (at least 1). */
  limit: number;
  /** Start after this uid, in the page's order (a `next` of an earlier page). */
  after?: number;
  /** Newest (highest uid) first; default oldest first, as `listOrders` gives them. */
  newestFirst?: boolean;
  status?: OrderStatus;
  uid?: number;
}

export interface DeliveryQuery {
  /** Most deliveries in the page (at least 1). */
  limit: number;
  /** Start after this delivery id, in the page's order. */
  after?: string;
  newestFirst?: boolean;
  /** Only this order's deliveries; null: only test IPNs, which belong to no order. */
  orderUID?: number | null;
  /** Only IPNs that carried this newStatus. */
  status?: string;
  outcome?: DeliveryOutcome;
}

/**
 * Thrown by `guard` when the store cannot write a change: nothing was changed. Carries why, for the log and the
 * answer (the API's maintenance error, the control API's 409).
 */
export class StoreUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`the sandbox cannot write its data (${reason}); nothing was changed`);
    this.name = "StoreUnavailableError";
  }
}

export interface Store {
  insertOrder(order: Order): void;
  /** Replaces the stored order with the same uid. */
  saveOrder(order: Order): void;
  getOrder(uid: number): Order | undefined;
  /** Every order, oldest first. Costs the whole store: views page with `pageOrders`. */
  listOrders(): Order[];
  /** One page of orders, filtered; cheap whatever the store holds. */
  pageOrders(query: OrderQuery): Page<Order, number>;
  countOrders(): number;
  /** The next order uid (positive, increasing; never one handed out before, resets included). */
  nextUid(): number;
  /** The highest uid handed out so far, resets included (0 when none was). */
  lastUid(): number;

  addDelivery(record: DeliveryRecord): void;
  updateDelivery(id: string, patch: Partial<DeliveryRecord>): DeliveryRecord;
  getDelivery(id: string): DeliveryRecord | undefined;
  listDeliveries(filter?: { orderUID?: number }): DeliveryRecord[];
  pageDeliveries(query: DeliveryQuery): Page<DeliveryRecord, string>;
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

  /**
   * Runs `change`, all of what one request changes. When the store cannot write the change's first record, nothing
   * is changed and StoreUnavailableError is thrown, so the request can be refused; once a first record is written,
   * the rest of the change is kept even should a later write fail. A store that cannot fail just runs it.
   */
  guard<T>(change: () => T): T;
  /** Why the store cannot write at the moment, or null when it can. */
  unavailable(): string | null;
}
