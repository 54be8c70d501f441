// A second merchant backend in another style, for the contract kit's tests: a Hono app that keeps the exchanger's
// own status names (`order.state` is "done", "returned" …) beside a paid flag and a balance, read from form bodies
// with Hono's parseBody. Its one bug, `creditsOnReturned`, credits the balance on returned while mirroring the status.

import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { createHash, timingSafeEqual } from "node:crypto";
import { IPN_HASH_FIELDS_ORDER } from "../../sandbox/index.js";

export const MIRROR_BUGS = [
  /** On returned the balance is credited with the order's amount, though the state mirrors "returned" honestly. */
  "creditsOnReturned",
] as const;
export type MirrorBug = (typeof MIRROR_BUGS)[number];

/** What GET /api/orders/:id answers; the kit reads the status at `order.state`. */
export interface MirrorDocument {
  order: { id: string; uid: number; state: string };
  paid: boolean;
  balance: string;
  lastIpnAt: number | null;
}

export interface MirrorMerchant {
  ipnUrl: string;
  checkoutUrl: string;
  stateUrlTemplate: string;
  /** The dot path of the status in the state document. */
  stateField: string;
  close(): Promise<void>;
}

const FINAL = new Set(["done", "returned", "deleted"]);
const DAY_MS = 86_400_000;

interface Kept {
  doc: MirrorDocument;
  secret: string;
  outAmount: string;
  newest: number;
}

export async function startMirrorMerchant(options: { sandboxUrl: string; secret: string; bugs?: readonly MirrorBug[]; reconcileEveryMs?: number }): Promise<MirrorMerchant> {
  const bugs = new Set(options.bugs ?? []);
  const api = `${options.sandboxUrl.replace(/\/+$/, "")}/service/api/v1/public/exchanger`;
  const orders = new Map<string, Kept>();
  let self = "";

  const apply = (kept: Kept, state: string) => {
    if (FINAL.has(kept.doc.order.state)) return;
    kept.doc.order.state = state;
    if (state === "done" || (state === "returned" && bugs.has("creditsOnReturned"))) kept.doc.balance = kept.outAmount;
    if (state === "done") kept.doc.paid = true;
  };

  const app = new Hono();
  app.post("/api/checkout", async (c) => {
    const routes = (await (await fetch(`${api}/route/get/`)).json()) as { data: SandboxRoute[] };
    const route = routes.data.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ") ?? routes.data[0]!;
    const values = (fields: SandboxRoute["toFields"]) => fields.filter((f) => f.required).map((f) => ({ key: f._id, value: f.placeholder }));
    const res = await fetch(`${api}/order/create/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        routeId: route._id, amount: route.min, agreement: true,
        fromValues: values(route.fromFields), toValues: values(route.toFields), routeValues: values(route.routeFields),
        ipnUrl: `${self}/hooks/exchanger`, ipnSecret: options.secret, clientCallbackUrl: `${self}/thanks`,
      }),
    });
    const created = (await res.json()) as { success: boolean; data?: { _id: string; uid: number; secret: string; outAmount: string } };
    if (!created.success || !created.data) return c.json({ error: "order/create failed" }, 502);
    const { _id, uid, secret, outAmount } = created.data;
    orders.set(_id, { doc: { order: { id: _id, uid, state: "new" }, paid: false, balance: "0", lastIpnAt: null }, secret, outAmount, newest: 0 });
    return c.json({ id: _id }, 201);
  });

  app.post("/hooks/exchanger", async (c) => {
    const body = await c.req.parseBody();
    const field = (name: string) => (typeof body[name] === "string" ? (body[name] as string) : null);
    const signed = IPN_HASH_FIELDS_ORDER.map(field);
    const hash = field("hash");
    if (signed.some((value) => value === null) || hash === null) return c.text("missing fields", 400);
    const expected = createHash("sha256").update(`${signed.join(":")}:${options.secret}`).digest("hex");
    if (hash.length !== expected.length || !timingSafeEqual(Buffer.from(hash), Buffer.from(expected))) return c.text("bad hash", 403);
    const kept = orders.get(field("orderId")!);
    if (!kept) return c.text("unknown order", 404);
    const timestamp = Number(field("timestamp"));
    if (!Number.isSafeInteger(timestamp)) return c.text("bad timestamp", 400);
    if (timestamp < Date.now() - DAY_MS || timestamp < kept.newest) return c.text("stale, ignored");
    kept.newest = timestamp;
    kept.doc.lastIpnAt = Date.now();
    apply(kept, field("newStatus")!);
    return c.text("ok");
  });

  app.get("/api/orders/:id", (c) => {
    const kept = orders.get(c.req.param("id"));
    return kept ? c.json(kept.doc) : c.json({ error: "no such order" }, 404);
  });
  app.get("/thanks", (c) => c.html("<!doctype html><title>Thanks</title><p>Thanks! Your order is being processed.</p>"));

  // An IPN may never come: order/get tells what it would have.
  const reconcile = setInterval(async () => {
    for (const kept of orders.values()) {
      if (FINAL.has(kept.doc.order.state)) continue;
      const res = await fetch(`${api}/order/get/?orderUID=${kept.doc.order.uid}&orderSecret=${kept.secret}`).catch(() => null);
      const status = ((await res?.json().catch(() => null)) as { data?: { order?: { status?: string } } } | null)?.data?.order?.status;
      if (status && FINAL.has(status)) apply(kept, status);
    }
  }, options.reconcileEveryMs ?? 200);

  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  self = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ipnUrl: `${self}/hooks/exchanger`,
    checkoutUrl: `${self}/api/checkout`,
    stateUrlTemplate: `${self}/api/orders/{orderId}`,
    stateField: "order.state",
    async close() {
      clearInterval(reconcile);
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface SandboxRoute {
  _id: string;
  min: string;
  from: { xml: string };
  to: { xml: string };
  fromFields: { _id: string; placeholder: string; required: boolean }[];
  toFields: { _id: string; placeholder: string; required: boolean }[];
  routeFields: { _id: string; placeholder: string; required: boolean }[];
}
