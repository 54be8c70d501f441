// A scenario's order made by the merchant's own checkout: found in the sandbox, and checked against what the scenario asks.

import { CheckoutError, type ControlClient, type HistoryEntry, type OrderStatus } from "../sandbox/index.js";
import type { Scenario } from "./model.js";

/** The merchant's checkout: `run` POSTs `body` (default {}) there, and the merchant creates the order on the sandbox. */
export interface CheckoutSpec {
  url: string;
  body?: unknown;
}

/** How long the checkout may take to answer, at least (the IPN timeout when that is longer), as verify allows. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * POSTs the checkout and returns the uid of the order it created on the sandbox (the one with `ipnUrl`, when given).
 * Throws an Error whose message is one line saying what went wrong and how to fix it.
 */
export async function orderFromCheckout(client: ControlClient, checkout: CheckoutSpec, options: { ipnUrl: string | null; ipnTimeoutMs: number }): Promise<number> {
  try {
    const { order } = await client.checkout({
      url: checkout.url,
      body: checkout.body,
      answerTimeoutMs: Math.max(ANSWER_TIMEOUT_MS, options.ipnTimeoutMs),
      ipnUrl: options.ipnUrl,
    });
    return order.uid;
  } catch (error) {
    if (!(error instanceof CheckoutError)) throw error;
    switch (error.kind) {
      case "unreachable":
        throw new Error(`cannot reach --checkout-url ${checkout.url}: ${error.reason}`);
      case "otherIpnUrl":
        throw new Error(
          `your checkout created order ${error.order!.uid} with ipnUrl ${error.order!.ipnUrl}, but --ipn-url is ${options.ipnUrl}; give run the ipnUrl your backend sends, or leave --ipn-url out`,
        );
      case "refused":
      case "noIpnUrl":
      case "noOrder":
        throw new Error(error.message);
    }
  }
}

/** What a checkout order must show to be played. */
export interface CheckoutOrder {
  uid: number;
  status: OrderStatus;
  history: readonly HistoryEntry[];
  inAmount: string;
  route: { from: { xml: string }; to: { xml: string } };
}

/**
 * Why the scenario cannot be played on the order the checkout created, or null when it can: a route or an amount
 * the scenario names and the order does not have (a scenario that names neither plays on any), or an order that has
 * already left `new` (every scenario starts where order/create leaves an order).
 */
export function checkoutOrderProblem(scenario: Scenario, order: CheckoutOrder): string | null {
  const route = `${order.route.from.xml}>${order.route.to.xml}`;
  const wrongRoute = scenario.route !== undefined && scenario.route !== route;
  const wrongAmount = scenario.amount !== undefined && decimal(scenario.amount) !== decimal(order.inAmount);
  if (wrongRoute || wrongAmount) {
    const wanted = [wrongRoute ? `a ${scenario.route} order` : "an order", wrongAmount ? `of ${scenario.amount}` : ""].filter(Boolean).join(" ");
    const got = [wrongRoute ? `on ${route}` : "", wrongAmount ? `of ${order.inAmount}` : ""].filter(Boolean).join(" ");
    return (
      `scenario ${scenario.name} plays on ${wanted}, but your checkout created order ${order.uid} ${got}; ` +
      `ask your checkout for it in --checkout-body, or leave ${scenario.name} out of this run`
    );
  }
  if (order.status !== "new") {
    const last = order.history.at(-1);
    return (
      `your checkout's order ${order.uid} was already ${order.status}${last ? ` (${last.cause})` : ""} when scenario ${scenario.name} began; ` +
      `a scenario plays on a new order, as order/create leaves it: does your checkout move its orders, or does the sandbox play a scenario of its own (start --scenario)?`
    );
  }
  return null;
}

/** A decimal string without leading or trailing zeros, so that "0.50" and "0.5" are the same amount. */
function decimal(amount: string): string {
  const [whole = "", fraction = ""] = amount.trim().split(".");
  const digits = fraction.replace(/0+$/, "");
  return `${whole.replace(/^0+(?=\d)/, "")}${digits ? `.${digits}` : ""}`;
}
