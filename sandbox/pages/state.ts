// What the pages show about an order's progress, computed once for the server render and for the live stream.

import { UNPAID_STATUSES } from "../orders/service.js";
import { callbackOutcome, statusTone, type OrderStatus } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";
import { DICTIONARIES, formatTime, type PageLang } from "./i18n.js";
import { returnToSiteUrl } from "./return-url.js";

/**
 * The live part of a page: everything the page script needs to bring the status, the timeline, the "I paid" form
 * and the "Return to site" link up to date. It carries nothing secret: no requisites, no IPN data, no causes.
 */
export interface LiveState {
  status: OrderStatus;
  /** The status's name in the page's language. */
  label: string;
  /** How the status looks: under way, ended well, gone wrong. */
  tone: "active" | "success" | "error";
  /** Still waiting for the client's money: the countdown runs. */
  unpaid: boolean;
  /** The "I paid" button applies: a manual route whose order is still unpaid. */
  canPay: boolean;
  /** Where "Return to site" goes once the order is final (done, returned, deleted) and has a clientCallbackUrl; else null. */
  returnUrl: string | null;
  history: { status: OrderStatus; label: string; at: number; time: string }[];
}

export function liveState(order: Order, lang: PageLang): LiveState {
  const words = DICTIONARIES[lang];
  const outcome = callbackOutcome(order.status);
  const unpaid = UNPAID_STATUSES.includes(order.status);
  return {
    status: order.status,
    label: words.statuses[order.status],
    tone: statusTone(order.status),
    unpaid,
    canPay: unpaid && order.route.manual,
    returnUrl: outcome !== null && order.clientCallbackUrl !== null ? returnToSiteUrl(order.clientCallbackUrl, outcome) : null,
    history: order.history.map((h) => ({ status: h.to, label: words.statuses[h.to], at: h.at, time: formatTime(h.at) })),
  };
}
