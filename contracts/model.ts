// The contract kit's vocabulary: checks grouped into contracts, each judged passed, failed or not judged.

export type Outcome =
  /** The merchant did what the contract asks, and the kit saw it. */
  | "passed"
  /** The merchant did not; `evidence` shows what happened and `hint` how to fix it. */
  | "failed"
  /** The kit could not judge it (a URL it needs was not given, no answer came, or a check it builds on failed); never a pass. */
  | "notJudged";

export const CONTRACT_GROUPS = ["signature", "encoding", "idempotency", "ordering", "finality", "timeliness", "reconcile", "callback", "replay"] as const;
export type ContractGroup = (typeof CONTRACT_GROUPS)[number];

/** A check as data: what it is, whether it fails the run, and how to fix its usual failure. */
export interface CheckSpec {
  /** "group/name", e.g. "signature/wrong-secret". */
  id: string;
  group: ContractGroup;
  title: string;
  /** A failed required check fails the run (exit code 1); an advisory one is reported only. */
  required: boolean;
  /** The verify flag that makes this advisory check required, if any. */
  requiredWith?: string;
  /** How to fix the failure this check exists to catch. */
  hint: string;
}

export interface CheckResult {
  /** "group/name", e.g. "signature/wrong-secret". */
  id: string;
  group: ContractGroup;
  title: string;
  /** A failed required check fails the run (exit code 1); an advisory one is reported only. */
  required: boolean;
  outcome: Outcome;
  /** What the kit sent and saw, line by line. */
  evidence: string[];
  /** How to fix a failure, or what to give the kit so it can judge. */
  hint: string | null;
  durationMs: number;
}

/** One key of the merchant's state document that the `done` IPN changed, and how. */
export interface PaidKey {
  /** Dot path, e.g. "status" or "order.balance". */
  path: string;
  /** Its value just before done (undefined: absent). */
  before: unknown;
  /** Its value after done. */
  after: unknown;
}

/** What the kit learned from signature/valid about the merchant's state document. */
export interface Learned {
  /** The document after done: what a paid order looks like. */
  paidDocument: unknown;
  /** What done changed in it (timestamps left out); finality, callback and reconcile look for these. */
  doneChanged: PaidKey[];
}

export interface Report {
  /** No required check failed. */
  passed: boolean;
  checks: CheckResult[];
  /** Where the kit's sandbox was, and what it was given. */
  setup: {
    sandboxUrl: string;
    /** The sandbox's version, and its seed when its health answer tells it (null otherwise). */
    sandboxVersion: string | null;
    seed: number | null;
    ipnUrl: string;
    checkoutUrl: string | null;
    stateUrl: string | null;
    callbackUrl: string | null;
    ipnTimeoutMs: number;
  };
  /** Null when the kit could not learn it (no --state-url, or signature/valid did not show it). */
  learned: Learned | null;
  startedAt: string;
  durationMs: number;
}

export function summarize(checks: readonly CheckResult[]) {
  const count = (outcome: Outcome, required?: boolean) =>
    checks.filter((c) => c.outcome === outcome && (required === undefined || c.required === required)).length;
  return {
    passed: count("passed"),
    failed: count("failed", true),
    advisoryFailed: count("failed", false),
    notJudged: count("notJudged"),
  };
}
