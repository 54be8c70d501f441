// The order as the sandbox stores it.

import type { Currency } from "../catalog/types.js";
import type { OrderStatus } from "./statuses.js";

/** One requisite of an order, as order/get shows it. */
export interface OrderValue {
  /** The `_id` of this value (24-hex). */
  _id: string;
  /** The route field's `_id`: the `key` the merchant sent. */
  field: string;
  /** The route field's name. */
  name: string;
  value: string;
}

export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  /** Sandbox-clock ms. */
  at: number;
  /** Who moved it: "create", "api:update-status", "control", "control:pay", "page:pay", "scenario:…", "expiry". */
  cause: string;
  /** True when the move was outside the transition table and forced. */
  forced: boolean;
}

export interface Order {
  _id: string;
  uid: number;
  rid: string;
  secret: string;
  partner: string | null;
  /** The API key the order was created with, or null for a public order. */
  merchant: string | null;
  /** The route as it was when the order was created: the catalogue may change, the order does not. */
  route: {
    routeId: string;
    from: Pick<Currency, "_id" | "name" | "symbol" | "xml" | "decimal" | "network">;
    to: Pick<Currency, "_id" | "name" | "symbol" | "xml" | "decimal" | "network">;
    manual: boolean;
  };
  inAmount: string;
  outAmount: string;
  /** The route's rate when the order was created. */
  rate: string;
  fromValues: OrderValue[];
  toValues: OrderValue[];
  routeValues: OrderValue[];
  status: OrderStatus;
  createdAt: number;
  expiresAt: number;
  lang: "en" | "ru";
  agreement: boolean;
  hideOutData: boolean;
  clientCallbackUrl: string | null;
  ipnUrl: string | null;
  ipnSecret: string | null;
  /** Where the client sends the `from` currency: a realistic address (or account) for its network. */
  depositAddress: string;
  history: HistoryEntry[];
  /**
   * The timestamp of the order's last IPN, when it has sent one. The next is stamped at least 1 ms later, so one
   * order's IPN timestamps strictly increase even when two moves share a millisecond (pay: new → waitPayment →
   * inProgress) or the clock stands still (`manual`, `instant`).
   */
  lastIpnAt?: number;
}
