// Exact decimal amounts: parsing what a merchant sends and computing payouts without binary floats.

import Big from "big.js";

/** A decimal string as amounts and rates are written: digits, and a fraction after a point. */
export const DECIMAL = /^\d+(\.\d+)?$/;

export type AmountProblem = "notANumber" | "notPositive" | "tooManyDecimals";

/**
 * Reads an amount given as a JSON number or a decimal string into its canonical decimal string ("2.50" → "2.5").
 * A JSON number is taken at its exact shortest representation, so 0.1 + 0.2 arrives as 0.30000000000000004 and
 * is refused for having too many decimals rather than silently rounded.
 */
export function parseAmount(value: unknown, decimals: number): { ok: true; amount: string } | { ok: false; problem: AmountProblem } {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return { ok: false, problem: "notANumber" };
    text = new Big(value).toFixed();
  } else if (typeof value === "string") {
    text = value.trim();
  } else {
    return { ok: false, problem: "notANumber" };
  }
  if (!DECIMAL.test(text)) return { ok: false, problem: "notANumber" };
  const big = new Big(text);
  if (big.lte(0)) return { ok: false, problem: "notPositive" };
  if (decimalPlaces(big) > decimals) return { ok: false, problem: "tooManyDecimals" };
  return { ok: true, amount: big.toFixed() };
}

function decimalPlaces(value: Big): number {
  const text = value.toFixed();
  const dot = text.indexOf(".");
  return dot === -1 ? 0 : text.length - dot - 1;
}

/** `amount × rate`, rounded down to `decimals` places: the exchanger never pays out more than the rate gives. */
export function payout(amount: string, rate: string, decimals: number): string {
  return new Big(amount).times(rate).round(decimals, Big.roundDown).toFixed();
}

export function compareAmounts(a: string, b: string): -1 | 0 | 1 {
  return new Big(a).cmp(b) as -1 | 0 | 1;
}
