// The delivery faults, once: each fault's parameters with their ranges and defaults, what the merchant gets, and how
// its records go out. The fault names and types, the parameter check, the help text, the docs table and the plan
// all derive from this table.

import { IPN_HASH_FIELDS_ORDER } from "./sign.js";
import type { Step } from "./plan.js";

/** Longest hold or age a fault may ask for: 7 days. */
export const MAX_FAULT_MS = 7 * 86_400_000;

/** A fault's parameter: a whole number in a range, or one of a list of names; the default is what a bare name gets. */
export type ParamSpec =
  | { readonly kind: "whole"; readonly min: number; readonly max: number; readonly default: number; readonly note: string }
  | { readonly kind: "choice"; readonly choices: readonly string[]; readonly default: string };

type ParamValue<S extends ParamSpec> = S extends { kind: "choice"; choices: readonly (infer C)[] } ? C : number;
type Values<P extends Record<string, ParamSpec>> = { -readonly [K in keyof P]: ParamValue<P[K]> };

/** What the plan of one IPN knows besides its fault. */
export interface PlanContext {
  /** What the fault did to the body (applyFault's detail); null when it is untouched. */
  bodyDetail: string | null;
  /** The id of the dispatch's first record, which names the group. */
  group: string;
  /** A test IPN fired without an order. */
  testIpn: boolean;
}

interface FaultEntry<P extends Record<string, ParamSpec>> {
  readonly params: P;
  /** "body": what is sent is altered, once, at once. "timing": when, whether or how often it is sent. */
  readonly changes: "body" | "timing";
  /** What the merchant gets, for the help text, the docs and the dashboard, given the defaults. */
  readonly describe: (defaults: Values<P>) => string;
  /** How each record of one IPN goes out: one step per record. */
  readonly plan: (fault: Values<P>, context: PlanContext) => Step[];
}

/** Types an entry's `describe` and `plan` from its own parameters. */
const entry = <const P extends Record<string, ParamSpec>>(spec: FaultEntry<P>): FaultEntry<P> => spec;

const ms = (fallback: number) => ({ kind: "whole", min: 0, max: MAX_FAULT_MS, default: fallback, note: " (7 days)" }) as const;
const sendOnce = (_fault: unknown, { bodyDetail }: PlanContext): Step[] => [{ kind: "send", detail: bodyDetail }];
const hold = (ms: number, detail: string, released = detail): Step => ({ kind: "hold", ms, detail, released, reorder: false });

/** The faults in the order they are listed everywhere; `deliver` is no fault at all, as the real service sends. */
export const FAULT_TABLE = {
  deliver: entry({ params: {}, changes: "timing", describe: () => "sent once, as the real service does", plan: sendOnce }),
  drop: entry({
    params: {},
    changes: "timing",
    describe: () => "never sent (the real service does not guarantee delivery)",
    plan: () => [{ kind: "drop", detail: "never sent" }],
  }),
  dropOnce: entry({
    params: { ms: ms(30_000) },
    changes: "timing",
    describe: (d) => `the first send is lost; an identical copy arrives \`ms\` later (default ${formatMs(d.ms)} of sandbox time)`,
    plan: (f, { group }) => [
      { kind: "drop", detail: "first copy lost" },
      hold(f.ms, `an identical copy of ${group}, held ${f.ms} ms`, `an identical copy of ${group}, sent ${f.ms} ms after it was lost`),
    ],
  }),
  delay: entry({
    params: { ms: ms(5_000) },
    changes: "timing",
    describe: (d) => `sent \`ms\` later (default ${formatMs(d.ms)} of sandbox time)`,
    plan: (f) => [hold(f.ms, `held ${f.ms} ms`)],
  }),
  duplicate: entry({
    params: { copies: { kind: "whole", min: 2, max: 10, default: 2, note: "" } },
    changes: "timing",
    describe: (d) => `\`copies\` identical copies (default ${d.copies}), one after another`,
    // Each copy after the first waits for the one before it to settle, so they arrive in order.
    plan: (f) =>
      Array.from({ length: f.copies }, (_, index): Step =>
        index === 0 ? { kind: "send", detail: `copy 1 of ${f.copies}` } : { kind: "afterPrevious", detail: `copy ${index + 1} of ${f.copies}` },
      ),
  }),
  reorder: entry({
    params: { ms: ms(60_000) },
    changes: "timing",
    describe: (d) => `held back and sent just after the order's next IPN (or after \`ms\`, default ${formatMs(d.ms)}, if none comes)`,
    plan: (f, { testIpn }) =>
      testIpn
        ? [hold(f.ms, `a test IPN has no order to reorder with: held ${f.ms} ms`)]
        : [
            {
              kind: "hold",
              ms: f.ms,
              detail: `held until the order's next IPN, at most ${f.ms} ms`,
              released: `no later IPN for the order within ${f.ms} ms; sent then`,
              reorder: true,
            },
          ],
  }),
  tamperHash: entry({ params: {}, changes: "body", describe: () => "the hash is altered: one hex digit changed", plan: sendOnce }),
  wrongSecret: entry({ params: {}, changes: "body", describe: () => "signed with another secret than the order's ipnSecret", plan: sendOnce }),
  tamperField: entry({
    // Only a signed field: changing one the checksum does not cover would leave the IPN valid.
    params: { field: { kind: "choice", choices: IPN_HASH_FIELDS_ORDER, default: "outAmount" } },
    changes: "body",
    describe: (d) => `\`field\` (default ${d.field}) changed after signing`,
    plan: sendOnce,
  }),
  staleTimestamp: entry({
    params: { ms: ms(86_400_000) },
    changes: "body",
    describe: (d) => `validly signed, but the timestamp is \`ms\` old (default ${formatMs(d.ms)})`,
    plan: sendOnce,
  }),
  secondsTimestamp: entry({
    params: {},
    changes: "body",
    describe: () => "validly signed over a timestamp in seconds instead of milliseconds",
    plan: sendOnce,
  }),
  missingHash: entry({ params: {}, changes: "body", describe: () => "no checksum field at all", plan: sendOnce }),
  malformedBody: entry({ params: {}, changes: "body", describe: () => "a body that is not valid form encoding", plan: sendOnce }),
};

