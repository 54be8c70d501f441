// The reference merchant's tests' shared setup: one sandbox, merchants whose polls and held-back answers wait on
// manual clocks of their own, and helpers that drive them through the sandbox.

import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { createClock, type Clock, type DeliveryRecord, type FaultSpec, type OrderStatus } from "../../sandbox/index.js";
import { startReferenceMerchant, type MerchantBug, type ReferenceMerchant, type ReferenceMerchantOptions } from "./reference-merchant.js";
import { startSandbox, type RunningSandbox } from "./sandbox.js";
import { HANG_GUARD_MS, until } from "./wait.js";

export const SECRET = "reference-merchant-secret";
/** A guard against a hang on the merchant's own HTTP answers, never a deadline they must beat. */
export const SETTLE_MS = HANG_GUARD_MS;
/** Far apart, so that letting a held answer go (SLOW_MS) never sets a poll off as well. */
export const RECONCILE_EVERY_MS = 60_000;
export const SLOW_MS = 600;

export interface Checkout {
  orderId: string;
  uid: number;
  ref: string;
  paymentUrl: string;
}

/** Registers the hooks that start and stop the shared sandbox and the merchants, and returns the helpers. */
export function useReferenceMerchantHarness() {
  let sb: RunningSandbox;
  /** The merchants a test started, each with the manual clock its polls and held-back answers wait on. */
  const open: ReferenceMerchant[] = [];
  const clocks = new Map<ReferenceMerchant, Clock>();

  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((m) => m.close()));
    clocks.clear();
  });

  /**
   * A merchant on the shared sandbox. Its polls and held-back answers wait on a manual clock of its own: a poll goes
   * out only when the test moves that clock RECONCILE_EVERY_MS forward (`reconcile`), a held answer when settling
   * lets it go.
   */
  async function startMerchant(bugs: MerchantBug[] = [], options: Partial<ReferenceMerchantOptions> = {}) {
    const clock = createClock("manual", { startAt: 0 });
    const m = await startReferenceMerchant({ sandboxUrl: sb.url, secret: SECRET, bugs, reconcileEveryMs: RECONCILE_EVERY_MS, slowMs: SLOW_MS, clock, ...options });
    open.push(m);
    clocks.set(m, clock);
    return m;
  }

  /** Lets the merchant's next order/get poll go out, if it plans one, and waits for it to be done with the answer. */
  async function reconcile(m: ReferenceMerchant) {
    const clock = clocks.get(m)!;
    clock.advance(Math.max(0, (clock.nextTimerAt() ?? clock.now() + RECONCILE_EVERY_MS) - clock.now()));
    await m.reconciled();
  }


  async function checkout(m: ReferenceMerchant): Promise<Checkout> {
    const res = await fetch(m.checkoutUrl, { method: "POST", signal: AbortSignal.timeout(SETTLE_MS) });
    const json = (await res.json()) as Checkout;
    expect(res.status, JSON.stringify(json)).toBe(201);
    return json;
  }

  async function state(m: ReferenceMerchant, orderId: string): Promise<{ orderId: string; status: string; credits: number }> {
    const res = await fetch(m.stateUrlTemplate.replace("{orderId}", orderId), { signal: AbortSignal.timeout(SETTLE_MS) });
    expect(res.status).toBe(200);
    return (await res.json()) as { orderId: string; status: string; credits: number };
  }

  /**
   * Waits until each record is answered (or deliberately not sent). A merchant holding an answer back (`slow`,
   * `regressesLate`) gets there at once: its clock is moved on by the wait.
   */
  async function settle(records: DeliveryRecord[]): Promise<DeliveryRecord[]> {
    const settled = () => records.map((record) => sb.sandbox.store.getDelivery(record.id)!);
    await until(() => {
      for (const [m, clock] of clocks) if (m.holding() > 0) clock.advance(SLOW_MS);
      return settled().every((record) => record.outcome !== "pending" && record.outcome !== "held");
    }, `deliveries ${records.map((r) => r.id).join(", ")} to be answered`);
    return settled();
  }

  /** Fires an IPN for the order at the merchant without moving the order (a tampered copy, a late status…). */
  async function sendIpn(m: ReferenceMerchant, uid: number, status: OrderStatus, fault: FaultSpec = "deliver") {
    const { status: http, json } = await sb.control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status, orderUID: uid, fault });
    expect(http, JSON.stringify(json)).toBe(201);
    return settle((json as { deliveries: DeliveryRecord[] }).deliveries);
  }

  /** Moves the sandbox order (forced) and waits for the IPN records the move made. */
  async function move(uid: number, status: OrderStatus, fault: FaultSpec = "deliver") {
    const before = new Set(((await sb.control("GET", `/deliveries?orderUID=${uid}`)).json.deliveries as DeliveryRecord[]).map((d) => d.id));
    const moved = await sb.control("POST", `/orders/${uid}/status`, { status, force: true, fault });
    expect(moved.status, JSON.stringify(moved.json)).toBe(200);
    const after = (await sb.control("GET", `/deliveries?orderUID=${uid}`)).json.deliveries as DeliveryRecord[];
    return settle(after.filter((d) => !before.has(d.id)));
  }

  const answers = (records: DeliveryRecord[]) => records.map((r) => r.response?.status ?? r.outcome);

  async function returnPage(m: ReferenceMerchant, ref: string, status: string) {
    const res = await fetch(`${m.callbackUrl}?order=${encodeURIComponent(ref)}&status=${encodeURIComponent(status)}`, {
      signal: AbortSignal.timeout(SETTLE_MS),
    });
    return { status: res.status, csp: res.headers.get("content-security-policy"), html: await res.text() };
  }

  return { sandbox: () => sb, clocks, startMerchant, reconcile, checkout, state, settle, sendIpn, move, answers, returnPage };
}
