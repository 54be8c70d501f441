// The two ways a player reaches a sandbox: in-process through its parts, or over HTTP through the control client.

import type { ControlClient, DeliveryRecord, SandboxParts } from "../sandbox/index.js";
import type { DriverOrder, ScenarioDriver } from "./player.js";

/**
 * What settling does once none of the order's IPNs is in flight: "done", or the moment (sandbox ms) the first held
 * one is due, when held ones are to be flushed.
 */
function settleStep(records: readonly DeliveryRecord[], flushHeld: boolean, now: number): "inFlight" | "done" | { dueAt: number } {
  if (records.some((r) => r.outcome === "pending")) return "inFlight";
  const held = records.filter((r) => r.outcome === "held");
  if (!flushHeld || held.length === 0) return "done";
  return { dueAt: Math.min(...held.map((r) => r.dueAt ?? now)) };
}

/** Drives an in-process sandbox directly, waiting on its store's changes. */
export function createLocalDriver(parts: Pick<SandboxParts, "store" | "orders" | "clock">): ScenarioDriver {
  const { store, orders, clock } = parts;
  const order = (uid: number): DriverOrder => {
    const found = store.getOrder(uid);
    if (!found) throw new Error(`order ${uid} no longer exists (was the sandbox reset?)`);
    return { ...found, reads: orders.readCount(uid) };
  };
  /** A promise of the next change to one of the order's deliveries (or `ms` of wall time passing), and its cancel. */
  const nextChange = (uid: number, ms: number) => {
    let stop = () => {};
    const changed = new Promise<void>((resolve) => {
      const unsubscribe = store.subscribe((change) => {
        if (change.kind === "reset" || (change.kind === "delivery" && change.delivery.orderUID === uid)) resolve();
      });
      const timer = setTimeout(resolve, Math.max(0, ms));
      stop = () => {
        unsubscribe();
        clearTimeout(timer);
        resolve();
      };
    });
    return { changed: changed.finally(() => stop()), stop: () => stop() };
  };
  return {
    now: async () => clock.now(),
    order: async (uid) => order(uid),
    deliveries: async (uid) => store.listDeliveries({ orderUID: uid }),
    async move(uid, status, fault, cause) {
      orders.move(uid, status, { cause, force: true, ...(fault === undefined ? {} : { fault }) });
    },
    async pay(uid, fault, cause) {
      orders.pay(uid, cause, ...(fault === undefined ? [] : [fault]));
    },
    sleep: (ms) => clock.sleep(ms),
    async settle(uid, { flushHeld, timeoutMs }) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        // Listening before looking, so that no change between the two is missed.
        const next = nextChange(uid, deadline - performance.now());
        const step = settleStep(store.listDeliveries({ orderUID: uid }), flushHeld, clock.now());
        if (step === "done") return next.stop();
        if (step !== "inFlight") await clock.sleep(Math.max(0, step.dueAt - clock.now()));
        await next.changed;
      }
    },
  };
}

/** Drives a running sandbox over HTTP: the control client's calls, and its event stream to wait. */
export function createHttpDriver(client: ControlClient): ScenarioDriver {
  let clockInfo: { kind: string; speed: number } | null = null;
  const driver: ScenarioDriver = {
    now: async () => (await client.clock()).now,
    order: (uid) => client.order(uid),
    deliveries: (uid) => client.deliveries({ orderUID: uid }),
    async move(uid, status, fault) {
      await client.move(uid, status, { force: true, ...(fault === undefined ? {} : { fault }) });
    },
    async pay(uid, fault) {
      await client.pay(uid, fault === undefined ? {} : { fault });
    },
    async sleep(ms) {
      const { kind, speed } = (clockInfo ??= await client.clock());
      // A fast clock is waited for; any other is moved forward, so that a scripted hour does not take an hour.
      if (kind === "fast") await new Promise((resolve) => setTimeout(resolve, ms / Math.max(1, speed)));
      else await client.advanceClock(ms);
    },
    async settle(uid, { flushHeld, timeoutMs }) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const records = await client.settleOrder(uid, { timeoutMs: deadline - performance.now() });
        const now = (await client.clock()).now;
        const step = settleStep(records, flushHeld, now);
        if (step !== "done" && step !== "inFlight") {
          // Let sandbox time reach the first held IPN, then wait for the change that releases it.
          const events = await client.watch();
          try {
            await driver.sleep(Math.max(0, step.dueAt - now));
            const stillHeld = settleStep(await client.deliveries({ orderUID: uid }), flushHeld, now);
            if (typeof stillHeld === "object" && stillHeld.dueAt === step.dueAt) await events.next(deadline - performance.now());
          } finally {
            events.close();
          }
          continue;
        }
        if (step === "done") return;
      }
    },
  };
  return driver;
}
