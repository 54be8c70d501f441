// What the merchant answered to each IPN the kit had sent, and the one rule that turns answers into a verdict.

import type { DeliveryRecord } from "../sandbox/index.js";
import type { HttpAnswer } from "./http.js";

/** One IPN (or IPN-like request) sent to the merchant's IPN URL, by the sandbox or by the kit itself. */
export interface Sent {
  /** The sandbox's delivery id ("d17"), or "k1", "k2"… for a request the kit made itself. */
  id: string;
  /** The newStatus it carried. */
  status: string;
  /** What was done to it ("wrongSecret", "the body without newStatus" …); null for a plain IPN. */
  how: string | null;
  /** The merchant's HTTP status; null when no answer came. */
  answer: number | null;
  bodyExcerpt: string;
  /** answered; timeout (no answer in time); broken (refused, reset); dropped (deliberately not sent). */
  outcome: "answered" | "timeout" | "broken" | "dropped";
  error: string | null;
  latencyMs: number | null;
  /** The sandbox's record, for the signing evidence; null for the kit's own requests. */
  record: DeliveryRecord | null;
}

export function sentFromRecord(record: DeliveryRecord): Sent {
  const outcome: Sent["outcome"] =
    record.response !== null ? "answered" : record.outcome === "dropped" ? "dropped" : record.outcome === "error" ? "broken" : "timeout";
  const how = record.fault === "deliver" ? null : `${record.fault}${record.faultDetail ? `: ${record.faultDetail}` : ""}`;
  return {
    id: record.id,
    status: record.status,
    how,
    answer: record.response?.status ?? null,
    bodyExcerpt: record.response?.bodyExcerpt ?? "",
    outcome,
    // A record still pending after the kit's wait never got its answer in time.
    error: record.error ?? (record.outcome === "pending" || record.outcome === "held" ? "still unanswered when the kit stopped waiting" : null),
    latencyMs: record.latencyMs,
    record,
  };
}

export function sentFromAnswer(id: string, status: string, how: string, answer: HttpAnswer): Sent {
  return {
    id,
    status,
    how,
    answer: answer.status,
    bodyExcerpt: answer.body,
    outcome: answer.status !== null ? "answered" : answer.timedOut ? "timeout" : "broken",
    error: answer.error,
    latencyMs: answer.latencyMs,
    record: null,
  };
}

/** One line about a request: what was sent and how the merchant answered. */
export function describe(sent: Sent): string {
  const how = sent.how === null ? "" : ` [${sent.how}]`;
  const answer =
    sent.outcome === "answered"
      ? `answered ${sent.answer}${sent.bodyExcerpt ? ` ${JSON.stringify(sent.bodyExcerpt.slice(0, 80))}` : ""}`
      : sent.outcome === "timeout"
        ? "no answer within the timeout"
        : sent.outcome === "dropped"
          ? "not sent (dropped on purpose)"
          : `no answer: ${sent.error ?? "the connection broke"}`;
  return `${sent.id} newStatus=${sent.status}${how} → ${answer}${sent.latencyMs !== null && sent.outcome !== "dropped" ? ` in ${sent.latencyMs} ms` : ""}`;
}

/** The exact string the sandbox hashed and the body as sent, for a developer to put beside their own. */
export function signingEvidence(sent: Sent): string[] {
  if (!sent.record) return [];
  return [`the sandbox hashed: ${sent.record.hashedString ?? "(no hash sent)"}`, `its hash: ${sent.record.hash ?? "(none)"}`, `body sent: ${sent.record.body}`];
}

export const ANSWER_HINTS = {
  crash:
    "A 5xx means your IPN handler crashed on this request: read every field defensively (any may be missing, repeated or not text), check the hash before using the fields, and answer 4xx to what you refuse. Your server's log has the error.",
  crashOnValid: "Your IPN handler crashed (5xx) on a correctly signed IPN: your server's log has the error. Answer 2xx once the IPN is stored.",
  broken: "Your server closed the connection without an answer (did the handler crash, or the process exit?). Answer every IPN with an HTTP status: 2xx when applied, 4xx when refused.",
  timeout: "timeliness/every-answer carries this verdict: answer every IPN, refused ones too, within --ipn-timeout.",
  sameCrash: "signature/valid carries this verdict: your server answers 5xx even to a correctly signed IPN; fix that first.",
};

/** What a check expects of the merchant's answer. */
export type Expected = "accepted" | "refused" | "answered";

export type AnswerVerdict =
  | { kind: "ok" }
  /** `hint` null: the check's own fix hint applies. */
  | { kind: "fail"; line: string; hint: string | null }
  | { kind: "notJudged"; why: string; hint: string };

const EXPECTED_TEXT: Record<Expected, string> = { accepted: "2xx", refused: "a refusal (4xx)", answered: "an answer below 500" };

/**
 * The one rule for answers. A 5xx is a crash and a broken connection is no answer (each failed with its own hint);
 * no answer within the timeout is not judged (timeliness carries it); a 5xx from a server that crashes even on a
 * correctly signed IPN is not judged either (signature/valid carries it). One cause, reported once.
 */
export function judgeAnswers(sent: readonly Sent[], expected: Expected, context: { crashesOnValid: boolean; timeoutMs: number; validPath?: boolean }): AnswerVerdict {
  const verdicts = sent.filter((s) => s.outcome !== "dropped").map((s) => judgeOne(s, expected, context));
  return verdicts.find((v) => v.kind === "fail") ?? verdicts.find((v) => v.kind === "notJudged") ?? { kind: "ok" };
}

function judgeOne(sent: Sent, expected: Expected, context: { crashesOnValid: boolean; timeoutMs: number; validPath?: boolean }): AnswerVerdict {
  const want = EXPECTED_TEXT[expected];
  if (sent.outcome === "timeout") return { kind: "notJudged", why: `not judged: no answer to ${sent.id} within the timeout (${context.timeoutMs} ms)`, hint: ANSWER_HINTS.timeout };
  if (sent.outcome === "broken") return { kind: "fail", line: `expected ${want}, got no answer to ${sent.id}: ${sent.error ?? "the connection broke"}`, hint: ANSWER_HINTS.broken };
  const status = sent.answer!;
  if (status >= 500) {
    if (context.crashesOnValid && !context.validPath) return { kind: "notJudged", why: `not judged: ${sent.id} got ${status}, as correctly signed IPNs do`, hint: ANSWER_HINTS.sameCrash };
    return { kind: "fail", line: `expected ${want}, got ${status}: your handler crashed`, hint: context.validPath ? ANSWER_HINTS.crashOnValid : ANSWER_HINTS.crash };
  }
  const ok = expected === "accepted" ? status >= 200 && status < 300 : expected === "refused" ? status >= 400 && status < 500 : true;
  if (ok) return { kind: "ok" };
  const note = status >= 300 && status < 400 ? " (a redirect is not a refusal)" : "";
  return { kind: "fail", line: `expected ${want}, got ${status}${note}`, hint: null };
}
