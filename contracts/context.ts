// What every contract group works with: the run's context, a check's verdict builder, and the ways to send an IPN.

import { exampleCreateParams, type ControlClient, type ControlOrderDetail, type FaultSpec, type OrderStatus } from "../sandbox/index.js";
import { judgeAnswers, sentFromAnswer, sentFromRecord, type AnswerVerdict, type Expected, type Sent } from "./answers.js";
import { ask } from "./http.js";
import type { Merchant } from "./merchant.js";
import type { CheckResult, CheckSpec, ContractGroup, Learned, Outcome } from "./model.js";
import type { StateJudgement } from "./state.js";

export interface ResolvedOptions {
  ipnUrl: string;
  ipnSecret: string;
  ipnTimeoutMs: number;
  ipnHashField: string;
  callbackUrl: string | null;
  requireReconcile: boolean;
  reconcileTimeoutMs: number;
  /** null: the browser walk is off. */
  chromiumPath: string | null | undefined;
}

export interface Context {
  client: ControlClient;
  merchant: Merchant;
  options: ResolvedOptions;
  /** What a paid order's state looks like, learned from signature/valid; null until (or unless) it shows it. */
  learned: Learned | null;
  /** A done order the merchant accepted, for later checks. */
  doneOrder: ControlOrderDetail | null;
  /** Whether the merchant accepted correctly signed IPNs (null: not known). */
  acceptsValid: boolean | null;
  /** The merchant answered 5xx to a correctly signed IPN: later 5xx answers are that same cause. */
  crashesOnValid: boolean;
  /** Everything sent to the IPN URL this run, for timeliness. */
  sent: Sent[];
  /** Numbers the kit's own requests (k1, k2…). */
  probes: number;
}

/** A contract group: its checks as data, and how to play them. */
export interface ContractModule {
  group: ContractGroup;
  checks: readonly CheckSpec[];
  run(ctx: Context): Promise<CheckResult[]>;
}

/** Declares a group's checks as data, keyed by name. */
export function defineChecks<N extends string>(group: ContractGroup, checks: Record<N, Omit<CheckSpec, "id" | "group">>): Record<N, CheckSpec> {
  return Object.fromEntries(Object.entries<Omit<CheckSpec, "id" | "group">>(checks).map(([name, spec]) => [name, { id: `${group}/${name}`, group, ...spec }])) as Record<N, CheckSpec>;
}

export const STATE_URL_HINT = "Make --state-url answer 200 with the order as JSON.";
export const NO_CHECKOUT = "needs --checkout-url: without it the order is the kit's own, which your server does not know";
export const NO_STATE = "needs --state-url (and --checkout-url) to see your server's view of the order";
export const NO_PAID = "builds on signature/valid, which did not show what done changes in your state";

/** Starts judging one check; its result carries the time it took. */
export function begin(spec: CheckSpec, required = spec.required) {
  const started = performance.now();
  const make = (outcome: Outcome, evidence: string[], hint: string | null): CheckResult => ({
    id: spec.id,
    group: spec.group,
    title: spec.title,
    required,
    outcome,
    evidence,
    hint,
    durationMs: Math.round(performance.now() - started),
  });
  const judge = {
    pass: (evidence: string[] = []) => make("passed", evidence, null),
    fail: (evidence: string[], hint: string = spec.hint) => make("failed", evidence, hint),
    notJudged: (why: string | string[], hint: string | null = null) => make("notJudged", Array.isArray(why) ? why : [why], hint),
    /** The result for answers that are not what the check needs, or null when they are. */
    answers(verdict: AnswerVerdict, evidence: string[]): CheckResult | null {
      if (verdict.kind === "ok") return null;
      if (verdict.kind === "notJudged") return judge.notJudged([verdict.why, ...evidence], verdict.hint);
      return judge.fail([...evidence, verdict.line], verdict.hint ?? spec.hint);
    },
    /** The result of a state judgement (see judgeStateChange). */
    state(judgement: StateJudgement, evidence: string[]): CheckResult {
      if (judgement.kind === "unreadable") return judge.fail([...evidence, `state: ${judgement.error}`], STATE_URL_HINT);
      if (judgement.kind === "broken") return judge.fail([...evidence, ...judgement.lines]);
      return judge.pass([...evidence, ...judgement.lines]);
    },
  };
  return judge;
}

