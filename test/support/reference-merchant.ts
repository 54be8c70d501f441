// A realistic merchant backend on node:http for testing the contract kit: checkout on the sandbox, a careful IPN
// handler, a state view, a return page and order/get reconciliation. Each `MerchantBug` breaks exactly one of these;
// the rules they bend (statuses, IPN checks, the return page) are in reference-merchant-rules.ts.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Clock } from "../../sandbox/index.js";
import { createMerchantRules, EXCHANGER_FINAL, KNOWN_STATUSES, type LocalOrder, type MerchantBug } from "./reference-merchant-rules.js";

export { MERCHANT_BUGS, type LocalOrder, type LocalStatus, type MerchantBug } from "./reference-merchant-rules.js";

export interface ReferenceMerchantOptions {
  /** The sandbox's base URL, e.g. http://127.0.0.1:54321. */
  sandboxUrl: string;
  /** The ipnSecret sent with every order, and what IPNs are checked against. */
  secret: string;
  bugs?: readonly MerchantBug[];
  /** The IPN checksum's field name (default "hash"). */
  hashField?: string;
  /** How often an unfinished order is polled through order/get (default 500 ms). */
  reconcileEveryMs?: number;
  /**
   * Whether unfinished orders are polled through order/get at all (default true). Off where a test needs the state
   * to follow the IPNs alone: for a merchant that applies statuses out of order, a poll landing between two IPNs
   * would undo what the test looks at.
   */
  reconcile?: boolean;
  /** How long the `slow` and `regressesLate` bugs wait before answering (default 1500 ms). */
  slowMs?: number;
  /**
   * What its waits run on: the reconcile polls and the answers the `slow` and `regressesLate` bugs hold back (default:
   * real timers). A test hands in a manual clock and advances it, so that nothing waits for wall time to pass.
   */
  clock?: Pick<Clock, "setTimer">;
  /** Called as it begins holding an answer back: a test can time the IPN out there and then. */
  onHold?: () => void;
}

export interface ReferenceMerchant {
  /** Base URL, e.g. http://127.0.0.1:40123. */
  url: string;
  /** `${url}/ipn`: the ipnUrl it sends to order/create. */
  ipnUrl: string;
  /** `${url}/checkout`: POST creates an order on the sandbox. */
  checkoutUrl: string;
  /** `${url}/orders/{orderId}`: GET answers `{orderId, status, credits}`. */
  stateUrlTemplate: string;
  /** `${url}/return`: the return page; clientCallbackUrl is `${callbackUrl}?order=REF`. */
  callbackUrl: string;
  /** Local orders by the sandbox's orderId (`_id`). */
  orders: Map<string, LocalOrder>;
  /** How many order/get polls it has begun. */
  readonly polls: number;
  /** Resolves once no order/get poll is under way. */
  reconciled(): Promise<void>;
  /** How many IPN answers it is holding back (`slow`, `regressesLate`). */
  holding(): number;
  close(): Promise<void>;
}

const API = "/service/api/v1/public/exchanger";
const MAX_BODY_BYTES = 64 * 1024;
const SANDBOX_TIMEOUT_MS = 5_000;
const RECONCILE_FOR_MS = 120_000;

