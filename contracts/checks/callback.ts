// The callback contract: the return page answers any status, never pays an order, and loads in a real browser.

import { walkReturnInBrowser } from "../browser.js";
import { begin, defineChecks, freshOrder, NO_PAID, NO_STATE, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";
import { judgeStateChange } from "../state.js";

export const CALLBACK = defineChecks("callback", {
  answers: {
    title: "the return page answers status=success, status=error and junk without a 5xx",
    required: true,
    hint: "Render the return page for any status value; it is only a courtesy page.",
  },
  "success-does-not-pay": {
    title: "status=success on an unpaid order does not make it paid",
    required: true,
    hint: "The return URL is in the buyer's hands: show a page, never trust its status parameter; learn the status from the IPN or order/get.",
  },
  browser: {
    title: "in Chromium, the payment page's Return to site button lands on the merchant's page with no page error",
    required: true,
    hint: "Make the return page load without errors for status=success.",
  },
});

const NO_CALLBACK = "needs --callback-url, or a clientCallbackUrl on the orders your checkout creates";
const JUNK = ["success", "error", "", "SUCCESS", "<script>alert(1)</script>", "x".repeat(2000), "done", "%"];

async function run(ctx: Context): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const base = ctx.options.callbackUrl ?? ctx.doneOrder?.clientCallbackUrl ?? null;
  const answers = begin(CALLBACK.answers);
  if (!base) {
    out.push(answers.notJudged(NO_CALLBACK));
  } else {
    const results = await Promise.all(JUNK.map((v) => ctx.merchant.returnPage(base, v)));
    const evidence = results.map((r) => `GET ${r.url.length > 120 ? r.url.slice(0, 117) + "…" : r.url} → ${r.status ?? r.error}`);
    out.push(results.some((r) => r.status === null || r.status >= 500) ? answers.fail(evidence) : answers.pass(evidence));
  }

  const unpaid = begin(CALLBACK["success-does-not-pay"]);
  if (!ctx.merchant.canReadState) out.push(unpaid.notJudged(NO_STATE));
  else if (!ctx.learned) out.push(unpaid.notJudged(NO_PAID));
  else {
    const order = await freshOrder(ctx);
    const url = ctx.options.callbackUrl ?? order.clientCallbackUrl;
    if (!url) out.push(unpaid.notJudged(NO_CALLBACK));
    else {
      const before = await ctx.merchant.state(order);
      const answer = await ctx.merchant.returnPage(url, "success");
      const after = await ctx.merchant.state(order);
      out.push(unpaid.state(judgeStateChange(before, after, { kind: "notPaid", done: ctx.learned.doneChanged }, "status=success"), [`GET ${answer.url} → ${answer.status ?? answer.error}`]));
    }
  }

  const browser = begin(CALLBACK.browser);
  const done = ctx.doneOrder;
  if (ctx.options.chromiumPath === null) out.push(browser.notJudged("the browser walk was turned off (--no-browser)"));
  else if (!done || !done.clientCallbackUrl) out.push(browser.notJudged("needs a done order with a clientCallbackUrl (give --checkout-url, and have your checkout pass clientCallbackUrl)"));
  else {
    const walk = await walkReturnInBrowser({
      paymentUrl: `${ctx.client.baseUrl}/en/payment/${done.uid}/${done.secret}/`,
      chromiumPath: ctx.options.chromiumPath,
      timeoutMs: Math.max(10_000, ctx.options.ipnTimeoutMs),
    });
    if (walk.kind === "unavailable") out.push(browser.notJudged(walk.message, walk.hint));
    else if (walk.kind === "failed") out.push(browser.fail(walk.evidence));
    else out.push(browser.pass(walk.evidence));
  }
  return out;
}

export const callback: ContractModule = { group: "callback", checks: Object.values(CALLBACK), run };
