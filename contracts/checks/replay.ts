// The replay contract (advisory): an old, validly signed IPN replayed much later changes nothing.

import { describe } from "../answers.js";
import { begin, defineChecks, fire, freshOrder, NO_PAID, NO_STATE, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { judgeStateChange } from "../state.js";

export const REPLAY = defineChecks("replay", {
  "old-ipn": {
    title: "an old, validly signed IPN replayed much later changes nothing",
    required: false,
    hint: "Refuse (or ignore) IPNs whose timestamp is far older than the newest you have seen for that order.",
  },
});

async function run(ctx: Context): Promise<CheckResult[]> {
  const c = begin(REPLAY["old-ipn"]);
  if (!ctx.merchant.canReadState) return [c.notJudged(NO_STATE)];
  if (!ctx.learned) return [c.notJudged(NO_PAID)];
  const order = await freshOrder(ctx);
  const before = await ctx.merchant.state(order);
  const sent = await fire(ctx, order, "done", { type: "staleTimestamp", ms: 86_400_000 });
  const evidence = sent.map(describe);
  const wrong = c.answers(verdictOf(ctx, sent, "answered"), evidence);
  if (wrong) return [wrong];
  return [c.state(judgeStateChange(before, await ctx.merchant.state(order), { kind: "unchanged" }, "a day-old IPN"), evidence)];
}

export const replay: ContractModule = { group: "replay", checks: Object.values(REPLAY), run };
