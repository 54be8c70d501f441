// HTTP clients for the kit: the sandbox (merchant API and control API) and the merchant's own endpoints.

import type { DeliveryRecord, FaultSpec } from "../sandbox/index.js";

export interface SandboxOrder {
  _id: string;
  uid: number;
  secret: string;
  status: string;
  ipnUrl: string | null;
  clientCallbackUrl: string | null;
  inAmount: string;
  outAmount: string;
  route: { from: { xml: string }; to: { xml: string } };
  toValues: { field: string; name: string; value: string }[];
  reads: number;
}

export class SetupError extends Error {
  override name = "SetupError";
}

const SETTLED = new Set(["accepted", "rejected", "timeout", "error", "dropped"]);

/** The kit's view of a sandbox: everything goes through its public HTTP interfaces, in-process or not. */
export function sandboxClient(baseUrl: string, adminToken?: string) {
  const base = baseUrl.replace(/\/+$/, "");
  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new SetupError(`cannot reach the sandbox at ${base}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`);
    }
    const json = (await res.json().catch(() => null)) as any;
    if (!res.ok) throw new SetupError(`the sandbox answered ${res.status} to ${method} ${path}: ${json?.error?.message ?? "no message"}`);
    return json;
  };

  const client = {
    base,
    async health(): Promise<{ version: string }> {
      return call("GET", "/_sandbox/health");
    },
    async orders(): Promise<SandboxOrder[]> {
      return (await call("GET", "/_sandbox/orders")).orders;
    },
    async order(uid: number): Promise<SandboxOrder & { deliveries: DeliveryRecord[] }> {
      return call("GET", `/_sandbox/orders/${uid}`);
    },
    async routes(): Promise<any[]> {
      const json = await call("GET", "/service/api/v1/public/exchanger/route/get/");
      if (!json.success) throw new SetupError(`route/get failed: ${json.error?.message}`);
      return json.data;
    },
    async createOrder(params: Record<string, unknown>): Promise<SandboxOrder> {
      const json = await call("POST", "/service/api/v1/public/exchanger/order/create/", params);
      if (!json.success) throw new SetupError(`order/create failed: ${json.error?.message}`);
      return client.order(json.data.uid);
    },
    /** Moves the order (forced) and returns the deliveries its IPN produced, once settled. */
    async move(uid: number, status: string, fault?: FaultSpec, timeoutMs = 30_000): Promise<DeliveryRecord[]> {
      const before = new Set((await client.order(uid)).deliveries.map((d) => d.id));
      const moved = await call("POST", `/_sandbox/orders/${uid}/status`, { status, force: true, ...(fault === undefined ? {} : { fault }) });
      const ids = (moved.deliveries as DeliveryRecord[]).filter((d) => !before.has(d.id)).map((d) => d.id);
      return client.settle(ids, timeoutMs);
    },
    /** Fires an IPN built from the order with another status, without moving the order (so order/get still tells the truth). */
    async fire(uid: number, ipnUrl: string, ipnSecret: string, status: string, fault?: FaultSpec, timeoutMs = 30_000): Promise<DeliveryRecord[]> {
      const json = await call("POST", "/_sandbox/ipn", { ipnUrl, ipnSecret, status, orderUID: uid, ...(fault === undefined ? {} : { fault }) });
      return client.settle((json.deliveries as DeliveryRecord[]).map((d) => d.id), timeoutMs);
    },
    async resend(id: string, timeoutMs = 30_000): Promise<DeliveryRecord[]> {
      const json = await call("POST", `/_sandbox/deliveries/${id}/resend`);
      return client.settle((json.deliveries as DeliveryRecord[]).map((d) => d.id), timeoutMs);
    },
    /** Waits until every delivery named has an outcome (held ones included, so give them time). */
    async settle(ids: string[], timeoutMs: number): Promise<DeliveryRecord[]> {
      const deadline = Date.now() + timeoutMs;
      let pause = 10;
      for (;;) {
        const records = await Promise.all(ids.map((id) => call("GET", `/_sandbox/deliveries/${id}`) as Promise<DeliveryRecord>));
        if (records.every((r) => SETTLED.has(r.outcome)) || Date.now() > deadline) return records;
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(200, pause * 2);
      }
    },
  };
  return client;
}

export type SandboxClient = ReturnType<typeof sandboxClient>;

export interface HttpAnswer {
  status: number | null;
  body: string;
  error: string | null;
  latencyMs: number;
}

/** One request to the merchant, never throwing: a refused connection or a timeout is an answer too. */
export async function ask(url: string, init: RequestInit & { timeoutMs: number }): Promise<HttpAnswer> {
  const started = performance.now();
  const { timeoutMs, ...rest } = init;
  try {
    const res = await fetch(url, { ...rest, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 2048);
    return { status: res.status, body, error: null, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    const err = error as Error & { cause?: Error };
    const message = err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err.cause?.message ?? err.message);
    return { status: null, body: "", error: message, latencyMs: Math.round(performance.now() - started) };
  }
}

/** Reads a field from a JSON document by a dot path ("status", "order.state"). */
export function readPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
