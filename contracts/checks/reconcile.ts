// The reconcile contract (advisory unless --require-reconcile): with the done IPN lost, the merchant asks order/get.

import { describe } from "../answers.js";
import { begin, defineChecks, freshOrder, move, moveAll, NO_CHECKOUT, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { describeChanges, gainedFromDone, type StateRead } from "../state.js";

export const RECONCILE = defineChecks("reconcile", {
  "lost-done": {
    title: "with the done IPN lost, the merchant learns the status through order/get within --reconcile-timeout",
    required: false,
    requiredWith: "--require-reconcile",
    hint: "When an IPN does not come, ask: call order/get (orderUID, orderSecret) for unfinished orders, e.g. every minute, and apply the status it reports.",
  },
});

/** How often the kit looks at the merchant meanwhile (the merchant has no event stream to follow). */
const LOOK_EVERY_MS = 200;

async function run(ctx: Context): Promise<CheckResult[]> {
  const c = begin(RECONCILE["lost-done"], ctx.options.requireReconcile);
  if (!ctx.merchant.canCheckout) return [c.notJudged(NO_CHECKOUT)];
  const within = ctx.options.reconcileTimeoutMs;
  const order = await freshOrder(ctx);
  await moveAll(ctx, order.uid, ["waitPayment", "inProgress"]);
  const before = ctx.merchant.canReadState ? await ctx.merchant.state(order) : null;
  const readsBefore = (await ctx.client.order(order.uid)).reads;
  const dropped = await move(ctx, order.uid, "done", "drop");
  const evidence = dropped.map(describe);
  const done = ctx.learned?.doneChanged ?? null;
  const gained = (state: StateRead | null) =>
    state && before && !("error" in state) && !("error" in before) && done ? gainedFromDone(before.document, state.document, done) : [];
  const deadline = performance.now() + within;
  for (;;) {
    const reads = (await ctx.client.order(order.uid)).reads - readsBefore;
    const state = ctx.merchant.canReadState ? await ctx.merchant.state(order) : null;
    const learned = gained(state);
    // Without a state URL, or without knowing what paid looks like, the read itself is all the kit can see.
    if (reads > 0 && (state === null || done === null || learned.length > 0)) {
      return [c.pass([...evidence, `order/get called ${reads} time(s)${learned.length > 0 ? `; your state now has ${describeChanges(learned)}` : ""}`])];
    }
    if (performance.now() > deadline) {
      const shown = state === null ? "" : "error" in state ? state.error : JSON.stringify(state.document);
      return [c.fail([...evidence, reads > 0 ? `order/get was called, but your state did not gain what done gives: ${shown}` : `order/get was not called for order ${order.uid} within ${within} ms`])];
    }
    await new Promise((resolve) => setTimeout(resolve, LOOK_EVERY_MS));
  }
}

export const reconcile: ContractModule = { group: "reconcile", checks: Object.values(RECONCILE), run };