const REAL_TIMERS: Pick<Clock, "setTimer"> = {
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export async function startReferenceMerchant(options: ReferenceMerchantOptions): Promise<ReferenceMerchant> {
  const sandboxUrl = options.sandboxUrl.replace(/\/+$/, "");
  const hashField = options.hashField ?? "hash";
  const reconcileEveryMs = options.reconcileEveryMs ?? 500;
  const slowMs = options.slowMs ?? 1500;
  const rules = createMerchantRules(options.bugs ?? [], { secret: options.secret, hashField, slowMs });
  const { has, applyStatus } = rules;

  const orders = new Map<string, LocalOrder>();
  const byRef = new Map<string, LocalOrder>();
  const clock = options.clock ?? REAL_TIMERS;
  const timers = new Set<{ cancel(): void }>();
  const aborter = new AbortController();
  let closed = false;
  let refCounter = 0;
  let base = "";
  let polls = 0;
  let polling = 0;
  const whenReconciled: (() => void)[] = [];
  let held = 0;

  const later = (ms: number, run: () => void) => {
    const timer = clock.setTimer(ms, () => {
      timers.delete(timer);
      if (!closed) run();
    });
    timers.add(timer);
  };

  // ---- POST /checkout ----------------------------------------------------------------------------------------
  const checkout = async (res: ServerResponse) => {
    const routes = await sandboxCall("GET", "route/get");
    if (!routes.ok || !Array.isArray(routes.data) || routes.data.length === 0) {
      return sendJson(res, 500, { error: `route/get failed: ${routes.ok ? "no routes" : routes.message}` });
    }
    const list = routes.data as SandboxRoute[];
    const route = list.find((r) => r.from?.xml === "ETH" && r.to?.xml === "WMZ") ?? list[0]!;
    const values = (fields: SandboxField[] | undefined) =>
      (fields ?? []).filter((f) => f.required).map((f) => ({ key: f._id, value: f.placeholder }));
    const ref = `ref-${++refCounter}-${Math.random().toString(36).slice(2, 8)}`;
    const created = await sandboxCall("POST", "order/create", {
      routeId: route._id,
      amount: route.min,
      fromValues: values(route.fromFields),
      toValues: values(route.toFields),
      routeValues: values(route.routeFields),
      lang: "en",
      agreement: true,
      ipnUrl: `${base}/ipn`,
      ipnSecret: options.secret,
      clientCallbackUrl: `${base}/return?order=${encodeURIComponent(ref)}`,
    });
    if (!created.ok) return sendJson(res, 500, { error: `order/create failed: ${created.message}` });
    const data = created.data as { _id: string; uid: number; secret: string };
    const order: LocalOrder = {
      orderId: data._id,
      uid: data.uid,
      secret: data.secret,
      ref,
      status: "pending",
      credits: 0,
      history: [`checkout: order ${data.uid} created`],
      lastStatus: null,
      newestIpnTimestamp: null,
    };
    orders.set(order.orderId, order);
    byRef.set(ref, order);
    if (!has("noReconcile") && options.reconcile !== false) scheduleReconcile(order, Date.now() + RECONCILE_FOR_MS);
    sendJson(res, 201, {
      orderId: order.orderId,
      uid: order.uid,
      ref,
      paymentUrl: `${sandboxUrl}/en/payment/${order.uid}/${order.secret}/`,
    });
  };

  // ---- reconcile through order/get -----------------------------------------------------------------------------
  const scheduleReconcile = (order: LocalOrder, until: number) => {
    let lastSeen: string | null = null;
    const poll = async () => {
      polls++;
      polling++;
      try {
        await pollOnce();
      } finally {
        if (--polling === 0) for (const wake of whenReconciled.splice(0)) wake();
      }
    };
    const pollOnce = async () => {
      const got = await sandboxCall("GET", "order/get", { orderUID: String(order.uid), orderSecret: order.secret });
      if (closed) return;
      const status = got.ok ? (got.data as { order?: { status?: unknown } }).order?.status : undefined;
      if (typeof status === "string" && KNOWN_STATUSES.has(status) && status !== lastSeen) {
        lastSeen = status;
        // `new` is where every order starts; an IPN never reports it, so it teaches nothing.
        if (status !== "new" && status !== order.lastStatus) applyStatus(order, status, "reconcile");
      }
      const finished =
        (typeof status === "string" && EXCHANGER_FINAL.has(status)) ||
        (order.lastStatus !== null && EXCHANGER_FINAL.has(order.lastStatus));
      if (!finished && Date.now() + reconcileEveryMs <= until) later(reconcileEveryMs, () => void poll());
    };
    later(reconcileEveryMs, () => void poll());
  };

  // ---- POST /ipn -------------------------------------------------------------------------------------------------
  // ---- GET /orders/:orderId ------------------------------------------------------------------------------------
  const state = (res: ServerResponse, orderId: string) => {
    const order = orders.get(orderId);
    if (!order) return sendJson(res, 404, { error: `unknown order ${orderId}` });
    sendJson(res, 200, { orderId: order.orderId, status: order.status, credits: order.credits });
  };

  // ---- GET /return ---------------------------------------------------------------------------------------------
  const returnPage = (res: ServerResponse, query: URLSearchParams) => {
    const answer = rules.returnVisit(byRef.get(query.get("order") ?? ""), query.get("status") ?? "");
    res.writeHead(answer.status, answer.headers).end(answer.body);
  };

  // ---- the server ----------------------------------------------------------------------------------------------
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://merchant.invalid");
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /ipn") {
      const body = await readBody(req);
      if (body === null) return send(res, 413, "text/plain", "body too large");
      const [status, text, late] = rules.judgeIpn(body, orders);
      if (has("slow") || late) {
        held++;
        options.onHold?.();
        await new Promise<void>((resolve) => later(slowMs, resolve));
        held--;
      }
      if (closed) return;
      return send(res, status, "text/plain; charset=utf-8", text);
    }
    if (route === "POST /checkout") {
      if ((await readBody(req)) === null) return send(res, 413, "text/plain", "body too large");
      return checkout(res);
    }
    const stateMatch = /^\/orders\/([^/]+)$/.exec(url.pathname);
    if (req.method === "GET" && stateMatch) return state(res, safeDecode(stateMatch[1]!));
    if (route === "GET /return") return returnPage(res, url.searchParams);
    if (["/ipn", "/checkout", "/return"].includes(url.pathname) || stateMatch) return send(res, 405, "text/plain", "method not allowed");
    send(res, 404, "text/plain", "not found");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, "text/plain", `merchant error: ${(error as Error).message}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function sandboxCall(method: "GET" | "POST", name: string, params: Record<string, unknown> = {}) {
    const target = new URL(`${sandboxUrl}${API}/${name}/`);
    if (method === "GET") for (const [k, v] of Object.entries(params)) target.searchParams.set(k, String(v));
    try {
      const res = await fetch(target, {
        method,
        ...(method === "POST" ? { body: JSON.stringify(params), headers: { "content-type": "application/json" } } : {}),
        signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(SANDBOX_TIMEOUT_MS)]),
      });
      const json = (await res.json()) as { success?: boolean; data?: unknown; error?: { message?: string } };
      if (json.success === true) return { ok: true as const, data: json.data };
      return { ok: false as const, message: json.error?.message ?? `HTTP ${res.status}` };
    } catch (error) {
      return { ok: false as const, message: (error as Error).message };
    }
  }

  return {
    url: base,
    ipnUrl: `${base}/ipn`,
    checkoutUrl: `${base}/checkout`,
    stateUrlTemplate: `${base}/orders/{orderId}`,
    callbackUrl: `${base}/return`,
    orders,
    get polls() {
      return polls;
    },
    reconciled: () => (polling === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenReconciled.push(resolve))),
    holding: () => held,
    async close() {
      closed = true;
      for (const timer of timers) timer.cancel();
      timers.clear();
      aborter.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface SandboxField {
  _id: string;
  placeholder: string;
  required: boolean;
}
interface SandboxRoute {
  _id: string;
  min: string;
  from?: { xml?: string };
  to?: { xml?: string };
  fromFields?: SandboxField[];
  toFields?: SandboxField[];
  routeFields?: SandboxField[];
}

/** The body as text, or null when it is larger than MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, type: string, body: string) {
  // A 413 leaves the rest of the body unread: the connection cannot be reused.
  res.writeHead(status, { "content-type": type, ...(status === 413 ? { connection: "close" } : {}) }).end(body);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  send(res, status, "application/json", JSON.stringify(body));
}
