// The order service: creates, finds and moves orders, and fires each status change's IPN.

import { generateAddress } from "../catalog/index.js";
import { MinQueue, type Clock, type Timer } from "../clock/index.js";
import type { Dispatcher, FaultSpec, IpnFields } from "../ipn/index.js";
import type { Store } from "../store/index.js";
import { safeEqual } from "../secure.js";
import type { ValidatedCreate, ValidatedValue } from "./create.js";
import type { IdFactory } from "./ids.js";
import { INITIAL_STATUS, type OrderStatus } from "./statuses.js";
import { transitionOrder, type MoveRefusal, type MoveRules } from "./transition.js";
import type { Order, OrderValue } from "./types.js";

export interface OrderServiceDeps {
  store: Store;
  clock: Clock;
  ids: IdFactory;
  dispatcher: Dispatcher;
}

export interface MoveOptions {
  cause: string;
  rules?: MoveRules;
  force?: boolean;
  /** The delivery fault for this move's IPN: a name or `{type, ...params}` (default "deliver"). */
  fault?: FaultSpec;
}

/** Why a move was refused; the API and the control API each turn it into their own error. */
export class MoveRefused extends Error {
  constructor(
    readonly uid: number,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
    readonly reason: MoveRefusal,
    readonly allowed: readonly OrderStatus[],
  ) {
    const why =
      reason === "same"
        ? `it is already ${to}`
        : reason === "final"
          ? `${from} is final`
          : reason === "automatic"
            ? "its route is paid automatically (the exchanger sees the payment itself); only an order on a manual route (cards, WebMoney) is confirmed by the merchant"
            : `allowed from ${from}: ${allowed.length ? allowed.join(", ") : "nothing"}`;
    super(`order ${uid} cannot move from ${from} to ${to}: ${why}`);
    this.name = "MoveRefused";
  }
}

/** What happens to orders, for whoever needs to react (the scenario engine, live pages). */
export type OrderEvent =
  | { type: "created"; order: Order }
  | { type: "moved"; order: Order; from: OrderStatus; cause: string }
  /** The merchant read the order through order/get: how a merchant reconciles a lost IPN. */
  | { type: "read"; order: Order; via: "api" };

export interface OrderService {
  create(input: ValidatedCreate, merchant: string | null): Order;
  /** The order with this uid and secret; a wrong secret finds nothing, exactly as an unknown uid does. */
  find(uid: number, secret: string): Order | undefined;
  get(uid: number): Order | undefined;
  /** Moves the order and fires its IPN; throws MoveRefused when the rules forbid the move. */
  move(uid: number, to: OrderStatus, options: MoveOptions): Order;
  /** The client pays: new → waitPayment → inProgress, each step with its own IPN. */
  pay(uid: number, cause: string, fault?: FaultSpec): Order;
  /** Records that the merchant read the order (order/get). */
  noteRead(order: Order, via: "api"): void;
  /** How many times the merchant has read the order through order/get. */
  readCount(uid: number): number;
  /** Arms the expiry of every unpaid order in the store again (after a restart from a durable store). */
  rearmTimers(): void;
  /** Calls `listener` for every order event; returns the unsubscribe function. */
  subscribe(listener: (event: OrderEvent) => void): () => void;
}

/** Statuses in which an order still waits for the client's money, and so expires at `expiresAt`. */
export const UNPAID_STATUSES: readonly OrderStatus[] = ["new", "waitPayment"];

/** Order payment windows are whole minutes in the catalogue. */
const MINUTE = 60_000;

