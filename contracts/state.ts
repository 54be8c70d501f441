// Judging the merchant's state document: what changed between two reads, what done gives, and one verdict helper.

import { readPath } from "./http.js";
import type { PaidKey } from "./model.js";

/** A read of the merchant's state URL: the JSON document and its status field, or why it could not be read. */
export type StateRead = { document: unknown; status: string | null } | { error: string };

/** Keys of a state document that may change on their own (timestamps), ignored when comparing two states. */
const VOLATILE_KEY = /(^|_)(at|time|timestamp|date|updated|modified|seen|received)$|(At|Time|Date)$/;

/** Every key whose value differs between two documents, with both values; volatile keys (timestamps) ignored. */
export function changedKeys(a: unknown, b: unknown, path = ""): PaidKey[] {
  const bothObjects = typeof a === "object" && typeof b === "object" && a !== null && b !== null && Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) return same(a, b) ? [] : [{ path: path || "(document)", before: a, after: b }];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  const out: PaidKey[] = [];
  for (const key of keys) {
    if (VOLATILE_KEY.test(key)) continue;
    out.push(...changedKeys((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }
  return out;
}

/** The keys whose values differ between two state documents, volatile keys (timestamps) ignored. */
export function stateDifferences(a: unknown, b: unknown): string[] {
  return changedKeys(a, b).map((change) => change.path);
}

/**
 * What `after` gained of what done gives: each key done changed that now holds the value done gave it and did
 * not hold it before. A paid flag, a credit counter or a balance shows up here; a status of its own does not.
 */
export function gainedFromDone(before: unknown, after: unknown, done: readonly PaidKey[]): PaidKey[] {
  return done
    .filter((key) => same(valueAt(after, key.path), key.after) && !same(valueAt(before, key.path), key.after))
    .map((key) => ({ path: key.path, before: valueAt(before, key.path), after: key.after }));
}

export type StateExpectation =
  /** The IPN must change the document (it was applied). */
  | { kind: "changed" }
  /** The document must stay as it was, timestamps aside. */
  | { kind: "unchanged" }
  /** The document must not gain what done gives (finality, the return page). */
  | { kind: "notPaid"; done: readonly PaidKey[] };

export type StateJudgement =
  | { kind: "ok"; lines: string[] }
  /** The merchant broke the expectation; the lines show how. */
  | { kind: "broken"; lines: string[] }
  /** The state URL could not be read, so nothing could be compared. */
  | { kind: "unreadable"; error: string };

/** The one judgement of a state change, for every contract: `what` names the step between the reads. */
export function judgeStateChange(before: StateRead, after: StateRead, expectation: StateExpectation, what: string): StateJudgement {
  if ("error" in before) return { kind: "unreadable", error: before.error };
  if ("error" in after) return { kind: "unreadable", error: after.error };
  const changes = changedKeys(before.document, after.document);
  switch (expectation.kind) {
    case "changed":
      return changes.length > 0
        ? { kind: "ok", lines: [`state after ${what}: ${show(after.document)}`] }
        : { kind: "broken", lines: [`state before: ${show(before.document)}`, `state after ${what}: ${show(after.document)} (unchanged)`] };
    case "unchanged":
      return changes.length === 0
        ? { kind: "ok", lines: [`state unchanged after ${what}`] }
        : { kind: "broken", lines: [`${what} changed your state: ${describeChanges(changes)}`, `before: ${show(before.document)}`, `after: ${show(after.document)}`] };
    case "notPaid": {
      const gained = gainedFromDone(before.document, after.document, expectation.done);
      return gained.length === 0
        ? { kind: "ok", lines: [`after ${what} your state has none of what done gives (${describeValues(expectation.done)}): ${show(after.document)}`] }
        : { kind: "broken", lines: [`after ${what} your state gained what done gives: ${describeChanges(gained)}`, `before: ${show(before.document)}`, `after: ${show(after.document)}`] };
    }
    default: {
      const never: never = expectation;
      throw new Error(`unknown state expectation ${JSON.stringify(never)}`);
    }
  }
}

/** "credits 0 → 1, status "processing" → "paid"". */
export function describeChanges(changes: readonly PaidKey[]): string {
  return changes.map((c) => `${c.path} ${show(c.before)} → ${show(c.after)}`).join(", ");
}

/** "status "paid", credits 1". */
export function describeValues(keys: readonly PaidKey[]): string {
  return keys.map((k) => `${k.path} ${show(k.after)}`).join(", ");
}

export function show(value: unknown): string {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function valueAt(document: unknown, path: string): unknown {
  return path === "(document)" ? document : readPath(document, path);
}
