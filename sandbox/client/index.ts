// A typed client of a running sandbox's control API, for scripts, CI jobs, the contract kit and the scenario runner.

import { checkoutOrder, type CheckoutOptions, type CheckoutResult } from "./checkout.js";
import { ControlClientError } from "./errors.js";
import { newOrderPick, openWatch, pickFrom, type EventWatch } from "./events.js";
import type {
  ControlClock,
  ControlEvent,
  ControlHealth,
  ControlOrder,
  ControlOrderDetail,
  CreatedOrder,
  DeliveryRecord,
  FaultSpec,
  OrderStatus,
  Route,
  ScenarioPlay,
  TestIpn,
} from "./types.js";

export { ControlClientError } from "./errors.js";
export { CheckoutError, type CheckoutFailure, type CheckoutOptions, type CheckoutResult } from "./checkout.js";
export { isNewOrderEvent, type EventWatch } from "./events.js";
export type * from "./types.js";

export interface ControlClientOptions {
  /** The sandbox's admin token, when it was started with one (sent as `Authorization: Bearer …`). */
  adminToken?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

/** How long the sandbox may take to open its event stream. */
const OPEN_WATCH_TIMEOUT_MS = 10_000;

/** A delivery that will not change any more: answered, timed out, failed, or deliberately not sent. */
export function isSettled(record: Pick<DeliveryRecord, "outcome">): boolean {
  return record.outcome !== "pending" && record.outcome !== "held";
}

export type ControlClient = ReturnType<typeof createControlClient>;

/**
 * A client of the sandbox at `baseUrl` (e.g. http://127.0.0.1:7070). Each method is one control API call and
 * throws a ControlClientError when the sandbox cannot be reached or answers with an error. The waits (`settle`,
 * `settleOrder`, `waitForNewOrder`, `waitFor`, `checkout`) follow the event stream rather than polling.
 */
export function createControlClient(baseUrl: string, options: ControlClientOptions = {}) {
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new TypeError(`createControlClient needs the sandbox's absolute http or https URL, got ${JSON.stringify(baseUrl)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`createControlClient needs an http or https URL, got ${JSON.stringify(baseUrl)}`);
  }
  const base = baseUrl.replace(/\/+$/, "");
  const fetchImpl = options.fetch ?? fetch;
  const auth: Record<string, string> = options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {};

  const request = async (method: "GET" | "POST", path: string, body?: unknown): Promise<Response> => {
    const url = `${base}${path}`;
    try {
      return await fetchImpl(url, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw ControlClientError.network(method, url, error);
    }
  };
  const control = async <T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> => {
    const res = await request(method, `/_sandbox${path}`, body);
    if (!res.ok) throw await ControlClientError.fromResponse(method, `${base}/_sandbox${path}`, res);
    return (await res.json()) as T;
  };
  /** A merchant API method; its failure envelope becomes a ControlClientError of type "api". */
  const api = async <T>(method: "GET" | "POST", name: string, params?: Record<string, unknown>): Promise<T> => {
    const res = await request(method, `/service/api/v1/public/exchanger/${name}/`, params);
    const json = (await res.json().catch(() => null)) as { success?: boolean; data?: T; error?: { message?: string } } | null;
    if (json?.success !== true) throw new ControlClientError(`${name} failed: ${json?.error?.message ?? `HTTP ${res.status}`}`, res.status, "api");
    return json.data as T;
  };
  const openEvents = () => openWatch({ url: `${base}/_sandbox/events`, headers: auth, fetch: fetchImpl, timeoutMs: OPEN_WATCH_TIMEOUT_MS });
  // Opening the stream is often the first request to a sandbox that has just replaced another on the same port (run
  // and verify start one per run): fetch may pick a kept-alive connection the old one closed ("other side closed").
  // A GET is safe to send again, once, on a fresh connection.
  const watch = () => openEvents().catch((error: unknown) => (error instanceof ControlClientError && error.status === null ? openEvents() : Promise.reject(error)));

  const client = {
    baseUrl: base,

    health: () => control<ControlHealth>("GET", "/health"),
    /** Every order, secrets masked. */
    orders: async () => (await control<{ orders: ControlOrder[] }>("GET", "/orders")).orders,
    order: (uid: number) => control<ControlOrderDetail>("GET", `/orders/${uid}`),
    /** Moves the order and fires its IPN with `fault`; `force` moves it even where the transition table does not. */
    move: (uid: number, status: OrderStatus, options: { fault?: FaultSpec; force?: boolean } = {}) =>
      control<ControlOrderDetail>("POST", `/orders/${uid}/status`, { status, ...options }),
    /** The client pays, as the payment page's button does. */
    pay: (uid: number, options: { fault?: FaultSpec } = {}) => control<ControlOrderDetail>("POST", `/orders/${uid}/pay`, options),
    deliveries: async (filter: { orderUID?: number } = {}) =>
      (await control<{ deliveries: DeliveryRecord[] }>("GET", `/deliveries${filter.orderUID === undefined ? "" : `?orderUID=${filter.orderUID}`}`)).deliveries,
    delivery: (id: string) => control<DeliveryRecord>("GET", `/deliveries/${encodeURIComponent(id)}`),
    /** Sends a recorded IPN's exact body again, as a new record (a sandbox convenience). */
    resend: async (id: string) => (await control<{ deliveries: DeliveryRecord[] }>("POST", `/deliveries/${encodeURIComponent(id)}/resend`)).deliveries,
    /** Fires one test IPN at any URL; the records it made (one per copy). */
    sendIpn: async (ipn: TestIpn) => (await control<{ deliveries: DeliveryRecord[] }>("POST", "/ipn", ipn)).deliveries,
    clock: () => control<ControlClock>("GET", "/clock"),
    advanceClock: (ms: number) => control<ControlClock>("POST", "/clock/advance", { ms }),
    reset: async () => void (await control<{ ok: true }>("POST", "/reset")),
    maintenance: async () => (await control<{ on: boolean }>("GET", "/maintenance")).on,
    setMaintenance: async (on: boolean) => (await control<{ on: boolean }>("POST", "/maintenance", { on })).on,
    /** The scenario library (a sandbox started by `exchanger-sandbox start` has it). */
    scenarios: () => control<{ scenarios: { name: string; description: string }[]; default: string | null }>("GET", "/scenarios"),
    playScenario: async (uid: number, name: string, mode: "auto" | "interactive" = "auto") =>
      void (await control<unknown>("POST", `/orders/${uid}/scenario`, { name, mode })),
    scenarioPlay: (uid: number) => control<ScenarioPlay>("GET", `/orders/${uid}/scenario`),

    /** The routes, through the merchant API's route/get. */
    routes: () => api<Route[]>("GET", "route/get"),
    /** Creates an order through the merchant API's order/create, as a merchant's backend does. */
    createOrder: (params: Record<string, unknown>) => api<CreatedOrder>("POST", "order/create", params),

    /** Opens the event stream; every change from the moment it resolves is queued for `next`. Close it when done. */
    watch: (): Promise<EventWatch> => watch(),

    /**
     * Runs `during` (if given) with the event stream open, then returns the first value `pick` gives for a change,
     * or undefined when `timeoutMs` passes first.
     */
    async waitFor<T>(pick: (event: ControlEvent) => T | undefined | Promise<T | undefined>, options: { timeoutMs: number; during?: () => Promise<unknown> }): Promise<T | undefined> {
      const deadline = performance.now() + options.timeoutMs;
      const events = await watch();
      try {
        await options.during?.();
        return await pickFrom(events, pick, deadline);
      } finally {
        events.close();
      }
    },

    /**
     * Runs `during` (if given) and waits for an order created meanwhile that `match` accepts (default: any); the
     * order with its secret and ipnUrl whole, or null when `timeoutMs` passes first.
     */
    async waitForNewOrder(options: { timeoutMs: number; during?: () => Promise<unknown>; match?: (order: ControlOrderDetail) => boolean }): Promise<ControlOrderDetail | null> {
      const found = await client.waitFor(newOrderPick(client.order, options.match), {
        timeoutMs: options.timeoutMs,
        ...(options.during ? { during: options.during } : {}),
      });
      return found ?? null;
    },

    /**
     * POSTs a merchant's checkout and returns the order it created on this sandbox (see checkoutOrder): how the
     * contract kit and `run --checkout-url` get orders the merchant knows. Throws CheckoutError when it does not.
     */
    checkout: (options: CheckoutOptions): Promise<CheckoutResult> => checkoutOrder(client, options, fetchImpl),

    /** Waits until every delivery named is settled (answered, timed out, failed or dropped; not held) and returns them. */
    async settle(ids: readonly string[], options: { timeoutMs: number }): Promise<DeliveryRecord[]> {
      const deadline = performance.now() + options.timeoutMs;
      const events = await watch();
      try {
        const records = await Promise.all(ids.map((id) => client.delivery(id)));
        const open = new Set(records.filter((r) => !isSettled(r)).map((r) => r.id));
        if (open.size === 0) return records;
        while (open.size > 0) {
          const event = await events.next(deadline - performance.now());
          if (event === null) break;
          if (event.kind === "delivery" && isSettled(event.delivery)) open.delete(event.delivery.id);
        }
        return await Promise.all(ids.map((id) => client.delivery(id)));
      } finally {
        events.close();
      }
    },

    /** Waits until none of the order's IPNs is queued or in flight (held ones may stay held); returns its deliveries. */
    async settleOrder(uid: number, options: { timeoutMs: number }): Promise<DeliveryRecord[]> {
      const deadline = performance.now() + options.timeoutMs;
      const events = await watch();
      try {
        const first = await client.deliveries({ orderUID: uid });
        const pending = new Set(first.filter((r) => r.outcome === "pending").map((r) => r.id));
        if (pending.size === 0) return first;
        while (pending.size > 0) {
          const event = await events.next(deadline - performance.now());
          if (event === null) break;
          if (event.kind !== "delivery" || event.delivery.orderUID !== uid) continue;
          if (event.delivery.outcome === "pending") pending.add(event.delivery.id);
          else pending.delete(event.delivery.id);
        }
        return await client.deliveries({ orderUID: uid });
      } finally {
        events.close();
      }
    },
  };
  return client;
}
