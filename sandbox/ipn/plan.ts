// How the records of one IPN go out under its fault, pure: one step per record, from the fault table.

import { FAULT_TABLE, type NormalizedFault, type PlanContext } from "./fault-table.js";

/** How one record of a dispatch goes out. */
export type Step =
  | { kind: "send"; detail: string | null }
  | { kind: "drop"; detail: string }
  /** Held on the sandbox clock for `ms`; `released` becomes its detail when the clock lets it go. */
  | { kind: "hold"; ms: number; detail: string; released: string; reorder: boolean }
  /** Sent once the record before it has settled, so copies arrive in order. */
  | { kind: "afterPrevious"; detail: string };

export type { PlanContext };

/**
 * The steps of one IPN under `fault`, one per record it makes: a dispatch stores this many records (two for
 * dropOnce, `copies` for duplicate, else one).
 */
export function stepsFor(fault: NormalizedFault, context: PlanContext): Step[] {
  const plan = FAULT_TABLE[fault.type].plan as (fault: NormalizedFault, context: PlanContext) => Step[];
  return plan(fault, context);
}
