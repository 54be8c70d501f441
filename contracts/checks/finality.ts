// The finality contract: returned, deleted and errorPayment never give an order what done gives it.

import type { OrderStatus } from "../../sandbox/index.js";
import { describe } from "../answers.js";
import { begin, defineChecks, freshOrder, move, moveAll, NO_PAID, NO_STATE, verdictOf, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { judgeStateChange } from "../state.js";

const UNPAID = "Only `done` means paid. returned, deleted and errorPayment end (or stall) the order without payment: never set what done sets (a paid flag, a credit, a balance).";

export const FINALITY = defineChecks("finality", {
  returned: { title: "returned is not treated as paid: the state gains nothing done gives", required: true, hint: UNPAID },
  deleted: { title: "deleted is not treated as paid: the state gains nothing done gives", required: true, hint: UNPAID },
  errorPayment: { title: "errorPayment is not treated as paid: the state gains nothing done gives", required: true, hint: UNPAID },
});

const PATHS: [keyof typeof FINALITY, OrderStatus[]][] = [
  ["returned", ["waitPayment", "inProgress"]],
  ["deleted", ["waitPayment"]],
  ["errorPayment", ["waitPayment"]],
];

async function run(ctx: Context): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const [status, path] of PATHS) {
    const c = begin(FINALITY[status]);
    if (!ctx.merchant.canReadState) {
      out.push(c.notJudged(NO_STATE));
      continue;
    }
    if (!ctx.learned) {
      out.push(c.notJudged(NO_PAID));
      continue;
    }
    const order = await freshOrder(ctx);
    const early = await moveAll(ctx, order.uid, path);
    const before = await ctx.merchant.state(order);
    const last = await move(ctx, order.uid, status);
    const evidence = [...early, ...last].map(describe);
    const wrong = c.answers(verdictOf(ctx, last, "answered"), evidence);
    if (wrong) {
      out.push(wrong);
      continue;
    }
    const after = await ctx.merchant.state(order);
    out.push(c.state(judgeStateChange(before, after, { kind: "notPaid", done: ctx.learned.doneChanged }, status), evidence));
  }
  return out;
}

export const finality: ContractModule = { group: "finality", checks: Object.values(FINALITY), run };
