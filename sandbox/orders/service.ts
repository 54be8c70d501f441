// The order service: creates, finds and moves orders, and fires each status change's IPN.

import { generateAddress } from "../catalog/index.js";
import type { Clock } from "../clock/index.js";
import type { Dispatcher, Fault, IpnFields } from "../ipn/index.js";
import type { Store } from "../store/index.js";
import { safeEqual } from "../secure.js";
import type { ValidatedCreate, ValidatedValue } from "./create.js";
import type { IdFactory } from "./ids.js";
import { INITIAL_STATUS, type OrderStatus } from "./statuses.js";
import { transitionOrder, type MoveRules } from "./transition.js";
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
  fault?: Fault;
}

/** Why a move was refused; the API and the control API each turn it into their own error. */
export class MoveRefused extends Error {
  constructor(
    readonly uid: number,
    readonly from: OrderStatus,
    readonly to: OrderStatus,
    readonly reason: "same" | "final" | "notAllowed",
    readonly allowed: readonly OrderStatus[],
  ) {
    const why =
      reason === "same"
        ? `it is already ${to}`
        : reason === "final"
          ? `${from} is final`
          : `allowed from ${from}: ${allowed.length ? allowed.join(", ") : "nothing"}`;
    super(`order ${uid} cannot move from ${from} to ${to}: ${why}`);
    this.name = "MoveRefused";
  }
}

export interface OrderService {
  create(input: ValidatedCreate, merchant: string | null): Order;
  /** The order with this uid and secret; a wrong secret finds nothing, exactly as an unknown uid does. */
  find(uid: number, secret: string): Order | undefined;
  get(uid: number): Order | undefined;
  /** Moves the order and fires its IPN; throws MoveRefused when the rules forbid the move. */
  move(uid: number, to: OrderStatus, options: MoveOptions): Order;
  /** The client pays: new → waitPayment → inProgress, each step with its own IPN. */
  pay(uid: number, cause: string, fault?: Fault): Order;
}

/** Order payment windows are whole minutes in the catalogue. */
const MINUTE = 60_000;

export function createOrderService(deps: OrderServiceDeps): OrderService {
  const { store, clock, ids, dispatcher } = deps;

  const toOrderValues = (values: ValidatedValue[]): OrderValue[] =>
    values.map(({ field, value }) => ({ _id: ids.objectId(), field: field._id, name: field.name, value }));

  const fireIpn = (order: Order, fault: Fault) => {
    if (order.ipnUrl === null || order.ipnSecret === null) return;
    dispatcher.dispatch({ orderUID: order.uid, url: order.ipnUrl, secret: order.ipnSecret, fields: ipnFieldsFor(order, clock.now()), fault });
  };

  const service: OrderService = {
    create(input, merchant) {
      const now = clock.now();
      const { route } = input;
      const order: Order = {
        _id: ids.objectId(),
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
        fromValues: toOrderValues(input.fromValues),
        toValues: toOrderValues(input.toValues),
        routeValues: toOrderValues(input.routeValues),
        status: INITIAL_STATUS,
        createdAt: now,
        expiresAt: now + route.paymentWindowMinutes * MINUTE,
        lang: input.lang,
        agreement: input.agreement,
        hideOutData: input.hideOutData,
        clientCallbackUrl: input.clientCallbackUrl,
        ipnUrl: input.ipnUrl,
        ipnSecret: input.ipnSecret,
        depositAddress: generateAddress(route.from.network, ids.faker),
        history: [{ from: null, to: INITIAL_STATUS, at: now, cause: "create", forced: false }],
      };
      store.insertOrder(order);
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
      store.saveOrder(result.order);
      fireIpn(result.order, options.fault ?? "deliver");
      return result.order;
    },

    pay(uid, cause, fault = "deliver") {
      const order = store.getOrder(uid);
      if (!order) throw new Error(`order ${uid} does not exist`);
      if (order.status === "new") service.move(uid, "waitPayment", { cause, fault });
      return service.move(uid, "inProgress", { cause, fault });
    },
  };
  return service;
}

function pickCurrency(currency: Order["route"]["from"]): Order["route"]["from"] {
  const { _id, name, symbol, xml, decimal, network } = currency;
  return { _id, name, symbol, xml, decimal, network };
}

/** The IPN's fields for an order that has just moved to its current status. */
export function ipnFieldsFor(order: Order, timestamp: number): IpnFields {
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
