// Each MerchantBug of the reference merchant really breaks its one behaviour, so the kit's own tests can rely on it.

import { describe, expect, it } from "vitest";
import type { DeliveryRecord } from "../sandbox/index.js";
import { MERCHANT_BUGS, startReferenceMerchant, type MerchantBug, type ReferenceMerchant, type ReferenceMerchantOptions } from "./support/reference-merchant.js";
import { SECRET, useReferenceMerchantHarness } from "./support/reference-merchant-harness.js";
import { until } from "./support/wait.js";

const h = useReferenceMerchantHarness();
const { startMerchant, reconcile, checkout, state, settle, sendIpn, move, answers, returnPage } = h;

interface BugCase {
  /** What the probe shows for the correct merchant, and for the merchant with this bug. */
  correct: unknown;
  buggy: unknown;
  options?: Partial<ReferenceMerchantOptions>;
  probe(m: ReferenceMerchant): Promise<unknown>;
}

/** One probe per bug, run on a correct and on a buggy merchant: the two must see what is stated. */
const BUG_CASES: Record<MerchantBug, BugCase> = {
  acceptsAnything: {
    correct: [[403], "pending"],
    buggy: [[200], "paid"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await sendIpn(m, order.uid, "done", "wrongSecret")), (await state(m, order.orderId)).status];
    },
  },
  wrongFieldOrder: {
    correct: [[200], "paid"],
    buggy: [[403], "pending"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await move(order.uid, "done")), (await state(m, order.orderId)).status];
    },
  },
  missingHashAccepted: {
    correct: { missing: [403], tampered: [403], status: "pending" },
    buggy: { missing: [200], tampered: [403], status: "paid" },
    async probe(m) {
      const order = await checkout(m);
      const tampered = answers(await sendIpn(m, order.uid, "done", "tamperHash"));
      const missing = answers(await sendIpn(m, order.uid, "done", "missingHash"));
      return { missing, tampered, status: (await state(m, order.orderId)).status };
    },
  },
  creditsTwice: {
    correct: { status: "paid", credits: 1 },
    buggy: { status: "paid", credits: 2 },
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done", "duplicate");
      const { status, credits } = await state(m, order.orderId);
      return { status, credits };
    },
  },
  regresses: {
    correct: "paid",
    buggy: "processing",
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done");
      await sendIpn(m, order.uid, "inProgress");
      return (await state(m, order.orderId)).status;
    },
  },
  paidOnAnyFinal: {
    correct: ["failed", "failed", "failed"],
    buggy: ["paid", "paid", "paid"],
    async probe(m) {
      const seen: string[] = [];
      for (const status of ["returned", "deleted", "errorPayment"] as const) {
        const order = await checkout(m);
        await sendIpn(m, order.uid, status);
        seen.push((await state(m, order.orderId)).status);
      }
      return seen;
    },
  },
  trustsReturnStatus: {
    correct: [200, "pending"],
    buggy: [200, "paid"],
    async probe(m) {
      const order = await checkout(m);
      const page = await returnPage(m, order.ref, "success");
      return [page.status, (await state(m, order.orderId)).status];
    },
  },
  crashesOnMalformed: {
    correct: [400],
    buggy: [500],
    async probe(m) {
      const order = await checkout(m);
      return answers(await sendIpn(m, order.uid, "waitPayment", "malformedBody"));
    },
  },
  crashesOnMissingFields: {
    correct: { missingOrderId: 400, empty: 400, malformed: [400] },
    buggy: { missingOrderId: 500, empty: 500, malformed: [400] },
    async probe(m) {
      const order = await checkout(m);
      const post = async (body: string) => (await fetch(m.ipnUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } })).status;
      const [record] = await sendIpn(m, order.uid, "waitPayment");
      const withoutOrderId = record!.body.split("&").filter((pair) => !pair.startsWith("orderId=")).join("&");
      return { missingOrderId: await post(withoutOrderId), empty: await post(""), malformed: answers(await sendIpn(m, order.uid, "waitPayment", "malformedBody")) };
    },
  },
  answers500: {
    correct: [[200], "processing"],
    buggy: [[500], "pending"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await move(order.uid, "waitPayment")), (await state(m, order.orderId)).status];
    },
  },
  regressesLate: {
    correct: { late: [200], status: "paid", notes: ["ipn inProgress: ignored, older than an IPN already applied"] },
    buggy: { late: [200], status: "processing", notes: ["late ipn inProgress: → processing (credits 1)", "late ipn inProgress: answer held back 600 ms"] },
    async probe(m) {
      const order = await checkout(m);
      const [held] = await move(order.uid, "inProgress", "drop");
      await move(order.uid, "done");
      const { json } = await h.sandbox().control("POST", `/deliveries/${held!.id}/resend`);
      const late = await settle(json.deliveries);
      const notes = m.orders.get(order.orderId)!.history.filter((line) => /older than|^late ipn/.test(line));
      return { late: answers(late), status: (await state(m, order.orderId)).status, notes };
    },
  },
  slow: {
    correct: { answered: [200], heldBack: false },
    buggy: { answered: [200], heldBack: true },
    async probe(m) {
      const order = await checkout(m);
      const { json } = await h.sandbox().control("POST", "/ipn", { ipnUrl: m.ipnUrl, ipnSecret: SECRET, status: "waitPayment", orderUID: order.uid });
      const [sent] = json.deliveries as DeliveryRecord[];
      // Either the answer comes, or the merchant holds it back until its clock moves.
      await until(() => m.holding() > 0 || h.sandbox().sandbox.store.getDelivery(sent!.id)!.outcome !== "pending", "an answer, or one held back");
      const heldBack = m.holding() > 0;
      return { answered: answers(await settle([sent!])), heldBack };
    },
  },
  returnPage500: {
    correct: { junk: 200, empty: 200, success: 200, error: 200 },
    buggy: { junk: 500, empty: 500, success: 200, error: 200 },
    async probe(m) {
      const order = await checkout(m);
      const code = async (status: string) => (await returnPage(m, order.ref, status)).status;
      return { junk: await code("junk"), empty: await code(""), success: await code("success"), error: await code("error") };
    },
  },
  returnPageScriptError: {
    correct: { status: 200, throwingScript: false, csp: true },
    buggy: { status: 200, throwingScript: true, csp: false },
    async probe(m) {
      const order = await checkout(m);
      const page = await returnPage(m, order.ref, "success");
      return { status: page.status, throwingScript: page.html.includes(`<script>throw new Error("boom")</script>`), csp: page.csp !== null };
    },
  },
  noReconcile: {
    correct: { status: "paid", polled: true },
    buggy: { status: "pending", polled: false },
    async probe(m) {
      const order = await checkout(m);
      await move(order.uid, "done", "drop");
      await reconcile(m);
      const { status } = await state(m, order.orderId);
      return { status, polled: h.sandbox().sandbox.orders.readCount(order.uid) > 0 };
    },
  },
  ignoresTimestamp: {
    correct: [[200], "pending"],
    buggy: [[200], "paid"],
    async probe(m) {
      const order = await checkout(m);
      return [answers(await sendIpn(m, order.uid, "done", "staleTimestamp")), (await state(m, order.orderId)).status];
    },
  },
};

describe("each MerchantBug breaks exactly its behaviour", () => {
  it.each([...MERCHANT_BUGS])("%s", async (bug) => {
    const { probe, correct, buggy, options = {} } = BUG_CASES[bug];
    const good = await startMerchant([], options);
    const bad = await startMerchant([bug], options);
    expect(await probe(good), "the correct merchant").toEqual(correct);
    expect(await probe(bad), `the merchant with ${bug}`).toEqual(buggy);
  });

  it("refuses an unknown bug name", async () => {
    await expect(startReferenceMerchant({ sandboxUrl: h.sandbox().url, secret: SECRET, bugs: ["nope" as MerchantBug] })).rejects.toThrow(/unknown merchant bug/);
  });
});
