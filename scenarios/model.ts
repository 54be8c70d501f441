// The scenario model: a named script of steps for one order, as data, with its schema and a typed defineScenario.

import { normalizeFault, STATUSES, withZod, type FaultSpec, type OrderStatus } from "../sandbox/index.js";

/**
 * What a step expects of the merchant's answers to the IPNs it caused:
 * - `accepted`: every IPN sent got a 2xx answer;
 * - `rejected`: every IPN sent got a 4xx answer (the merchant said no; a 5xx is a crash, not a refusal);
 * - `answered`: every IPN sent got an answer below 500 within the IPN timeout.
 */
export const EXPECTATIONS = ["accepted", "rejected", "answered"] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

/** Outside events a scenario can wait for. */
export const WAIT_EVENTS = ["payment", "orderGet"] as const;
export type WaitEvent = (typeof WAIT_EVENTS)[number];

/** A duration: milliseconds, or a string such as "500ms", "30s", "10m", "2h", "1d". */
export type Duration = number | string;

export type Step =
  /** Move the order to a status (forced if the table would not allow it) and send its IPN with `fault`. */
  | { move: OrderStatus; fault?: FaultSpec; expect?: Expectation }
  /** The client pays (waitPayment → inProgress; a new order passes through waitPayment). */
  | { pay: true; fault?: FaultSpec; expect?: Expectation }
  /** Let sandbox time pass. */
  | { wait: Duration }
  /** Wait, up to `timeout` of wall time, for something only the outside world does. */
  | { waitFor: WaitEvent; timeout?: Duration }
  /** Check the answers to the IPNs sent since the previous step (e.g. one sent by expiry during a wait). */
  | { expect: Expectation };

export interface Scenario {
  /** kebab-case, e.g. "payout-error-then-done". */
  name: string;
  /** One line. */
  description: string;
  /** The route to create the order on, by xml codes "FROM>TO" (default "ETH>WMZ"). */
  route?: string;
  /** The order's amount (default: the route's minimum). */
  amount?: string;
  steps: Step[];
}

/** Types a scenario written in TypeScript; returns it unchanged. */
export function defineScenario(scenario: Scenario): Scenario {
  return scenario;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DURATION = 30 * 86_400_000;

/** Reads a duration into milliseconds; returns an error message for anything else. */
export function parseDuration(value: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (typeof value === "number") {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_DURATION) return { ok: true, ms: value };
    return { ok: false, message: `expected a whole number of ms from 0 to 30 days, got ${value}` };
  }
  if (typeof value === "string") {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
    if (match) {
      const ms = Math.round(Number(match[1]) * UNITS[match[2]!]!);
      if (ms <= MAX_DURATION) return { ok: true, ms };
    }
  }
  return { ok: false, message: `expected a duration such as "500ms", "30s", "10m", "2h" or "1d" (at most 30 days), got ${JSON.stringify(value)}` };
}

/** The scenario schema, made from zod on first use. */
const scenarioSchema = withZod((z) => {
  const duration = z.custom<Duration>().superRefine((value, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
  });

  const fault = z.custom<FaultSpec>().superRefine((value, ctx) => {
    const parsed = normalizeFault(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.message });
  });

  const status = z.enum(STATUSES, { error: (issue) => `unknown status ${JSON.stringify(issue.input)}; expected one of ${STATUSES.join(", ")}` });
  const expectation = z.enum(EXPECTATIONS, { error: (issue) => `unknown expectation ${JSON.stringify(issue.input)}; expected one of ${EXPECTATIONS.join(", ")}` });

  const stepSchemas = {
    move: z.strictObject({ move: status, fault: fault.optional(), expect: expectation.optional() }),
    pay: z.strictObject({ pay: z.literal(true, { error: "pay takes true" }), fault: fault.optional(), expect: expectation.optional() }),
    wait: z.strictObject({ wait: duration }),
    waitFor: z.strictObject({
      waitFor: z.enum(WAIT_EVENTS, { error: (issue) => `unknown event ${JSON.stringify(issue.input)}; expected one of ${WAIT_EVENTS.join(", ")}` }),
      timeout: duration.optional(),
    }),
    expect: z.strictObject({ expect: expectation }),
  } as const;
  const ACTIONS = Object.keys(stepSchemas) as (keyof typeof stepSchemas)[];

  const step = z.custom<Step>().superRefine((value, ctx) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      ctx.addIssue({ code: "custom", message: `a step is an object with one of ${ACTIONS.join(", ")}` });
      return;
    }
    const actions = ACTIONS.filter((action) => action in value);
    // `expect` is an action on its own, and a modifier beside move and pay.
    const main = actions.length > 1 ? actions.filter((action) => action !== "expect") : actions;
    if (main.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: main.length === 0 ? `a step needs one of ${ACTIONS.join(", ")}` : `a step takes one action, got ${main.join(" and ")}`,
      });
      return;
    }
    const parsed = stepSchemas[main[0]!].safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", message: issue.message, path: issue.path });
    }
  });

  const scenarioSchema = z.strictObject({
    name: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "a name is kebab-case, e.g. payout-error-then-done"),
    description: z.string().min(1, "a one-line description is required").refine((d) => !d.includes("\n"), "the description is one line"),
    route: z.string().regex(/^[A-Z0-9]+>[A-Z0-9]+$/, 'a route is written by xml codes, e.g. "ETH>WMZ"').optional(),
    amount: z.string().regex(/^\d+(\.\d+)?$/, 'an amount is a decimal string, e.g. "0.5"').optional(),
    steps: z.array(step).min(1, "a scenario needs at least one step"),
  });
  return scenarioSchema;
});

/** A scenario that cannot be used; the message names the source, the step and what is wrong, on one line. */
export class ScenarioError extends Error {
  override name = "ScenarioError";
}

/** Validates a scenario read from `source` (a file path or "built-in"); throws ScenarioError on the first problem. */
export function parseScenario(input: unknown, source: string): Scenario {
  const parsed = scenarioSchema().safeParse(input);
  if (parsed.success) return parsed.data as Scenario;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("");
  throw new ScenarioError(`scenario ${source}: ${where ? `${where}: ` : ""}${issue.message}`.replace(/\s*\n\s*/g, " "));
}

/** A step's action name. */
export function stepAction(step: Step): "move" | "pay" | "wait" | "waitFor" | "expect" {
  if ("move" in step) return "move";
  if ("pay" in step) return "pay";
  if ("wait" in step) return "wait";
  if ("waitFor" in step) return "waitFor";
  return "expect";
}
