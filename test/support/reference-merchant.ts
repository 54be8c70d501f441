// A realistic merchant backend on node:http for testing the contract kit: checkout on the sandbox, a careful IPN
// handler, a state view, a return page and order/get reconciliation. Each `MerchantBug` breaks exactly one of these.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash, timingSafeEqual } from "node:crypto";
import { decodeIpnBody, IPN_HASH_FIELDS_ORDER, verifyIpnHash, type Clock, type IpnFields } from "../../sandbox/index.js";

/** One switch per broken behaviour; a merchant started with none of them is the correct one. */
export const MERCHANT_BUGS = [
  /** No hash check at all: any decodable IPN for a known order is applied. */
  "acceptsAnything",
  /** Hashes newStatus before orderId, so it refuses every correctly signed IPN. */
  "wrongFieldOrder",
  /** Accepts an IPN whose hash field is absent (a present hash is still checked). */
  "missingHashAccepted",
  /** Credits on every `done`, also on a duplicate (the status stays paid). */
  "creditsTwice",
  /** Applies every status as it comes: final states do not stick, so a late inProgress undoes paid. */
  "regresses",
  /** Treats returned, deleted and errorPayment as paid, like done. */
  "paidOnAnyFinal",
  /** GET /return?status=success marks the order paid. */
  "trustsReturnStatus",
  /** Answers 500 to a body that is not valid form encoding (a broken percent escape, a field without a name). */
  "crashesOnMalformed",
  /** Answers 500 to a body missing a signed field, as code that reads `fields.orderId.trim()` would. */
  "crashesOnMissingFields",
  /** Answers 500 to every IPN, applying nothing. */
  "answers500",
  /** Waits `slowMs` (default 1500) before answering every IPN. */
  "slow",
  /** GET /return with a status other than success or error answers 500. */
  "returnPage500",
  /** The return page carries an inline script that throws (and no CSP, so it runs). */
  "returnPageScriptError",
  /** Never polls order/get, so a lost IPN is never made up for. */
  "noReconcile",
  /** Applies IPNs however old, and older than ones already applied (no replay or ordering check). */
  "ignoresTimestamp",
  /** Applies an IPN older than one already applied (with another status), even over a final state, and answers it only after `slowMs`. */
  "regressesLate",
] as const;
export type MerchantBug = (typeof MERCHANT_BUGS)[number];

/** The merchant's own view of an order: what its state URL shows (orderId, status, credits). */
export type LocalStatus = "pending" | "processing" | "paid" | "failed";

export interface LocalOrder {
  /** The sandbox order's `_id`. */
  orderId: string;
  uid: number;
  /** The order's secret from order/create (for the payment page and order/get). */
  secret: string;
  /** The merchant's own reference, carried in clientCallbackUrl as `?order=REF`. */
  ref: string;
  status: LocalStatus;
  /** How many times the buyer was credited: 1 once paid, never more for a correct merchant. */
  credits: number;
  /** What happened to the order, a line per IPN, reconcile step or return-page visit, for debugging. */
  history: string[];
  /** The last exchanger status applied (from an IPN or order/get); null before any. */
  lastStatus: string | null;
  /** The newest `timestamp` of an applied IPN; null before any. */
  newestIpnTimestamp: number | null;
}

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

/** Exchanger statuses after which the exchanger never moves the order again. */
const EXCHANGER_FINAL = new Set(["done", "returned", "deleted"]);
const FAILED_STATUSES = new Set(["returned", "deleted", "errorPayment"]);
const PROCESSING_STATUSES = new Set(["waitPayment", "inProgress", "inProgressPayout", "errorPayout", "hold"]);
const KNOWN_STATUSES = new Set(["new", ...PROCESSING_STATUSES, ...FAILED_STATUSES, "done"]);

/** A percent sign not followed by two hex digits, or a field with no name. */
const NOT_FORM_ENCODED = /%(?![0-9A-Fa-f]{2})|(^|&)=/;

