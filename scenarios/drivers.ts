// The two ways a player reaches a sandbox: in-process through its parts, or over HTTP through the control API.

import type { DeliveryRecord, FaultSpec, OrderStatus, SandboxParts } from "../sandbox/index.js";
import type { DriverOrder, ScenarioDriver } from "./player.js";

const POLL_MS = 10;

/** Drives an in-process sandbox directly. */
export function createLocalDriver(parts: Pick<SandboxParts, "store" | "orders" | "clock">): ScenarioDriver {
  const { store, orders, clock } = parts;
  const order = (uid: number): DriverOrder => {
    const found = store.getOrder(uid);
    if (!found) throw new Error(`order ${uid} no longer exists (was the sandbox reset?)`);
    return { ...found, reads: orders.readCount(uid) };
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
        const records = store.listDeliveries({ orderUID: uid });
        if (records.some((r) => r.outcome === "pending")) {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          continue;
        }
        const held = records.filter((r) => r.outcome === "held");
        if (!flushHeld || held.length === 0) return;
        const due = Math.min(...held.map((r) => r.dueAt ?? clock.now()));
        await clock.sleep(Math.max(0, due - clock.now()));
        // Let the released IPN get under way before looking again.
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
  };
}

/** Drives a running sandbox over HTTP: the merchant API to create orders, the control API for everything else. */
/** `adminToken` is sent as a Bearer token, for a sandbox started with --admin-token. */
export function createHttpDriver(baseUrl: string, adminToken?: string, fetchImpl: typeof fetch = fetch): ScenarioDriver & { createOrder(params: Record<string, unknown>): Promise<number>; routes(): Promise<unknown[]> } {
  const base = baseUrl.replace(/\/+$/, "");
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      const headers = new Headers(init.headers);
      if (adminToken) headers.set("authorization", `Bearer ${adminToken}`);
      return await fetchImpl(`${base}${path}`, { ...init, headers });
    } catch (error) {
      throw new Error(`cannot reach the sandbox at ${base}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
  };
  const control = async (method: "GET" | "POST", path: string, body?: unknown): Promise<any> => {
    const res = await request(`/_sandbox${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json = (await res.json().catch(() => null)) as any;
    if (!res.ok) throw new Error(`the sandbox answered ${res.status} to ${method} /_sandbox${path}: ${json?.error?.message ?? "no message"}`);
    return json;
  };
  let clockInfo: { kind: string; speed: number } | null = null;
  const clock = async () => (clockInfo ??= (await control("GET", "/clock")) as { kind: string; speed: number });

  return {
    async createOrder(params) {
      const res = await request("/service/api/v1/public/exchanger/order/create/", {
        method: "POST",
        body: JSON.stringify(params),
        headers: { "content-type": "application/json" },
      });
      const json = (await res.json()) as any;
      if (!json.success) throw new Error(`order/create failed: ${json.error?.message}`);
      return json.data.uid as number;
    },
    async routes() {
      const res = await request("/service/api/v1/public/exchanger/route/get/");
      const json = (await res.json()) as any;
      if (!json.success) throw new Error(`route/get failed: ${json.error?.message}`);
      return json.data as unknown[];
    },
    now: async () => (await control("GET", "/clock")).now as number,
    async order(uid) {
      return (await control("GET", `/orders/${uid}`)) as DriverOrder;
    },
    async deliveries(uid) {
      return (await control("GET", `/deliveries?orderUID=${uid}`)).deliveries as DeliveryRecord[];
    },
    async move(uid, status: OrderStatus, fault: FaultSpec | undefined) {
      await control("POST", `/orders/${uid}/status`, { status, force: true, ...(fault === undefined ? {} : { fault }) });
    },
    async pay(uid, fault: FaultSpec | undefined) {
      await control("POST", `/orders/${uid}/pay`, fault === undefined ? {} : { fault });
    },
    async sleep(ms) {
      const { kind, speed } = await clock();
      // A fast clock is waited for; any other is moved forward, so that a scripted hour does not take an hour.
      if (kind === "fast") await new Promise((resolve) => setTimeout(resolve, ms / Math.max(1, speed)));
      else await control("POST", "/clock/advance", { ms });
    },
    async settle(uid, { flushHeld, timeoutMs }) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        const records = (await control("GET", `/deliveries?orderUID=${uid}`)).deliveries as DeliveryRecord[];
        if (records.some((r) => r.outcome === "pending")) {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS * 5));
          continue;
        }
        const held = records.filter((r) => r.outcome === "held");
        if (!flushHeld || held.length === 0) return;
        const now = (await control("GET", "/clock")).now as number;
        const due = Math.min(...held.map((r) => r.dueAt ?? now));
        await this.sleep(Math.max(0, due - now));
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    },
  };
}
