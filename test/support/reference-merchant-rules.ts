// The reference merchant's rules without HTTP: the bug switches, its own view of an order, how an exchanger status
// changes that view, and how it judges an IPN and a return-page visit. Most MerchantBugs bend one rule here; `slow`,
// `regressesLate` (its held answer) and `noReconcile` bend the server's timing in reference-merchant.ts.

import { createHash, timingSafeEqual } from "node:crypto";
import { decodeIpnBody, IPN_HASH_FIELDS_ORDER, verifyIpnHash, type IpnFields } from "../../sandbox/index.js";

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

/** Exchanger statuses after which the exchanger never moves the order again. */
export const EXCHANGER_FINAL = new Set(["done", "returned", "deleted"]);
const FAILED_STATUSES = new Set(["returned", "deleted", "errorPayment"]);
const PROCESSING_STATUSES = new Set(["waitPayment", "inProgress", "inProgressPayout", "errorPayout", "hold"]);
export const KNOWN_STATUSES = new Set(["new", ...PROCESSING_STATUSES, ...FAILED_STATUSES, "done"]);

/** A percent sign not followed by two hex digits, or a field with no name. */
const NOT_FORM_ENCODED = /%(?![0-9A-Fa-f]{2})|(^|&)=/;
/** An IPN older than this (by the merchant's wall clock) is a replay. */
const MAX_IPN_AGE_MS = 86_400_000;

/** An answer: HTTP status, text, and whether to hold it back `slowMs` first. */
export type IpnAnswer = [number, string, boolean?];

/** A whole HTTP answer, for the return page. */
export interface PageAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface MerchantRulesOptions {
  /** The ipnSecret IPNs are checked against. */
  secret: string;
  /** The IPN checksum's field name. */
  hashField: string;
  /** How long the `regressesLate` bug holds its answer back (for the order's history). */
  slowMs: number;
}

/** The rules of a merchant with `bugs`; throws for a bug it does not know. */
export function createMerchantRules(bugList: readonly MerchantBug[], { secret, hashField, slowMs }: MerchantRulesOptions) {
  const bugs = new Set<MerchantBug>(bugList);
  for (const bug of bugs) {
    if (!(MERCHANT_BUGS as readonly string[]).includes(bug)) throw new Error(`unknown merchant bug ${JSON.stringify(bug)}`);
  }
  const has = (bug: MerchantBug) => bugs.has(bug);

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

  /** How it answers an IPN body, having applied what it accepts to `orders`. */
  const judgeIpn = (body: string, orders: ReadonlyMap<string, LocalOrder>): IpnAnswer => {
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
      } else if (!(has("wrongFieldOrder") ? verifyWrongOrder(fields, secret, hash) : verifyIpnHash(fields, secret, hash))) {
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

  /** A visit to the return page with `?status=` (and the order its `?order=` names, if known). */
  const returnVisit = (order: LocalOrder | undefined, status: string): PageAnswer => {
    if (has("returnPage500") && status !== "success" && status !== "error") {
      return { status: 500, headers: { "content-type": "text/plain; charset=utf-8" }, body: "Internal Server Error" };
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
    return { status: 200, headers, body: html };
  };

  return { has, applyStatus, judgeIpn, returnVisit };
}

/** The `wrongFieldOrder` bug: newStatus and orderId swapped in the hashed string. */
function verifyWrongOrder(fields: IpnFields, secret: string, hash: string): boolean {
  const text = [fields.newStatus, fields.orderId, fields.inAmount, fields.outAmount, fields.xml_from, fields.xml_to, fields.timestamp, secret].join(":");
  const expected = createHash("sha256").update(text, "utf8").digest();
  const received = Buffer.from(hash, "hex");
  return received.length === expected.length && timingSafeEqual(received, expected);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
