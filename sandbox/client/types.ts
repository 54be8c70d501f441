// What the control API answers, typed by hand for its client: orders, deliveries, the clock, events, scenarios.

import type { Route } from "../catalog/index.js";
import type { DeliveryRecord, FaultSpec } from "../ipn/index.js";
import type { OrderStatus } from "../orders/statuses.js";
import type { HistoryEntry } from "../orders/types.js";

export type { DeliveryRecord, FaultSpec, HistoryEntry, OrderStatus, Route };

/** `GET /_sandbox/health`. `seed` is there when the sandbox reports the seed its ids come from. */
export interface ControlHealth {
  ok: true;
  version: string;
  seed?: number;
}

/** One requisite of an order, as order/get shows it. */
export interface ControlOrderValue {
  field: string;
  name: string;
  value: string;
  _id: string;
}

export interface ControlCurrency {
  _id: string;
  name: string;
  symbol: string;
  xml: string;
  decimal: number;
}

/**
 * An order as the control API shows it. In listings and the event stream its `secret`, `ipnSecret`, `merchant` and
 * any credentials in `ipnUrl` are masked; `GET /_sandbox/orders/{uid}` has `secret` and `ipnUrl` whole.
 */
export interface ControlOrder {
  _id: string;
  rid: string;
  uid: number;
  partner: string | null;
  inAmount: string;
  outAmount: string;
  fromValues: ControlOrderValue[];
  toValues: ControlOrderValue[];
  routeValues: ControlOrderValue[];
  status: OrderStatus;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms. */
  expiresAt: number;
  clientCallbackUrl: string | null;
  route: { routeId: string; from: ControlCurrency; to: ControlCurrency };
  rate: string;
  secret: string;
  merchant: string | null;
  lang: "en" | "ru";
  hideOutData: boolean;
  ipnUrl: string | null;
  ipnSecret: string | null;
  depositAddress: string;
  history: HistoryEntry[];
  /** How many times the merchant read the order through order/get. */
  reads: number;
}

/** `GET /_sandbox/orders/{uid}` and the answer to a move or a payment: the order with its IPN deliveries. */
export interface ControlOrderDetail extends ControlOrder {
  deliveries: DeliveryRecord[];
}

/** `GET /_sandbox/clock`. */
export interface ControlClock {
  kind: string;
  speed: number;
  now: number;
  iso: string;
}

/** The body of `POST /_sandbox/ipn`: a test IPN to any URL, built from the order given or the docs' example. */
export interface TestIpn {
  ipnUrl: string;
  ipnSecret: string;
  status: OrderStatus;
  fault?: FaultSpec;
  orderUID?: number;
}

/** One `change` event of `GET /_sandbox/events` (masked as the listings are). */
export type ControlEvent =
  | { kind: "order"; order: ControlOrder }
  | { kind: "delivery"; delivery: DeliveryRecord }
  | { kind: "reset" };

/** `GET /_sandbox/orders/{uid}/scenario`. */
export interface ScenarioPlay {
  scenario: string;
  mode: "auto" | "interactive";
  state: "running" | "passed" | "failed";
  transcript: unknown;
}

/** What order/create answers in `data`. */
export interface CreatedOrder {
  _id: string;
  uid: number;
  rid: string;
  secret: string;
  inAmount: string;
  outAmount: string;
  route: { from: { name: string; symbol: string }; to: { name: string; symbol: string } };
}