export function createOrderService(deps: OrderServiceDeps): OrderService {
  const { store, clock, ids, dispatcher } = deps;
  const listeners = new Set<(event: OrderEvent) => void>();
  // Kept beside the orders, not in them: a read is frequent and changes nothing about the order.
  const reads = new Map<string, number>();
  store.subscribe((change) => {
    if (change.kind !== "reset") return;
    reads.clear();
    // The orders waiting for their deadline are gone; their uids may come back for new orders.
    deadlines.clear();
    armDeadlineTimer();
  });
  const emit = (event: OrderEvent) => {
    for (const listener of listeners) listener(event);
  };

  // Orders wait for their payment deadline in one queue, earliest first, behind a single clock timer set for the
  // earliest: a timer and a closure for each order took more memory than anything else an order holds but itself.
  const deadlines = new MinQueue<Order>((a, b) => a.expiresAt < b.expiresAt || (a.expiresAt === b.expiresAt && a.uid < b.uid));
  let deadlineTimer: Timer | null = null;
  let deadlineTimerFor = Number.POSITIVE_INFINITY;

  const armDeadlineTimer = () => {
    const next = deadlines.peek();
    if (next !== undefined && deadlineTimer !== null && next.expiresAt === deadlineTimerFor) return;
    deadlineTimer?.cancel();
    deadlineTimer = null;
    deadlineTimerFor = Number.POSITIVE_INFINITY;
    if (next === undefined) return;
    deadlineTimerFor = next.expiresAt;
    deadlineTimer = clock.setTimer(next.expiresAt - clock.now(), expireDue);
  };

  /** An unpaid order expires to deleted when its payment window ends, on whatever clock runs. */
  const expireDue = () => {
    // Everything due by the deadline the timer was set for goes now, as the timer of each order's own would have.
    const upTo = Math.max(clock.now(), deadlineTimerFor);
    deadlineTimer = null;
    deadlineTimerFor = Number.POSITIVE_INFINITY;
    try {
      for (let order = deadlines.peek(); order !== undefined && order.expiresAt <= upTo; order = deadlines.peek()) {
        deadlines.pop();
        const current = store.getOrder(order.uid);
        // After a reset the uid may name another order: only expire the one this deadline was set for.
        if (!current || current._id !== order._id || !UNPAID_STATUSES.includes(current.status)) continue;
        service.move(order.uid, "deleted", { cause: "expiry" });
      }
    } finally {
      armDeadlineTimer();
    }
  };

  const armExpiry = (order: Order) => {
    deadlines.push(order);
    if (order.expiresAt < deadlineTimerFor) armDeadlineTimer();
  };

  const toOrderValues = (values: ValidatedValue[], at: number): OrderValue[] =>
    values.map(({ field, value }) => ({ _id: ids.objectId(at), field: field._id, name: field.name, value }));

  /**
   * Stamps the moved order's IPN, strictly after its previous one: the merchant orders an order's IPNs by their
   * timestamp, and two moves in one millisecond (or on a clock that stands still) would otherwise share one.
   */
  const stampIpn = (order: Order): Order => {
    if (order.ipnUrl === null || order.ipnSecret === null) return order;
    const at = Math.max(clock.now(), (order.lastIpnAt ?? Number.NEGATIVE_INFINITY) + 1);
    return { ...order, lastIpnAt: at };
  };

  const fireIpn = (order: Order, fault: FaultSpec) => {
    if (order.ipnUrl === null || order.ipnSecret === null || order.lastIpnAt === undefined) return;
    // The delivery runs in the background; its records are in the store.
    dispatcher.dispatch({ orderUID: order.uid, url: order.ipnUrl, secret: order.ipnSecret, fields: ipnFieldsFor(order, order.lastIpnAt), fault });
  };

  const service: OrderService = {
    create(input, merchant) {
      const now = clock.now();
      const { route } = input;
      const order: Order = {
        _id: ids.objectId(now),
        uid: store.nextUid(),
        rid: ids.rid(),
        secret: ids.secret(),
        partner: input.partner,
        merchant,
        route: {
          routeId: route._id,
          from: pickCurrency(route.from),
          to: pickCurrency(route.to),
          manual: route.manual,
        },
        inAmount: input.inAmount,
        outAmount: input.outAmount,
        rate: route.rate,
        fromValues: toOrderValues(input.fromValues, now),
        toValues: toOrderValues(input.toValues, now),
        routeValues: toOrderValues(input.routeValues, now),
        status: INITIAL_STATUS,
        createdAt: now,
        expiresAt: now + route.paymentWindowMinutes * MINUTE,
        lang: input.lang,
        agreement: input.agreement,
        hideOutData: input.hideOutData,
        clientCallbackUrl: input.clientCallbackUrl,
        ipnUrl: input.ipnUrl,
        ipnSecret: input.ipnSecret,
        depositAddress: generateAddress(route.from.network, ids.characters),
        history: [{ from: null, to: INITIAL_STATUS, at: now, cause: "create", forced: false }],
      };
      store.insertOrder(order);
      armExpiry(order);
      emit({ type: "created", order });
      return order;
    },

    find(uid, secret) {
      const order = store.getOrder(uid);
      // Compare against a stand-in when the uid is unknown, so both answers take the same time.
      const matches = safeEqual(secret, order?.secret ?? "x".repeat(24));
      return order && matches ? order : undefined;
    },

    get: (uid) => store.getOrder(uid),

    move(uid, to, options) {
      const order = store.getOrder(uid);
      if (!order) throw new Error(`order ${uid} does not exist`);
      const result = transitionOrder(order, {
        to,
        at: clock.now(),
        cause: options.cause,
        rules: options.rules ?? "table",
        force: options.force ?? false,
      });
      if (!result.ok) throw new MoveRefused(uid, result.from, to, result.reason, result.allowed);
      const moved = stampIpn(result.order);
      store.saveOrder(moved);
      fireIpn(moved, options.fault ?? "deliver");
      emit({ type: "moved", order: moved, from: result.from, cause: options.cause });
      return moved;
    },

    pay(uid, cause, fault = "deliver") {
      const order = store.getOrder(uid);
      if (!order) throw new Error(`order ${uid} does not exist`);
      if (order.status === "new") service.move(uid, "waitPayment", { cause, fault });
      return service.move(uid, "inProgress", { cause, fault });
    },

    noteRead(order, via) {
      reads.set(order._id, (reads.get(order._id) ?? 0) + 1);
      emit({ type: "read", order, via });
    },

    readCount(uid) {
      const order = store.getOrder(uid);
      return order ? (reads.get(order._id) ?? 0) : 0;
    },

    rearmTimers() {
      for (const order of store.listOrders()) if (UNPAID_STATUSES.includes(order.status)) armExpiry(order);
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return service;
}

/** One frozen copy per catalogue currency, shared by all its orders: a copy per order made every order bigger. */
const currencyCopies = new WeakMap<Order["route"]["from"], Order["route"]["from"]>();

function pickCurrency(currency: Order["route"]["from"]): Order["route"]["from"] {
  let copy = currencyCopies.get(currency);
  if (!copy) {
    const { _id, name, symbol, xml, decimal, network } = currency;
    copy = Object.freeze({ _id, name, symbol, xml, decimal, network });
    currencyCopies.set(currency, copy);
  }
  return copy;
}

/** What an IPN is built from: an order, or any view of one that carries these fields. */
export interface IpnSource {
  uid: number;
  _id: string;
  status: string;
  inAmount: string;
  outAmount: string;
  route: { from: { xml: string }; to: { xml: string } };
  toValues: readonly { field: string; name: string; value: string }[];
}

/** The IPN's fields for an order that has just moved to its current status. */
export function ipnFieldsFor(order: IpnSource, timestamp: number): IpnFields {
  return {
    orderUID: String(order.uid),
    orderId: order._id,
    newStatus: order.status,
    inAmount: order.inAmount,
    outAmount: order.outAmount,
    xml_from: order.route.from.xml,
    xml_to: order.route.to.xml,
    timestamp: String(timestamp),
    toValues: order.toValues.map((v) => ({ key: v.field, name: v.name, value: v.value })),
  };
}
