// Gets an order into a sandbox the way a merchant's customer does: POSTs the merchant's checkout, finds the order it made.

import { newOrderPick, pickFrom, type EventWatch } from "./events.js";
import type { ControlOrderDetail } from "./types.js";

export interface CheckoutOptions {
  /** The merchant's checkout; it is POSTed `body` as JSON and must create an order on the sandbox with order/create. */
  url: string;
  /** The JSON body of that POST (default {}). */
  body?: unknown;
  /** How long the checkout may take to answer. */
  answerTimeoutMs: number;
  /** How long the order may take to appear in the sandbox once the checkout answered (default 10 s). */
  orderTimeoutMs?: number;
  /**
   * The ipnUrl the order must carry, so that several clients may share one sandbox; null takes the first new order
   * that has an ipnUrl at all. Orders passed over are named in the error when none is found.
   */
  ipnUrl: string | null;
}

/** What the checkout answered, and the order it created. */
export interface CheckoutResult {
  order: ControlOrderDetail;
  answer: { status: number; body: string };
}

export type CheckoutFailure =
  /** The checkout could not be reached, or did not answer in time. */
  | "unreachable"
  /** It answered with a 4xx or 5xx. */
  | "refused"
  /** It created an order without an ipnUrl. */
  | "noIpnUrl"
  /** It created an order with another ipnUrl than the one looked for. */
  | "otherIpnUrl"
  /** It answered, but no order appeared in the sandbox. */
  | "noOrder";

/** The checkout did not get an order into the sandbox; the message says what happened and how to fix it, on one line. */
export class CheckoutError extends Error {
  override name = "CheckoutError";

  constructor(
    message: string,
    readonly kind: CheckoutFailure,
    /** The network error or the answer's start, for "unreachable" and "refused". */
    readonly reason: string | null = null,
    /** The order passed over, for "noIpnUrl" and "otherIpnUrl". */
    readonly order: ControlOrderDetail | null = null,
  ) {
    super(message);
  }
}

/** The part of the control client a checkout needs. */
export interface CheckoutClient {
  baseUrl: string;
  watch(): Promise<EventWatch>;
  order(uid: number): Promise<ControlOrderDetail>;
}

const DEFAULT_ORDER_TIMEOUT_MS = 10_000;

/**
 * POSTs the checkout and waits, on the sandbox's event stream, for the order it creates: the stream is opened before
 * the POST, so an order created while the checkout works is not missed, and the order wait (`orderTimeoutMs`) starts
 * once the checkout has answered. Throws CheckoutError when the checkout fails or no fitting order appears; a sandbox
 * that cannot be reached throws the client's own ControlClientError.
 */
export async function checkoutOrder(client: CheckoutClient, options: CheckoutOptions, fetchImpl: typeof fetch = fetch): Promise<CheckoutResult> {
  const orderTimeoutMs = options.orderTimeoutMs ?? DEFAULT_ORDER_TIMEOUT_MS;
  const passedOver: ControlOrderDetail[] = [];
  const fits = (candidate: ControlOrderDetail) => {
    if (candidate.ipnUrl !== null && (options.ipnUrl === null || sameUrl(candidate.ipnUrl, options.ipnUrl))) return true;
    passedOver.push(candidate);
    return false;
  };
  const events = await client.watch();
  let answer: { status: number; body: string };
  let order: ControlOrderDetail | undefined;
  try {
    answer = await post(options, fetchImpl);
    if (answer.status >= 400) {
      throw new CheckoutError(`POST ${options.url} answered ${answer.status}: ${answer.body.slice(0, 200)}`, "refused", `answered ${answer.status}: ${answer.body.slice(0, 200)}`);
    }
    order = await pickFrom(events, newOrderPick(client.order, fits), performance.now() + orderTimeoutMs);
  } finally {
    events.close();
  }
  if (order) return { order, answer };
  const other = passedOver[0];
  if (other) {
    if (other.ipnUrl === null) {
      throw new CheckoutError(`your checkout created order ${other.uid} without an ipnUrl; pass ipnUrl and ipnSecret to order/create`, "noIpnUrl", null, other);
    }
    throw new CheckoutError(`your checkout created order ${other.uid} with ipnUrl ${other.ipnUrl}, not ${options.ipnUrl}`, "otherIpnUrl", null, other);
  }
  throw new CheckoutError(
    `POST ${options.url} answered ${answer.status}, but no order appeared in the sandbox at ${client.baseUrl} within ${orderTimeoutMs / 1000} s; is your backend pointed at ${client.baseUrl}/service/api/v1/?`,
    "noOrder",
  );
}

/** The POST itself; a refused connection or no answer in time is a CheckoutError. */
async function post(options: CheckoutOptions, fetchImpl: typeof fetch): Promise<{ status: number; body: string }> {
  try {
    const res = await fetchImpl(options.url, {
      method: "POST",
      body: JSON.stringify(options.body === undefined ? {} : options.body),
      headers: { "content-type": "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(options.answerTimeoutMs),
    });
    return { status: res.status, body: (await res.text()).slice(0, 2048) };
  } catch (error) {
    const err = error as Error & { cause?: Error & { code?: string } };
    const reason = err.name === "TimeoutError" ? `no answer within ${options.answerTimeoutMs} ms` : err.cause ? err.cause.message || err.cause.code || err.message : err.message;
    throw new CheckoutError(`POST ${options.url} failed: ${reason}`, "unreachable", reason);
  }
}

function sameUrl(a: string, b: string): boolean {
  return normalUrl(a) === normalUrl(b);
}

function normalUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}
