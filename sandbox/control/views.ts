// How the control API shows orders and deliveries: whole for the one asked for, with secrets masked in listings.

import type { DeliveryRecord } from "../ipn/index.js";
import { maskSecret, maskUrlSecrets } from "../log/index.js";
import { publicOrderView } from "../orders/view.js";
import type { Order } from "../orders/types.js";

/**
 * An order in a listing or the event stream, the views scripts dump into CI logs and shared screens: its secret and
 * the secrets its ipnUrl may carry are masked too. GET /orders/{uid} shows them, for a tester who opens its pages.
 */
export function listedOrder(order: Order, reads = 0) {
  return { ...orderView(order, null, reads), secret: maskSecret(order.secret), ipnUrl: order.ipnUrl === null ? null : maskUrlSecrets(order.ipnUrl) };
}

/** A delivery in a listing or the event stream: the secrets its URL may carry masked; GET /deliveries/{id} has it whole. */
export function listedDelivery(record: DeliveryRecord): DeliveryRecord {
  return { ...record, url: maskUrlSecrets(record.url) };
}

/** The order as the control API shows it: everything a tester needs, the IPN secret masked, times in Unix ms. */
export function orderView(order: Order, deliveries: DeliveryRecord[] | null, reads = 0) {
  return {
    ...publicOrderView({ ...order, hideOutData: false }),
    createdAt: order.createdAt,
    expiresAt: order.expiresAt,
    secret: order.secret,
    merchant: order.merchant === null ? null : maskSecret(order.merchant),
    lang: order.lang,
    hideOutData: order.hideOutData,
    ipnUrl: order.ipnUrl,
    ipnSecret: order.ipnSecret === null ? null : maskSecret(order.ipnSecret),
    depositAddress: order.depositAddress,
    history: order.history,
    /** How many times the merchant has read the order through order/get (how it reconciles a lost IPN). */
    reads,
    ...(deliveries === null ? {} : { deliveries }),
  };
}
