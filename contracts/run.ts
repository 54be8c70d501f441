// Runs the contracts against a merchant: sets up orders through its checkout, sends IPNs, and judges the answers.

import { createSandbox, DEFAULT_IPN_HASH_FIELD, DEFAULT_IPN_TIMEOUT_MS, DEFAULT_PORT, encodeIpnBody, exampleCreateParams, ipnFieldsFor, signIpn, type DeliveryRecord, type IpnFields, type Route, type Sandbox } from "../sandbox/index.js";
import { walkReturnInBrowser } from "./browser.js";
import { ask, sandboxClient, SetupError, type SandboxClient, type SandboxOrder } from "./clients.js";
import { merchant as createMerchant, stateDifferences, type Merchant, type MerchantState } from "./merchant.js";
import type { CheckResult, ContractGroup, Outcome, Report } from "./model.js";

export interface ContractOptions {
  ipnUrl: string;
  ipnSecret: string;
  /** Where the kit's own sandbox listens (default DEFAULT_PORT); ignored with `sandboxUrl`. */
  sandboxPort?: number;
  /** A sandbox that is already running. */
  sandboxUrl?: string;
  /** That sandbox's --admin-token, if it has one. */
  adminToken?: string;
  checkoutUrl?: string;
  checkoutBody?: unknown;
  stateUrl?: string;
  stateField?: string;
  callbackUrl?: string;
  /** The sandbox's IPN timeout, which the merchant's answers must beat (default DEFAULT_IPN_TIMEOUT_MS). */
  ipnTimeoutMs?: number;
  ipnHashField?: string;
  /** Make the lost-IPN contract required. */
  requireReconcile?: boolean;
  /** How long the merchant has to find a lost IPN's status through order/get (default 15 s). */
  reconcileTimeoutMs?: number;
  /** Chromium for the return-page walk; null skips it (not judged). Default: CHROMIUM_PATH or /usr/bin/chromium. */
  chromiumPath?: string | null;
  /** Only these groups (default all). */
  only?: readonly ContractGroup[];
  /** Called as each check is judged. */
  onCheck?: (check: CheckResult) => void;
}

interface Context {
  sandbox: SandboxClient;
  merchant: Merchant;
  options: Required<Pick<ContractOptions, "ipnUrl" | "ipnSecret" | "ipnTimeoutMs" | "ipnHashField" | "reconcileTimeoutMs">> & ContractOptions;
  /** The merchant's status value for a paid order, learned from the valid done IPN. */
  paidStatus: string | null;
  /** A done order the merchant accepted, for later checks. */
  doneOrder: SandboxOrder | null;
  /** Whether the merchant accepted a correctly signed IPN (null: not known). */
  acceptsValid: boolean | null;
  records: DeliveryRecord[];
}

const HINTS = {
  valid:
    "Build the string exactly as shown: orderId:newStatus:inAmount:outAmount:xml_from:xml_to:timestamp:ipnSecret, from the fields as received (strings, unchanged), sha256 it, lower-case hex, and compare with the hash field. `exchanger-sandbox sign` prints the string and hash for any fields.",
  reject:
    "Recompute the hash from the received fields and your ipnSecret and answer 4xx (changing nothing) when it differs or is missing; compare in constant time (crypto.timingSafeEqual, hmac.compare_digest, hash_equals).",
  malformed: "Parse the body defensively: a body you cannot decode gets a 400, never a crash or a hang.",
  idempotent: "Make IPN handling idempotent: key it on orderId and newStatus, and credit an order once however often done arrives.",
  ordering: "Never move an order back: once done (or another final status) is applied, ignore later IPNs with an earlier status.",
  finality: "Only `done` means paid. returned, deleted and errorPayment end the order without payment.",
  timely: "Answer the IPN quickly (store it and process it in the background if needed): the exchanger sends it once and gives up after its timeout.",
  reconcile: "When an IPN does not come, ask: call order/get (orderUID, orderSecret) for unfinished orders, e.g. every minute, and apply the status it reports.",
  callback: "The return URL is in the buyer's hands: show a page, never trust its status parameter; learn the status from the IPN or order/get.",
  replay: "Refuse (or ignore) IPNs whose timestamp is far older than the newest you have seen for that order.",
};

