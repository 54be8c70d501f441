// The idempotency contract: the same IPN twice leaves the merchant's state exactly as once.

import { describe } from "../answers.js";
import { begin, defineChecks, freshOrder, moveAll, NO_STATE, resend, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { judgeStateChange } from "../state.js";

export const IDEMPOTENCY = defineChecks("idempotency", {
  duplicate: {
    title: "the same IPN twice leaves the same state as once, and no 5xx",
    required: true,
    hint: "Make IPN handling idempotent: key it on orderId and newStatus, and credit an order once however often done arrives.",
  },
});

async function run(ctx: Context): Promise<CheckResult[]> {
  const c = begin(IDEMPOTENCY.duplicate);
  const order = await freshOrder(ctx);
  const done = (await moveAll(ctx, order.uid, ["waitPayment", "inProgress", "done"])).at(-1)!;
  const once = ctx.merchant.canReadState ? await ctx.merchant.state(order) : null;
  const again = await resend(ctx, done.id);
  const evidence = [describe(done), ...again.map((s) => `${describe(s)} (the identical body again)`)];
  const wrong = c.answers(verdictOf(ctx, [done, ...again], "answered"), evidence);
  if (wrong) return [wrong];
  if (done.answer! >= 300) {
    return [c.notJudged([`not judged: your server refused the done IPN (${done.answer}), so a second copy shows nothing (see signature/valid)`, ...evidence])];
  }
  if (once === null) return [c.pass([...evidence, `state: not judged (${NO_STATE})`])];
  return [c.state(judgeStateChange(once, await ctx.merchant.state(order), { kind: "unchanged" }, "the same done again"), evidence)];
}

export const idempotency: ContractModule = { group: "idempotency", checks: Object.values(IDEMPOTENCY), run };