type Table = typeof FAULT_TABLE;
type ParamsOf<F extends Fault> = Table[F]["params"];

/** What the dispatcher does with one IPN: deliver it as the real service would, or break its delivery. */
export type Fault = keyof Table;
export const FAULTS = Object.keys(FAULT_TABLE) as Fault[];

/** A fault with every parameter filled in: what the dispatcher acts on. */
export type NormalizedFault = { [F in Fault]: { type: F } & Values<ParamsOf<F>> }[Fault];

/** A fault with its parameters; a bare name (e.g. "delay") means the defaults. */
export type FaultSpec = Fault | { [F in Fault]: { type: F } & Partial<Values<ParamsOf<F>>> }[Fault];

/** The IPN fields `tamperField` may change: the signed ones. */
export const TAMPERABLE_FIELDS = IPN_HASH_FIELDS_ORDER;
export type TamperableField = (typeof TAMPERABLE_FIELDS)[number];

/** The faults that change what is sent rather than when: one record, sent at once, with an altered body. */
export type BodyFault = { [F in Fault]: Table[F]["changes"] extends "body" ? F : never }[Fault];

export function isBodyFault(fault: Fault): fault is BodyFault {
  return FAULT_TABLE[fault]?.changes === "body";
}

/** A fault's parameters as a bare name gets them. */
export function faultDefaults(fault: Fault): Record<string, number | string> {
  const params: Record<string, ParamSpec> = FAULT_TABLE[fault].params;
  return Object.fromEntries(Object.entries(params).map(([name, spec]) => [name, spec.default]));
}

/** One line per fault, defaults included, for --help, the docs and the dashboard. */
export const FAULT_DESCRIPTIONS = Object.fromEntries(
  FAULTS.map((fault) => [fault, (FAULT_TABLE[fault].describe as (defaults: Record<string, unknown>) => string)(faultDefaults(fault))]),
) as Record<Fault, string>;

/** The parameters column of the docs' table, e.g. "`ms`: 0 – 604800000". */
function paramsText(fault: Fault): string {
  const params: Record<string, ParamSpec> = FAULT_TABLE[fault].params;
  return Object.entries(params)
    .map(([name, spec]) =>
      spec.kind === "whole"
        ? `\`${name}\`: ${spec.min} – ${spec.max}`
        : `\`${name}\`: ${spec.choices.slice(0, -1).join(", ")} or ${spec.choices.at(-1)}`,
    )
    .join(", ");
}

/** The docs' table of delivery faults (docs/ipn.md), as Markdown. */
export function faultsMarkdownTable(): string {
  const rows = FAULTS.map((fault) => {
    const params = paramsText(fault);
    return `| \`${fault}\` | ${params}${params === "" ? "" : " "}| ${FAULT_DESCRIPTIONS[fault]} |`;
  });
  return ["| fault | parameters | what the merchant gets |", "|---|---|---|", ...rows].join("\n");
}

/** A duration as the docs write it: "24 h", "30 s", "250 ms". */
export function formatMs(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}