export async function runContracts(options: ContractOptions): Promise<Report> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const ipnTimeoutMs = options.ipnTimeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  let own: Sandbox | null = null;
  let base = options.sandboxUrl;
  if (!base) {
    own = createSandbox({ ipnTimeoutMs, ...(options.ipnHashField ? { ipnHashField: options.ipnHashField } : {}) });
    base = (await own.listen(options.sandboxPort ?? DEFAULT_PORT)).url;
  }
  const sandbox = sandboxClient(base, options.adminToken);
  const checks: CheckResult[] = [];
  try {
    await sandbox.health();
    const ctx: Context = {
      sandbox,
      merchant: createMerchant(
        {
          ipnUrl: options.ipnUrl,
          ipnSecret: options.ipnSecret,
          checkoutUrl: options.checkoutUrl ?? null,
          checkoutBody: options.checkoutBody ?? {},
          stateUrl: options.stateUrl ?? null,
          stateField: options.stateField ?? "status",
          callbackUrl: options.callbackUrl ?? null,
          timeoutMs: ipnTimeoutMs,
        },
        sandbox,
      ),
      options: { ...options, ipnTimeoutMs, ipnHashField: options.ipnHashField ?? DEFAULT_IPN_HASH_FIELD, reconcileTimeoutMs: options.reconcileTimeoutMs ?? 15_000 },
      paidStatus: null,
      doneOrder: null,
      acceptsValid: null,
      records: [],
    };
    const wanted = (group: ContractGroup) => !options.only || options.only.includes(group);
    const record = (check: CheckResult) => {
      checks.push(check);
      options.onCheck?.(check);
    };
    // The valid path runs first even when not asked for: every other judgment builds on it.
    for (const check of await signatureValid(ctx)) if (wanted("signature")) record(check);
    const groups: [ContractGroup, (ctx: Context) => Promise<CheckResult[]>][] = [
      ["signature", signatureRejections],
      ["encoding", encoding],
      ["idempotency", idempotency],
      ["ordering", ordering],
      ["finality", finality],
      ["callback", callback],
      ["replay", replay],
      ["reconcile", reconcile],
      ["timeliness", timeliness],
    ];
    for (const [group, run] of groups) {
      if (!wanted(group)) continue;
      try {
        for (const check of await run(ctx)) record(check);
      } catch (error) {
        // A checkout that fails half-way, or a sandbox that stops answering: the group could not be played.
        if (!(error instanceof SetupError)) throw error;
        record(check(group, "setup", `the ${group} contract could be set up`, true).fail([error.message], "Fix the setup problem above, then run again."));
      }
    }
  } finally {
    await own?.close();
  }
  return {
    passed: checks.every((c) => c.outcome !== "failed" || !c.required),
    checks,
    setup: {
      sandboxUrl: base,
      ipnUrl: options.ipnUrl,
      checkoutUrl: options.checkoutUrl ?? null,
      stateUrl: options.stateUrl ?? null,
      callbackUrl: options.callbackUrl ?? null,
      ipnTimeoutMs,
    },
    startedAt,
    durationMs: Math.round(performance.now() - started),
  };
}

// ---- helpers ---------------------------------------------------------------------------------------------------

function check(group: ContractGroup, name: string, title: string, required: boolean) {
  const started = performance.now();
  const make = (outcome: Outcome, evidence: string[], hint: string | null): CheckResult => ({
    id: `${group}/${name}`,
    group,
    title,
    required,
    outcome,
    evidence,
    hint,
    durationMs: Math.round(performance.now() - started),
  });
  return {
    pass: (evidence: string[] = []) => make("passed", evidence, null),
    fail: (evidence: string[], hint: string) => make("failed", evidence, hint),
    notJudged: (why: string, hint: string | null = null) => make("notJudged", [why], hint),
  };
}

/** One line about a delivery: what was sent and how the merchant answered. */
function describe(record: DeliveryRecord): string {
  const fault = record.fault === "deliver" ? "" : ` [${record.fault}${record.faultDetail ? `: ${record.faultDetail}` : ""}]`;
  const answer = record.response
    ? `answered ${record.response.status}${record.response.bodyExcerpt ? ` ${JSON.stringify(record.response.bodyExcerpt.slice(0, 80))}` : ""}`
    : record.outcome === "timeout"
      ? "did not answer in time"
      : `${record.outcome}${record.error ? ` (${record.error})` : ""}`;
  return `${record.id} newStatus=${record.status}${fault} → ${answer}${record.latencyMs !== null ? ` in ${record.latencyMs} ms` : ""}`;
}

