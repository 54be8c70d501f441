// The signature contract: a correctly signed IPN is applied, and every forged one is refused and changes nothing.

import { encodeIpnBody, ipnFieldsFor, signIpn, type FaultSpec, type OrderStatus } from "../../sandbox/index.js";
import { describe, signingEvidence, type Sent } from "../answers.js";
import { begin, defineChecks, fire, freshOrder, moveAll, move, NO_CHECKOUT, NO_STATE, probe, STATE_URL_HINT, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { changedKeys, describeChanges, judgeStateChange, show } from "../state.js";

const REFUSE =
  "Recompute the hash from the received fields and your ipnSecret and answer 4xx (changing nothing) when it differs or is missing; compare in constant time (crypto.timingSafeEqual, hmac.compare_digest, hash_equals).";

export const SIGNATURE = defineChecks("signature", {
  valid: {
    title: "a correctly signed IPN is accepted, and the merchant's state follows",
    required: true,
    hint: "Build the string exactly as shown: orderId:newStatus:inAmount:outAmount:xml_from:xml_to:timestamp:ipnSecret, from the fields as received (strings, unchanged), sha256 it, lower-case hex, and compare with the hash field. `exchanger-sandbox sign` prints the string and hash for any fields.",
  },
  "wrong-secret": { title: "an IPN signed with another secret is refused", required: true, hint: REFUSE },
  "altered-hash": { title: "an IPN whose hash was altered is refused", required: true, hint: REFUSE },
  "altered-amount": { title: "an IPN whose outAmount was changed after signing is refused", required: true, hint: REFUSE },
  "altered-status": { title: "an IPN whose newStatus was changed after signing is refused", required: true, hint: REFUSE },
  "altered-order-id": { title: "an IPN whose orderId was changed after signing is refused", required: true, hint: REFUSE },
  "missing-hash": { title: "an IPN without its hash is refused", required: true, hint: REFUSE },
  "other-order-hash": { title: "an IPN carrying the hash of another order's IPN is refused", required: true, hint: REFUSE },
});

const APPLY = "Apply the IPN's newStatus to the order after the hash checks out.";

/** Plays a whole order to done with correctly signed IPNs; learns what done changes in the merchant's state. */
export async function runValid(ctx: Context): Promise<CheckResult[]> {
  const c = begin(SIGNATURE.valid);
  let order;
  try {
    order = await freshOrder(ctx);
  } catch (error) {
    return [c.fail([(error as Error).message], "Make the checkout create an order on the sandbox with order/create, passing ipnUrl and ipnSecret.")];
  }
  const state = () => ctx.merchant.state(order);
  const start = ctx.merchant.canReadState ? await state() : null;
  const early = await moveAll(ctx, order.uid, ["waitPayment", "inProgress", "inProgressPayout"]);
  const beforeDone = ctx.merchant.canReadState ? await state() : null;
  const sent = [...early, ...(await move(ctx, order.uid, "done"))];
  const evidence = sent.map(describe);

  ctx.crashesOnValid = sent.some((s) => s.answer !== null && s.answer >= 500);
  const refused = sent.find((s) => s.answer !== null && (s.answer < 200 || s.answer >= 300) && s.answer < 500);
  const verdict = verdictOf(ctx, sent, "accepted", true);
  ctx.acceptsValid = verdict.kind === "ok" ? true : refused ? false : null;
  if (verdict.kind !== "ok") {
    if (refused && verdict.kind === "fail" && verdict.hint === null) {
      if (!ctx.merchant.canCheckout) {
        return [c.notJudged(`${NO_CHECKOUT}; it refused a correctly signed IPN for it: ${describe(refused)}`, "Give --checkout-url so the kit can use an order your server created.")];
      }
      return [c.fail([...evidence, verdict.line, ...signingEvidence(refused)])];
    }
    return [c.answers(verdict, evidence)!];
  }
  ctx.doneOrder = await ctx.client.order(order.uid);
  if (start === null || beforeDone === null) return [c.pass([...evidence, `state: not judged (${NO_STATE})`])];

  if ("error" in beforeDone) return [c.fail([...evidence, `state: ${beforeDone.error}`], STATE_URL_HINT)];
  const paid = await state();
  const followed = judgeStateChange(start, paid, { kind: "changed" }, "done");
  if (followed.kind === "broken") return [c.fail([...evidence, ...followed.lines], APPLY)];
  if (followed.kind === "unreadable" || "error" in paid) return [c.state(followed, evidence)];
  const document = paid.document;
  // What done itself changed (not the statuses before it) is what a paid order has and an unpaid one must not.
  const doneChanged = changedKeys(beforeDone.document, document);
  if (doneChanged.length > 0) ctx.learned = { paidDocument: document, doneChanged };
  const learned =
    doneChanged.length > 0
      ? `learned: done changes ${describeChanges(doneChanged)}; a paid order looks like ${show(document)}`
      : "learned nothing: done changed nothing inProgressPayout had not already changed, so finality, ordering, callback and reconcile cannot tell paid from unpaid";
  return [c.pass([...evidence, ...followed.lines, learned])];
}

const FORGERIES: [keyof typeof SIGNATURE, OrderStatus, FaultSpec][] = [
  ["wrong-secret", "done", "wrongSecret"],
  ["altered-hash", "done", "tamperHash"],
  ["altered-amount", "done", { type: "tamperField", field: "outAmount" }],
  ["altered-status", "inProgress", { type: "tamperField", field: "newStatus" }],
  ["altered-order-id", "done", { type: "tamperField", field: "orderId" }],
  ["missing-hash", "done", "missingHash"],
];

/** Sends each forgery on one order; each must get a 4xx (not a 5xx) and leave the merchant's state as it was. */
async function runRejections(ctx: Context): Promise<CheckResult[]> {
  const order = await freshOrder(ctx);
  const out: CheckResult[] = [];
  const judge = async (name: keyof typeof SIGNATURE, send: () => Promise<Sent[]>) => {
    const c = begin(SIGNATURE[name]);
    if (ctx.acceptsValid === false) {
      return out.push(c.notJudged("your server refuses even correctly signed IPNs (see signature/valid), so a refusal here says nothing about the hash"));
    }
    const before = ctx.merchant.canReadState ? await ctx.merchant.state(order) : null;
    const sent = await send();
    const evidence = sent.map(describe);
    const wrong = c.answers(verdictOf(ctx, sent, "refused"), evidence);
    if (wrong) return out.push(wrong);
    if (before === null) return out.push(c.pass([...evidence, `state: not judged (${NO_STATE})`]));
    return out.push(c.state(judgeStateChange(before, await ctx.merchant.state(order), { kind: "unchanged" }, "the refused IPN"), evidence));
  };

  for (const [name, status, fault] of FORGERIES) await judge(name, () => fire(ctx, order, status, fault));
  await judge("other-order-hash", async () => {
    // Another order's genuine hash on this order's fields: a merchant that only checks "some valid hash" lets it in.
    const other = ctx.doneOrder;
    const fields = ipnFieldsFor({ ...order, status: "done" }, Date.now());
    const otherFields = other ? ipnFieldsFor({ ...other, status: "done" }, Number(fields.timestamp)) : { ...fields, orderId: "0".repeat(24) };
    const body = encodeIpnBody(fields, ctx.options.ipnHashField, signIpn(otherFields, ctx.options.ipnSecret).hash);
    return [await probe(ctx, "done", `the hash of order ${otherFields.orderId}'s done IPN`, body)];
  });
  return out;
}

export const signature: ContractModule = { group: "signature", checks: Object.values(SIGNATURE), run: runRejections };
