// The contract kit's vocabulary: checks grouped into contracts, each judged passed, failed or not judged.

export type Outcome =
  /** The merchant did what the contract asks, and the kit saw it. */
  | "passed"
  /** The merchant did not; `evidence` shows what happened and `hint` how to fix it. */
  | "failed"
  /** The kit could not judge it (a URL it needs was not given, or a check it builds on failed); never a pass. */
  | "notJudged";

export const CONTRACT_GROUPS = ["signature", "encoding", "idempotency", "ordering", "finality", "timeliness", "reconcile", "callback", "replay"] as const;
export type ContractGroup = (typeof CONTRACT_GROUPS)[number];

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

export interface Report {
  /** No required check failed. */
  passed: boolean;
  checks: CheckResult[];
  /** Where the kit's sandbox was, and what it was given. */
  setup: { sandboxUrl: string; ipnUrl: string; checkoutUrl: string | null; stateUrl: string | null; callbackUrl: string | null; ipnTimeoutMs: number };
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