/** The exact string the sandbox hashed and the fields as sent, for a developer to put beside their own. */
function signingEvidence(record: DeliveryRecord): string[] {
  return [`the sandbox hashed: ${record.hashedString ?? "(no hash sent)"}`, `its hash: ${record.hash ?? "(none)"}`, `body sent: ${record.body}`];
}

const is2xx = (r: DeliveryRecord) => r.response !== null && r.response.status >= 200 && r.response.status < 300;
const is5xx = (r: DeliveryRecord) => r.response !== null && r.response.status >= 500;

async function settleState(ctx: Context, order: SandboxOrder): Promise<MerchantState | { error: string }> {
  return ctx.merchant.state(order);
}

function stateError(state: MerchantState | { error: string }): string | null {
  return "error" in state ? state.error : null;
}

/** An order to play a check on: through the merchant's checkout when given, else the kit's own. */
async function freshOrder(ctx: Context): Promise<SandboxOrder> {
  if (ctx.merchant.canCheckout) return ctx.merchant.checkout();
  const routes = await ctx.sandbox.routes();
  const route = (routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ") ?? routes[0]) as Route;
  return ctx.sandbox.createOrder(
    exampleCreateParams(route, {
      ipnUrl: ctx.options.ipnUrl,
      ipnSecret: ctx.options.ipnSecret,
      ...(ctx.options.callbackUrl ? { clientCallbackUrl: ctx.options.callbackUrl } : {}),
    }),
  );
}

async function moveAll(ctx: Context, order: SandboxOrder, statuses: string[]): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  for (const status of statuses) out.push(...(await ctx.sandbox.move(order.uid, status, undefined, ctx.options.ipnTimeoutMs + 5000)));
  ctx.records.push(...out);
  return out;
}

async function fire(ctx: Context, order: SandboxOrder, status: string, fault: unknown): Promise<DeliveryRecord[]> {
  const records = await ctx.sandbox.fire(order.uid, ctx.options.ipnUrl, ctx.options.ipnSecret, status, fault as never, ctx.options.ipnTimeoutMs + 5000);
  ctx.records.push(...records);
  return records;
}

const NO_CHECKOUT = "needs --checkout-url: without it the order is the kit's own, which your server does not know";
const NO_STATE = "needs --state-url (and --checkout-url) to see your server's view of the order";

// ---- contracts ---------------------------------------------------------------------------------------------------

async function signatureValid(ctx: Context): Promise<CheckResult[]> {
  const c = check("signature", "valid", "a correctly signed IPN is accepted, and the merchant's state follows", true);
  let order: SandboxOrder;
  try {
    order = await freshOrder(ctx);
  } catch (error) {
    return [c.fail([(error as Error).message], "Make the checkout create an order on the sandbox with order/create, passing ipnUrl and ipnSecret.")];
  }
  const before = ctx.merchant.canReadState ? await settleState(ctx, order) : null;
  const records = await moveAll(ctx, order, ["waitPayment", "inProgress", "inProgressPayout", "done"]);
  const refused = records.find((r) => !is2xx(r));
  ctx.acceptsValid = !refused;
  const evidence = records.map(describe);
  if (refused) {
    if (!ctx.merchant.canCheckout) {
      return [c.notJudged(`${NO_CHECKOUT}; it refused a correctly signed IPN for it: ${describe(refused)}`, "Give --checkout-url so the kit can use an order your server created.")];
    }
    return [c.fail([...evidence, ...signingEvidence(refused)], HINTS.valid)];
  }
  ctx.doneOrder = await ctx.sandbox.order(order.uid);
  if (!ctx.merchant.canReadState || before === null) {
    return [c.pass([...evidence, `state: not judged (${NO_STATE})`])];
  }
  const after = await settleState(ctx, order);
  const problem = stateError(before) ?? stateError(after);
  if (problem) return [c.fail([...evidence, `state: ${problem}`], "Make --state-url answer 200 with the order as JSON.")];
  const [b, a] = [before as MerchantState, after as MerchantState];
  if (stateDifferences(b.document, a.document).length === 0) {
    return [c.fail([...evidence, `state before: ${JSON.stringify(b.document)}`, `state after done: ${JSON.stringify(a.document)} (unchanged)`], "Apply the IPN's newStatus to the order after the hash checks out.")];
  }
  ctx.paidStatus = a.status;
  return [c.pass([...evidence, `state after done: ${JSON.stringify(a.document)}`])];
}

