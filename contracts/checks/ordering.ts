// The ordering contract: after done, an IPN signed earlier and arriving late changes nothing in the merchant's state.

import { ANSWER_HINTS, describe } from "../answers.js";
import { begin, defineChecks, freshOrder, move, moveAll, NO_PAID, NO_STATE, resend, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { judgeStateChange } from "../state.js";

export const ORDERING = defineChecks("ordering", {
  "late-in-progress": {
    title: "after done, a late inProgress changes nothing in the merchant's state",
    required: true,
    hint: "Never move an order back: once done (or another final status) is applied, ignore later IPNs with an earlier status or an older timestamp.",
  },
});

async function run(ctx: Context): Promise<CheckResult[]> {
  const c = begin(ORDERING["late-in-progress"]);
  if (!ctx.merchant.canReadState) return [c.notJudged(NO_STATE)];
  if (!ctx.learned) return [c.notJudged(NO_PAID)];
  const order = await freshOrder(ctx);
  await moveAll(ctx, order.uid, ["waitPayment"]);
  // inProgress is signed now but not sent; after done is applied, its very body arrives, with its earlier timestamp.
  const [held] = await move(ctx, order.uid, "inProgress", "drop");
  const done = await move(ctx, order.uid, "done");
  const doneEvidence = [describe(held!), ...done.map(describe)];
  const applied = verdictOf(ctx, done, "accepted");
  if (applied.kind === "fail" && applied.hint === null) return [c.notJudged([`not judged: your server refused done (${applied.line})`, ...doneEvidence])];
  const wrongDone = c.answers(applied, doneEvidence);
  if (wrongDone) return [wrongDone];
  const paid = await ctx.merchant.state(order);
  const late = await resend(ctx, held!.id);
  const evidence = [...doneEvidence, ...late.map((s) => `${describe(s)} (the inProgress signed before done, arriving after it)`)];
  // Only an answered IPN is judged: without an answer the merchant may not have finished with it.
  if (late.some((s) => s.outcome === "timeout")) {
    return [c.notJudged([`not judged: no answer to the late inProgress within the timeout (${ctx.options.ipnTimeoutMs} ms)`, ...evidence], ANSWER_HINTS.timeout)];
  }
  const wrong = c.answers(verdictOf(ctx, late, "answered"), evidence);
  if (wrong) return [wrong];
  return [c.state(judgeStateChange(paid, await ctx.merchant.state(order), { kind: "unchanged" }, "the late inProgress"), evidence)];
}

export const ordering: ContractModule = { group: "ordering", checks: Object.values(ORDERING), run };
