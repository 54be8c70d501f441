// The pure state-machine step: whether an order may move to a status, and the order after the move.

import { isManualConfirmation, MERCHANT_TRANSITIONS, TRANSITIONS, type OrderStatus } from "./statuses.js";
import type { Order } from "./types.js";

/** Whose rules a move is judged by: the merchant's update-status, or the sandbox's transition table. */
export type MoveRules = "table" | "merchant";

export interface MoveRequest {
  to: OrderStatus;
  at: number;
  cause: string;
  rules: MoveRules;
  /**
   * Allows any move, outside the table (scenarios and the control API's `force`). A forced move to the status the
   * order already has re-sends that status, as a late duplicate from the exchanger would: one more history entry,
   * one more IPN.
   */
  force?: boolean;
}

export type MoveResult =
  | { ok: true; order: Order; from: OrderStatus }
  | { ok: false; reason: MoveRefusal; from: OrderStatus; allowed: readonly OrderStatus[] };

/**
 * Why a move is refused: the order already has that status, its status is final, the rules do not list the move, or
 * (the merchant's rules only) it confirms a payment on an automatic route, which only a manual route allows.
 */
export type MoveRefusal = "same" | "final" | "notAllowed" | "automatic";

/** The statuses an order in `from` may move to under `rules`. */
export function allowedMoves(from: OrderStatus, rules: MoveRules): readonly OrderStatus[] {
  return rules === "merchant" ? (MERCHANT_TRANSITIONS[from] ?? []) : TRANSITIONS[from];
}

export function transitionOrder(order: Order, move: MoveRequest): MoveResult {
  const from = order.status;
  const allowed = allowedMoves(from, move.rules);
  const permitted = allowed.includes(move.to);
  if (permitted && move.rules === "merchant" && isManualConfirmation(from, move.to) && !order.route.manual) {
    return { ok: false, reason: "automatic", from, allowed: allowed.filter((to) => !isManualConfirmation(from, to)) };
  }
  if (!permitted && !move.force) {
    const reason = from === move.to ? "same" : TRANSITIONS[from].length === 0 ? "final" : "notAllowed";
    return { ok: false, reason, from, allowed };
  }
  return {
    ok: true,
    from,
    order: {
      ...order,
      status: move.to,
      history: [...order.history, { from, to: move.to, at: move.at, cause: move.cause, forced: !permitted }],
    },
  };
}
