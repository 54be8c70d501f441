// The one source of truth for order statuses, the transition table and what each status means to a client.

/** The ten statuses of the merchant docs, in their order. */
export const STATUSES = [
  "new",
  "waitPayment",
  "errorPayment",
  "inProgress",
  "inProgressPayout",
  "errorPayout",
  "hold",
  "done",
  "returned",
  "deleted",
] as const;

export type OrderStatus = (typeof STATUSES)[number];

/** The docs' description of each status. */
export const STATUS_DESCRIPTIONS: Record<OrderStatus, string> = {
  new: "new order",
  waitPayment: "wait user payment",
  errorPayment: "error user payment (merchant send error)",
  inProgress: "in progress (expects admin or payment of the application)",
  inProgressPayout: "in line for payment (payment accepted successfully)",
  errorPayout: "payment error (error occurred during payment)",
  hold: "frozen (problems with the application)",
  done: "order completed successfully",
  returned: "the order was paid but not all exchange conditions were fulfilled and the means of return to the sender",
  deleted: "order deleted (canceled)",
};

/** Which moves the sandbox allows without `force` (PROTOCOL.md's transition table). */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  new: ["waitPayment", "deleted"],
  waitPayment: ["inProgress", "errorPayment", "hold", "deleted"],
  errorPayment: ["inProgress", "hold", "deleted"],
  inProgress: ["inProgressPayout", "done", "hold", "returned"],
  inProgressPayout: ["done", "errorPayout", "hold"],
  errorPayout: ["inProgressPayout", "done", "hold", "returned"],
  hold: ["inProgress", "inProgressPayout", "done", "returned", "deleted"],
  done: [],
  returned: [],
  deleted: [],
};

/** The moves a merchant may make itself through `order/update-status`. */
export const MERCHANT_TRANSITIONS: Partial<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ["deleted"],
  waitPayment: ["inProgress", "deleted"],
};

/**
 * The merchant's own move that only a manual route allows: confirming a payment made by hand ("if the method with
 * manual payment you need to update the status of the order from waitPayment to inProgress"). On an automatic route
 * the exchanger sees the payment itself, and the engine refuses the move with its validation error.
 */
export function isManualConfirmation(from: OrderStatus, to: OrderStatus): boolean {
  return from === "waitPayment" && to === "inProgress";
}

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === "string" && (STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function canMerchantTransition(from: OrderStatus, to: OrderStatus): boolean {
  return MERCHANT_TRANSITIONS[from]?.includes(to) ?? false;
}

export function isFinal(status: OrderStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/**
 * What the "return to site" button reports for a status: `success` when the order is done, `error` when it ended
 * without an exchange (returned, deleted), and null while it is still under way. errorPayment and errorPayout are
 * not final (the order may still reach done), so they show no button: a merchant that cancels on status=error would
 * cancel an order that later completes.
 */
export function callbackOutcome(status: OrderStatus): "success" | "error" | null {
  switch (status) {
    case "done":
      return "success";
    case "returned":
    case "deleted":
      return "error";
    case "new":
    case "waitPayment":
    case "errorPayment":
    case "inProgress":
    case "inProgressPayout":
    case "errorPayout":
    case "hold":
      return null;
  }
}

/** How a status looks to the client: under way, ended well, or gone wrong (an error status, final or not). */
export function statusTone(status: OrderStatus): "active" | "success" | "error" {
  if (status === "errorPayment" || status === "errorPayout") return "error";
  return callbackOutcome(status) ?? "active";
}

/** The status an order is created in. */
export const INITIAL_STATUS: OrderStatus = "new";
