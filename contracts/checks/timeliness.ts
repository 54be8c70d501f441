// The timeliness contract: every IPN is answered within the timeout, also twenty at once. It carries every "no answer".

import { ANSWER_HINTS, describe } from "../answers.js";
import { begin, defineChecks, fire, freshOrder, type Context, type ContractModule } from "../context.js";
import type { CheckResult } from "../model.js";

const QUICK = "Answer the IPN quickly (store it and process it in the background if needed): the exchanger sends it once and gives up after its timeout.";

export const TIMELINESS = defineChecks("timeliness", {
  "every-answer": { title: "every IPN of this run was answered within the IPN timeout", required: true, hint: QUICK },
  burst: { title: "a burst of 20 concurrent IPNs is answered within the IPN timeout", required: true, hint: QUICK },
});

const BURST = 20;

async function run(ctx: Context): Promise<CheckResult[]> {
  const all = begin(TIMELINESS["every-answer"]);
  const sent = ctx.sent.filter((s) => s.outcome !== "dropped");
  const late = sent.filter((s) => s.outcome === "timeout");
  const slowest = (list: typeof sent) => Math.max(0, ...list.map((s) => s.latencyMs ?? 0));
  const results = [
    late.length === 0
      ? all.pass([`${sent.length} IPNs answered, the slowest in ${slowest(sent)} ms (timeout ${ctx.options.ipnTimeoutMs} ms)`])
      : all.fail([`${late.length} of ${sent.length} IPNs got no answer within ${ctx.options.ipnTimeoutMs} ms:`, ...late.map(describe)]),
  ];

  const burst = begin(TIMELINESS.burst);
  const order = ctx.doneOrder ?? (await freshOrder(ctx));
  const records = (await Promise.all(Array.from({ length: BURST }, () => fire(ctx, order, order.status === "done" ? "done" : "waitPayment")))).flat();
  const unanswered = records.filter((s) => s.outcome !== "answered");
  const crashed = records.filter((s) => s.answer !== null && s.answer >= 500);
  const summary = `${BURST} sent, the slowest answered in ${slowest(records)} ms`;
  if (unanswered.length > 0 || (crashed.length > 0 && !ctx.crashesOnValid)) {
    const bad = [...unanswered, ...crashed];
    results.push(burst.fail([`${bad.length} of ${BURST} got no answer in time or a 5xx:`, ...bad.slice(0, 5).map(describe)], unanswered.length > 0 ? QUICK : ANSWER_HINTS.crash));
  } else if (crashed.length > 0) {
    results.push(burst.notJudged([`not judged: ${crashed.length} of ${BURST} got a 5xx, as correctly signed IPNs do`, summary], ANSWER_HINTS.sameCrash));
  } else {
    results.push(burst.pass([summary]));
  }
  return results;
}

export const timeliness: ContractModule = { group: "timeliness", checks: Object.values(TIMELINESS), run };