/** The answer rule (see judgeAnswers) with this run's facts. */
export function verdictOf(ctx: Context, sent: readonly Sent[], expected: Expected, validPath = false): AnswerVerdict {
  return judgeAnswers(sent, expected, { crashesOnValid: ctx.crashesOnValid, timeoutMs: ctx.options.ipnTimeoutMs, validPath });
}

/** How long the kit waits for a delivery the sandbox sends: its timeout, and some slack. */
const settleMs = (ctx: Context) => ctx.options.ipnTimeoutMs + 5_000;

/** An order to play a check on: through the merchant's checkout when given, else the kit's own. */
export async function freshOrder(ctx: Context): Promise<ControlOrderDetail> {
  if (ctx.merchant.canCheckout) return ctx.merchant.checkout();
  const routes = await ctx.client.routes();
  const route = routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ") ?? routes[0]!;
  const created = await ctx.client.createOrder(
    exampleCreateParams(route, {
      ipnUrl: ctx.options.ipnUrl,
      ipnSecret: ctx.options.ipnSecret,
      ...(ctx.options.callbackUrl ? { clientCallbackUrl: ctx.options.callbackUrl } : {}),
    }),
  );
  return ctx.client.order(created.uid);
}

/** Moves the order (forced, so any sequence can be played) and returns what its IPN got, once settled. */
export async function move(ctx: Context, uid: number, status: OrderStatus, fault?: FaultSpec): Promise<Sent[]> {
  const before = new Set((await ctx.client.deliveries({ orderUID: uid })).map((d) => d.id));
  const moved = await ctx.client.move(uid, status, { force: true, ...(fault === undefined ? {} : { fault }) });
  const fresh = moved.deliveries.filter((d) => !before.has(d.id)).map((d) => d.id);
  return record(ctx, await ctx.client.settle(fresh, { timeoutMs: settleMs(ctx) }));
}

export async function moveAll(ctx: Context, uid: number, statuses: readonly OrderStatus[]): Promise<Sent[]> {
  const out: Sent[] = [];
  for (const status of statuses) out.push(...(await move(ctx, uid, status)));
  return out;
}

/** Fires an IPN built from the order with another status, without moving it (so order/get still tells the truth). */
export async function fire(ctx: Context, order: { uid: number }, status: OrderStatus, fault?: FaultSpec): Promise<Sent[]> {
  const records = await ctx.client.sendIpn({ ipnUrl: ctx.options.ipnUrl, ipnSecret: ctx.options.ipnSecret, status, orderUID: order.uid, ...(fault === undefined ? {} : { fault }) });
  return record(ctx, await ctx.client.settle(records.map((r) => r.id), { timeoutMs: settleMs(ctx) }));
}

/** Sends a recorded IPN's exact body again (e.g. one held back, to arrive late). */
export async function resend(ctx: Context, id: string): Promise<Sent[]> {
  const records = await ctx.client.resend(id);
  return record(ctx, await ctx.client.settle(records.map((r) => r.id), { timeoutMs: settleMs(ctx) }));
}

/** A request the kit makes itself to the IPN URL, for bodies the sandbox never sends. */
export async function probe(ctx: Context, status: string, how: string, body: string | Uint8Array<ArrayBuffer>, contentType = "application/x-www-form-urlencoded"): Promise<Sent> {
  const answer = await ask(ctx.options.ipnUrl, { method: "POST", body, headers: { "content-type": contentType }, timeoutMs: ctx.options.ipnTimeoutMs });
  const sent = sentFromAnswer(`k${++ctx.probes}`, status, how, answer);
  ctx.sent.push(sent);
  return sent;
}

function record(ctx: Context, records: Parameters<typeof sentFromRecord>[0][]): Sent[] {
  const sent = records.map(sentFromRecord);
  ctx.sent.push(...sent);
  return sent;
}