async function signatureRejections(ctx: Context): Promise<CheckResult[]> {
  const cases: [string, string, string, unknown][] = [
    ["wrong-secret", "an IPN signed with another secret is refused", "done", "wrongSecret"],
    ["altered-hash", "an IPN whose hash was altered is refused", "done", "tamperHash"],
    ["altered-amount", "an IPN whose outAmount was changed after signing is refused", "done", { type: "tamperField", field: "outAmount" }],
    ["altered-status", "an IPN whose newStatus was changed after signing is refused", "inProgress", { type: "tamperField", field: "newStatus" }],
    ["altered-order-id", "an IPN whose orderId was changed after signing is refused", "done", { type: "tamperField", field: "orderId" }],
    ["missing-hash", "an IPN without its hash is refused", "done", "missingHash"],
  ];
  let order: SandboxOrder;
  try {
    order = await freshOrder(ctx);
  } catch (error) {
    return [check("signature", "rejections", "tampered IPNs are refused", true).fail([(error as Error).message], "Make the checkout create an order on the sandbox.")];
  }
  const meaningless = ctx.acceptsValid === false && !ctx.merchant.canCheckout;
  const out: CheckResult[] = [];
  const judge = async (name: string, title: string, send: () => Promise<{ records: DeliveryRecord[]; evidence: string[] }>) => {
    const c = check("signature", name, title, true);
    if (meaningless) {
      out.push(c.notJudged(`${NO_CHECKOUT}, and your server refuses even correctly signed IPNs for it, so a refusal here says nothing about the hash`));
      return;
    }
    const before = ctx.merchant.canReadState ? await settleState(ctx, order) : null;
    const { records, evidence } = await send();
    const accepted = records.filter(is2xx);
    if (accepted.length > 0) {
      out.push(c.fail([...evidence, "expected a refusal (4xx), got 2xx"], HINTS.reject));
      return;
    }
    if (records.some((r) => r.response === null)) {
      out.push(c.fail([...evidence, "expected a refusal (4xx), got no answer"], HINTS.reject));
      return;
    }
    if (before === null) {
      out.push(c.pass([...evidence, `state: not judged (${NO_STATE})`]));
      return;
    }
    const after = await settleState(ctx, order);
    const problem = stateError(before) ?? stateError(after);
    if (problem) {
      out.push(c.fail([...evidence, `state: ${problem}`], "Make --state-url answer 200 with the order as JSON."));
      return;
    }
    const changed = stateDifferences((before as MerchantState).document, (after as MerchantState).document);
    if (changed.length > 0) {
      out.push(c.fail([...evidence, `the refused IPN still changed your state: ${changed.join(", ")}`, `before: ${JSON.stringify((before as MerchantState).document)}`, `after: ${JSON.stringify((after as MerchantState).document)}`], HINTS.reject));
      return;
    }
    out.push(c.pass([...evidence, "state unchanged"]));
  };

  for (const [name, title, status, fault] of cases) {
    await judge(name, title, async () => {
      const records = await fire(ctx, order, status, fault);
      return { records, evidence: records.map(describe) };
    });
  }
  await judge("other-order-hash", "an IPN carrying the hash of another order's IPN is refused", async () => {
    // Another order's genuine hash on this order's fields: a merchant that only checks "some valid hash" lets it in.
    const other = ctx.doneOrder;
    const fields = ipnFields(order, "done", Date.now());
    const hash = signIpn(other ? ipnFields(other, "done", Date.now()) : { ...fields, orderId: "0".repeat(24) }, ctx.options.ipnSecret).hash;
    const body = encodeIpnBody(fields, ctx.options.ipnHashField, hash);
    const answer = await ask(ctx.options.ipnUrl, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" }, timeoutMs: ctx.options.ipnTimeoutMs });
    const record = {
      id: "direct",
      status: "done",
      fault: "deliver",
      faultDetail: `hash of order ${other?._id ?? "another order"}'s done IPN`,
      response: answer.status === null ? null : { status: answer.status, bodyExcerpt: answer.body },
      outcome: answer.status === null ? "error" : answer.status < 300 ? "accepted" : "rejected",
      error: answer.error,
      latencyMs: answer.latencyMs,
    } as unknown as DeliveryRecord;
    return { records: [record], evidence: [describe(record)] };
  });
  return out;
}

function ipnFields(order: SandboxOrder, status: string, timestamp: number): IpnFields {
  return ipnFieldsFor({ ...order, status }, timestamp);
}

async function encoding(ctx: Context): Promise<CheckResult[]> {
  const c = check("encoding", "malformed-body", "a body that is not valid form encoding gets a 4xx, not a 5xx or a hang", true);
  const order = await freshOrder(ctx);
  const [record] = await fire(ctx, order, "done", "malformedBody");
  const evidence = [describe(record!), `body sent: ${record!.body}`];
  if (record!.response && record!.response.status >= 400 && record!.response.status < 500) return [c.pass(evidence)];
  return [c.fail(evidence, HINTS.malformed)];
}

async function idempotency(ctx: Context): Promise<CheckResult[]> {
  const c = check("idempotency", "duplicate", "the same IPN twice leaves the same state as once, and no 5xx", true);
  const order = await freshOrder(ctx);
  const first = await moveAll(ctx, order, ["waitPayment", "inProgress", "done"]);
  const done = first.at(-1)!;
  const once = ctx.merchant.canReadState ? await settleState(ctx, order) : null;
  const again = await ctx.sandbox.resend(done.id, ctx.options.ipnTimeoutMs + 5000);
  ctx.records.push(...again);
  const evidence = [describe(done), `${describe(again[0]!)} (the identical body again)`];
  if ([done, ...again].some((r) => is5xx(r) || r.response === null)) return [c.fail([...evidence, "expected no 5xx and an answer to both"], HINTS.idempotent)];
  if (once === null) return [c.pass([...evidence, `state: not judged (${NO_STATE})`])];
  const twice = await settleState(ctx, order);
  const problem = stateError(once) ?? stateError(twice);
  if (problem) return [c.fail([...evidence, `state: ${problem}`], "Make --state-url answer 200 with the order as JSON.")];
  const changed = stateDifferences((once as MerchantState).document, (twice as MerchantState).document);
  if (changed.length > 0) {
    return [c.fail([...evidence, `after one done: ${JSON.stringify((once as MerchantState).document)}`, `after the same done again: ${JSON.stringify((twice as MerchantState).document)} (${changed.join(", ")} changed)`], HINTS.idempotent)];
  }
  return [c.pass([...evidence, "state after the second copy equals the state after the first"])];
}

async function ordering(ctx: Context): Promise<CheckResult[]> {
  const c = check("ordering", "late-in-progress", "after done, a late inProgress does not move the merchant's state back", true);
  if (!ctx.merchant.canReadState) return [c.notJudged(NO_STATE)];
  if (ctx.paidStatus === null) return [c.notJudged("builds on signature/valid, which did not show what a paid order looks like")];
  const order = await freshOrder(ctx);
  await moveAll(ctx, order, ["waitPayment"]);
  // inProgress is held back and sent right after done: it arrives late, with its earlier timestamp.
  const held = await ctx.sandbox.move(order.uid, "inProgress", "reorder", 1000);
  const done = await ctx.sandbox.move(order.uid, "done", undefined, ctx.options.ipnTimeoutMs + 5000);
  const late = await ctx.sandbox.settle(held.map((r) => r.id), ctx.options.ipnTimeoutMs + 5000);
  ctx.records.push(...done, ...late);
  const evidence = [...done.map(describe), ...late.map((r) => `${describe(r)} (arrived after done)`)];
  const state = await settleState(ctx, order);
  if ("error" in state) return [c.fail([...evidence, `state: ${state.error}`], "Make --state-url answer 200 with the order as JSON.")];
  if ([...done, ...late].some(is5xx)) return [c.fail([...evidence, "a 5xx answer"], HINTS.ordering)];
  if (state.status !== ctx.paidStatus) {
    return [c.fail([...evidence, `your status is ${JSON.stringify(state.status)}; after done it was ${JSON.stringify(ctx.paidStatus)}`], HINTS.ordering)];
  }
  return [c.pass([...evidence, `status stayed ${JSON.stringify(state.status)}`])];
}

async function finality(ctx: Context): Promise<CheckResult[]> {
  const paths: [string, string[]][] = [
    ["returned", ["waitPayment", "inProgress", "returned"]],
    ["deleted", ["waitPayment", "deleted"]],
    ["errorPayment", ["waitPayment", "errorPayment"]],
  ];
  const out: CheckResult[] = [];
  for (const [status, path] of paths) {
    const c = check("finality", status, `${status} is not treated as paid`, true);
    if (!ctx.merchant.canReadState) {
      out.push(c.notJudged(NO_STATE));
      continue;
    }
    if (ctx.paidStatus === null) {
      out.push(c.notJudged("builds on signature/valid, which did not show what a paid order looks like"));
      continue;
    }
    const order = await freshOrder(ctx);
    const records = await moveAll(ctx, order, path);
    const state = await settleState(ctx, order);
    const evidence = records.map(describe);
    if ("error" in state) out.push(c.fail([...evidence, `state: ${state.error}`], "Make --state-url answer 200 with the order as JSON."));
    else if (state.status === ctx.paidStatus) out.push(c.fail([...evidence, `your status is ${JSON.stringify(state.status)}, the same as a paid order's`], HINTS.finality));
    else out.push(c.pass([...evidence, `your status is ${JSON.stringify(state.status)}, not ${JSON.stringify(ctx.paidStatus)}`]));
  }
  return out;
}

async function timeliness(ctx: Context): Promise<CheckResult[]> {
  const all = check("timeliness", "every-answer", "every IPN of this run was answered within the IPN timeout", true);
  const sent = ctx.records.filter((r) => r.outcome !== "dropped" && r.id !== "direct");
  const late = sent.filter((r) => r.outcome === "timeout");
  const results = [
    late.length === 0
      ? all.pass([`${sent.length} IPNs answered, the slowest in ${Math.max(0, ...sent.map((r) => r.latencyMs ?? 0))} ms (timeout ${ctx.options.ipnTimeoutMs} ms)`])
      : all.fail(late.map(describe), HINTS.timely),
  ];
  const burst = check("timeliness", "burst", "a burst of 20 concurrent IPNs is answered within the IPN timeout", true);
  const order = ctx.doneOrder ?? (await freshOrder(ctx));
  const records = (await Promise.all(Array.from({ length: 20 }, () => fire(ctx, order, order.status === "done" ? "done" : "waitPayment", "deliver")))).flat();
  const slow = records.filter((r) => r.outcome === "timeout" || r.response === null || is5xx(r));
  const slowest = Math.max(0, ...records.map((r) => r.latencyMs ?? 0));
  results.push(slow.length === 0 ? burst.pass([`20 answered, the slowest in ${slowest} ms`]) : burst.fail([`${slow.length} of 20 failed or timed out:`, ...slow.slice(0, 5).map(describe)], HINTS.timely));
  return results;
}

async function reconcile(ctx: Context): Promise<CheckResult[]> {
  const required = ctx.options.requireReconcile ?? false;
  const within = ctx.options.reconcileTimeoutMs;
  const c = check("reconcile", "lost-done", "with the done IPN lost, the merchant learns the status through order/get within --reconcile-timeout", required);
  if (!ctx.merchant.canCheckout) return [c.notJudged(NO_CHECKOUT)];
  const order = await freshOrder(ctx);
  await moveAll(ctx, order, ["waitPayment", "inProgress"]);
  const readsBefore = (await ctx.sandbox.order(order.uid)).reads;
  const dropped = await ctx.sandbox.move(order.uid, "done", "drop", 1000);
  const evidence = [describe(dropped[0]!)];
  const deadline = Date.now() + within;
  for (;;) {
    const reads = (await ctx.sandbox.order(order.uid)).reads;
    const state = ctx.merchant.canReadState ? await settleState(ctx, order) : null;
    const learned = state !== null && !("error" in state) && ctx.paidStatus !== null && state.status === ctx.paidStatus;
    if (reads > readsBefore && (state === null || ctx.paidStatus === null || learned)) {
      return [c.pass([...evidence, `order/get called ${reads - readsBefore} time(s)${learned ? `; your status is ${JSON.stringify(ctx.paidStatus)}` : ""}`])];
    }
    if (Date.now() > deadline) {
      return [c.fail([...evidence, reads > readsBefore ? `order/get was called, but your status stayed ${JSON.stringify(state && !("error" in state) ? state.status : null)}` : `order/get was not called for order ${order.uid} within ${within} ms`], HINTS.reconcile)];
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function callback(ctx: Context): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const base = ctx.options.callbackUrl ?? ctx.doneOrder?.clientCallbackUrl ?? null;
  const answers = check("callback", "answers", "the return page answers status=success, status=error and junk without a 5xx", true);
  if (!base) {
    out.push(answers.notJudged("needs --callback-url, or a clientCallbackUrl on the orders your checkout creates"));
  } else {
    const values = ["success", "error", "", "SUCCESS", "<script>alert(1)</script>", "x".repeat(2000), "done", "%"];
    const results = await Promise.all(values.map((v) => ctx.merchant.returnPage(base, v)));
    const bad = results.filter((r) => r.status === null || r.status >= 500);
    const evidence = results.map((r) => `GET ${r.url.length > 120 ? r.url.slice(0, 117) + "…" : r.url} → ${r.status ?? r.error}`);
    out.push(bad.length === 0 ? answers.pass(evidence) : answers.fail(evidence, "Render the return page for any status value; it is only a courtesy page."));
  }

  const unpaid = check("callback", "success-does-not-pay", "status=success on an unpaid order does not make it paid", true);
  if (!ctx.merchant.canReadState) {
    out.push(unpaid.notJudged(NO_STATE));
  } else if (ctx.paidStatus === null) {
    out.push(unpaid.notJudged("builds on signature/valid, which did not show what a paid order looks like"));
  } else {
    const order = await freshOrder(ctx);
    const url = ctx.options.callbackUrl ?? order.clientCallbackUrl;
    if (!url) {
      out.push(unpaid.notJudged("needs --callback-url, or a clientCallbackUrl on the orders your checkout creates"));
    } else {
      const before = await settleState(ctx, order);
      const answer = await ctx.merchant.returnPage(url, "success");
      const after = await settleState(ctx, order);
      const evidence = [`GET ${answer.url} → ${answer.status ?? answer.error}`];
      if ("error" in after || "error" in before) out.push(unpaid.fail([...evidence, `state: ${stateError(after) ?? stateError(before)}`], "Make --state-url answer 200 with the order as JSON."));
      else if (after.status === ctx.paidStatus) out.push(unpaid.fail([...evidence, `your status became ${JSON.stringify(after.status)} with no payment`], HINTS.callback));
      else out.push(unpaid.pass([...evidence, `your status stayed ${JSON.stringify(after.status)}`]));
    }
  }

  const browser = check("callback", "browser", "in Chromium, the payment page's Return to site button lands on the merchant's page with no page error", true);
  const done = ctx.doneOrder;
  if (ctx.options.chromiumPath === null) out.push(browser.notJudged("the browser walk was turned off (--no-browser)"));
  else if (!done || !done.clientCallbackUrl) out.push(browser.notJudged("needs a done order with a clientCallbackUrl (give --checkout-url, and have your checkout pass clientCallbackUrl)"));
  else {
    const walk = await walkReturnInBrowser({
      paymentUrl: `${ctx.sandbox.base}/en/payment/${done.uid}/${done.secret}/`,
      chromiumPath: ctx.options.chromiumPath,
      timeoutMs: Math.max(10_000, ctx.options.ipnTimeoutMs),
    });
    if (walk.kind === "unavailable") out.push(browser.notJudged(walk.message, "Install Chromium (Debian: apt-get install -y chromium) or pass --chromium PATH."));
    else if (walk.kind === "failed") out.push(browser.fail(walk.evidence, "Make the return page load without errors for status=success."));
    else out.push(browser.pass(walk.evidence));
  }
  return out;
}

async function replay(ctx: Context): Promise<CheckResult[]> {
  const c = check("replay", "old-ipn", "an old, validly signed IPN replayed much later changes nothing", false);
  if (!ctx.merchant.canReadState) return [c.notJudged(NO_STATE)];
  const order = await freshOrder(ctx);
  const before = await settleState(ctx, order);
  const records = await fire(ctx, order, "done", { type: "staleTimestamp", ms: 86_400_000 });
  const after = await settleState(ctx, order);
  const evidence = records.map(describe);
  if ("error" in before || "error" in after) return [c.fail([...evidence, `state: ${stateError(before) ?? stateError(after)}`], "Make --state-url answer 200 with the order as JSON.")];
  const changed = stateDifferences(before.document, after.document);
  return changed.length === 0 ? [c.pass([...evidence, "state unchanged"])] : [c.fail([...evidence, `a day-old IPN changed ${changed.join(", ")}`], HINTS.replay)];
}

export { SetupError };
