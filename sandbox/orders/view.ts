// How an order looks from outside: the public order/get shape, with requisites masked when the merchant asked.

import type { Order, OrderValue } from "./types.js";

/** Masks a requisite, keeping its last four characters when it is long enough to stay unguessable. */
export function maskRequisite(value: string): string {
  if (value.length < 8) return "*".repeat(value.length);
  return "*".repeat(value.length - 4) + value.slice(-4);
}

const valueView = (v: OrderValue, masked: boolean) => ({
  field: v.field,
  name: v.name,
  value: masked ? maskRequisite(v.value) : v.value,
  _id: v._id,
});

const currencyView = ({ _id, name, symbol, xml, decimal }: Order["route"]["from"]) => ({ _id, name, symbol, xml, decimal });

export type PublicOrder = ReturnType<typeof publicOrderView>;

/** The order as order/get answers it; `hideOutData` masks the recipient's requisites. */
export function publicOrderView(order: Order) {
  return {
    _id: order._id,
    rid: order.rid,
    uid: order.uid,
    partner: order.partner,
    inAmount: order.inAmount,
    outAmount: order.outAmount,
    fromValues: order.fromValues.map((v) => valueView(v, false)),
    toValues: order.toValues.map((v) => valueView(v, order.hideOutData)),
    routeValues: order.routeValues.map((v) => valueView(v, false)),
    status: order.status,
    createdAt: new Date(order.createdAt).toISOString(),
    expiresAt: new Date(order.expiresAt).toISOString(),
    clientCallbackUrl: order.clientCallbackUrl,
    route: {
      routeId: order.route.routeId,
      from: currencyView(order.route.from),
      to: currencyView(order.route.to),
    },
    rate: order.rate,
  };
}

/**
 * Each order's view as JSON, made once: the payment page and merchants poll order/get over and over, and the
 * serialisation was the largest part of its cost. Keyed by the order object, which is never changed in place (a
 * move or a restore makes a new one), so an entry can never go stale and goes when its order does.
 */
const viewJson = new WeakMap<Order, string>();

/** `JSON.stringify(publicOrderView(order))`, cached per order object. */
export function publicOrderJson(order: Order): string {
  let json = viewJson.get(order);
  if (json === undefined) {
    json = JSON.stringify(publicOrderView(order));
    viewJson.set(order, json);
  }
  return json;
}

/** What the client must do to pay: added to order/get when `type=payment`. */
export function paymentView(order: Order) {
  return {
    address: order.depositAddress,
    amount: order.inAmount,
    currency: currencyView(order.route.from),
    manual: order.route.manual,
    expiresAt: new Date(order.expiresAt).toISOString(),
  };
}
