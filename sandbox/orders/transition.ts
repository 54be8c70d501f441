// The pure state-machine step: whether an order may move to a status, and the order after the move.

import { MERCHANT_TRANSITIONS, TRANSITIONS, type OrderStatus } from "./statuses.js";
import type { Order } from "./types.js";

/** Whose rules a move is judged by: the merchant's update-status, or the sandbox's transition table. */
export type MoveRules = "table" | "merchant";

export interface MoveRequest {
  to: OrderStatus;
  at: number;
  cause: string;
  rules: MoveRules;
  /** Allows any move, outside the table (scenarios and the control API's `force`). */
  force?: boolean;
}

export type MoveResult =
  | { ok: true; order: Order; from: OrderStatus }
  | { ok: false; reason: "same" | "final" | "notAllowed"; from: OrderStatus; allowed: readonly OrderStatus[] };

/** The statuses an order in `from` may move to under `rules`. */
export function allowedMoves(from: OrderStatus, rules: MoveRules): readonly OrderStatus[] {
  return rules === "merchant" ? (MERCHANT_TRANSITIONS[from] ?? []) : TRANSITIONS[from];
}

export function transitionOrder(order: Order, move: MoveRequest): MoveResult {
  const from = order.status;
  const allowed = allowedMoves(from, move.rules);
  const permitted = allowed.includes(move.to);
  if (!permitted && !(move.force && from !== move.to)) {
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