const API = "/service/api/v1/public/exchanger";
const MAX_BODY_BYTES = 64 * 1024;
const SANDBOX_TIMEOUT_MS = 5_000;
const RECONCILE_FOR_MS = 120_000;
/** An IPN older than this (by the merchant's wall clock) is a replay. */
const MAX_IPN_AGE_MS = 86_400_000;

const REAL_TIMERS: Pick<Clock, "setTimer"> = {
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export async function startReferenceMerchant(options: ReferenceMerchantOptions): Promise<ReferenceMerchant> {
  const bugs = new Set<MerchantBug>(options.bugs ?? []);
  for (const bug of bugs) {
    if (!(MERCHANT_BUGS as readonly string[]).includes(bug)) throw new Error(`unknown merchant bug ${JSON.stringify(bug)}`);
  }
  const sandboxUrl = options.sandboxUrl.replace(/\/+$/, "");
  const hashField = options.hashField ?? "hash";
  const reconcileEveryMs = options.reconcileEveryMs ?? 500;
  const slowMs = options.slowMs ?? 1500;
  const has = (bug: MerchantBug) => bugs.has(bug);

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

  /** Applies an exchanger status to the local order; returns what happened, for the answer and the history. */
  const applyStatus = (order: LocalOrder, status: string, source: string, overFinal = false): "applied" | "ignored" => {
    const note = (line: string) => order.history.push(`${source} ${status}: ${line}`);
    const final = !overFinal && order.lastStatus !== null && EXCHANGER_FINAL.has(order.lastStatus);
    // `creditsTwice` is the merchant that credits on every done it sees, so it lets a repeated done through.
    const repeatedDone = has("creditsTwice") && status === "done" && order.lastStatus === "done";
    if (final && !has("regresses") && !repeatedDone) {
      note(`ignored, the order is already final (${order.lastStatus})`);
      return "ignored";
    }
    order.lastStatus = status;
    if (status === "done" || (has("paidOnAnyFinal") && FAILED_STATUSES.has(status))) {
      if (order.status !== "paid" || has("creditsTwice")) order.credits += 1;
      order.status = "paid";
    } else if (FAILED_STATUSES.has(status)) {
      order.status = "failed";
    } else if (PROCESSING_STATUSES.has(status)) {
      order.status = "processing";
    } else {
      order.status = "pending";
    }
    note(`→ ${order.status} (credits ${order.credits})`);
    return "applied";
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
  /** The answer: status, text, and whether to hold it back `slowMs` first. */
  const ipn = (body: string): [number, string, boolean?] => {
    if (has("answers500")) return [500, "Internal Server Error"];
    if (has("crashesOnMalformed") && NOT_FORM_ENCODED.test(body)) return [500, "Internal Server Error"];
    if (has("crashesOnMissingFields")) {
      const present = new URLSearchParams(body);
      if (IPN_HASH_FIELDS_ORDER.some((name) => !present.has(name))) return [500, "TypeError: Cannot read properties of undefined (reading 'trim')"];
    }
    let fields: IpnFields;
    let hash: string | null;
    try {
      ({ fields, hash } = decodeIpnBody(body, hashField));
    } catch (error) {
      return [400, `malformed IPN: ${(error as Error).message}`];
    }
    if (!has("acceptsAnything")) {
      if (hash === null) {
        if (!has("missingHashAccepted")) return [403, `missing ${hashField}`];
      } else if (!(has("wrongFieldOrder") ? verifyWrongOrder(fields, options.secret, hash) : verifyIpnHash(fields, options.secret, hash))) {
        return [403, `bad ${hashField}`];
      }
    }
    const order = orders.get(fields.orderId);
    if (!order) return [404, `unknown order ${fields.orderId}`];
    if (!KNOWN_STATUSES.has(fields.newStatus)) return [400, `unknown status ${fields.newStatus}`];

    if (!has("ignoresTimestamp")) {
      const timestamp = Number(fields.timestamp);
      if (!/^[0-9]{1,16}$/.test(fields.timestamp) || !Number.isSafeInteger(timestamp)) {
        return [400, `timestamp is not Unix milliseconds: ${fields.timestamp}`];
      }
      if (timestamp <= Date.now() - MAX_IPN_AGE_MS) {
        order.history.push(`ipn ${fields.newStatus}: ignored, timestamp ${timestamp} is more than a day old`);
        return [200, "ignored: too old"];
      }
      if (has("regressesLate") && order.newestIpnTimestamp !== null && timestamp < order.newestIpnTimestamp && fields.newStatus !== order.lastStatus) {
        applyStatus(order, fields.newStatus, "late ipn", true);
        order.history.push(`late ipn ${fields.newStatus}: answer held back ${slowMs} ms`);
        return [200, "OK", true];
      }
      if (!has("regresses") && order.newestIpnTimestamp !== null && timestamp < order.newestIpnTimestamp) {
        order.history.push(`ipn ${fields.newStatus}: ignored, older than an IPN already applied`);
        return [200, "ignored: older than an IPN already applied"];
      }
      if (order.newestIpnTimestamp === null || timestamp > order.newestIpnTimestamp) order.newestIpnTimestamp = timestamp;
    }
    return applyStatus(order, fields.newStatus, "ipn") === "applied" ? [200, "OK"] : [200, "ignored: the order is already final"];
  };

  // ---- GET /orders/:orderId ------------------------------------------------------------------------------------
  const state = (res: ServerResponse, orderId: string) => {
    const order = orders.get(orderId);
    if (!order) return sendJson(res, 404, { error: `unknown order ${orderId}` });
    sendJson(res, 200, { orderId: order.orderId, status: order.status, credits: order.credits });
  };

  // ---- GET /return ---------------------------------------------------------------------------------------------
  const returnPage = (res: ServerResponse, query: URLSearchParams) => {
    const status = query.get("status") ?? "";
    const order = byRef.get(query.get("order") ?? "");
    if (has("returnPage500") && status !== "success" && status !== "error") {
      return send(res, 500, "text/plain; charset=utf-8", "Internal Server Error");
    }
    if (order) {
      order.history.push(`return page: status=${JSON.stringify(status)}${has("trustsReturnStatus") ? "" : " (not trusted)"}`);
      if (has("trustsReturnStatus") && status === "success" && order.status !== "paid") {
        order.status = "paid";
        order.credits += 1;
      }
    }
    const script = has("returnPageScriptError") ? `<script>throw new Error("boom")</script>` : "";
    const html =
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Thank you</title></head><body>` +
      `<h1>Thank you</h1><p>Order: ${escapeHtml(order?.ref ?? "unknown")}</p>` +
      `<p>The exchanger says: ${escapeHtml(status)}. We confirm payments on our side and email you when it is done.</p>` +
      `${script}</body></html>`;
    const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8" };
    if (!has("returnPageScriptError")) headers["content-security-policy"] = "default-src 'none'";
    res.writeHead(200, headers).end(html);
  };

  // ---- the server ----------------------------------------------------------------------------------------------
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://merchant.invalid");
    const route = `${req.method} ${url.pathname}`;
    if (route === "POST /ipn") {
      const body = await readBody(req);
      if (body === null) return send(res, 413, "text/plain", "body too large");
      const [status, text, late] = ipn(body);
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

/** The `wrongFieldOrder` bug: newStatus and orderId swapped in the hashed string. */
function verifyWrongOrder(fields: IpnFields, secret: string, hash: string): boolean {
  const text = [fields.newStatus, fields.orderId, fields.inAmount, fields.outAmount, fields.xml_from, fields.xml_to, fields.timestamp, secret].join(":");
  const expected = createHash("sha256").update(text, "utf8").digest();
  const received = Buffer.from(hash, "hex");
  return received.length === expected.length && timingSafeEqual(received, expected);
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

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
