// Exact decimal amounts: what merchants send and what the exchanger pays out.

import { describe, expect, it } from "vitest";
import { parseAmount, payout } from "../sandbox/orders/amount.js";

describe("amounts", () => {
  it.each([
    [2, "2"],
    ["2.50", "2.5"],
    [" 0.1 ", "0.1"],
    [1e-7, "0.0000001"],
    ["0.00000001", "0.00000001"],
  ])("reads %j as %s", (given, expected) => {
    expect(parseAmount(given, 8)).toEqual({ ok: true, amount: expected });
  });

  it.each([
    [0.1 + 0.2, "tooManyDecimals"],
    ["0.001", "tooManyDecimals", 2],
    [0, "notPositive"],
    ["-1", "notANumber"],
    ["1e5", "notANumber"],
    ["abc", "notANumber"],
    [Number.NaN, "notANumber"],
    [Number.POSITIVE_INFINITY, "notANumber"],
    [true, "notANumber"],
    [null, "notANumber"],
    [{}, "notANumber"],
  ])("refuses %j as %s", (given, problem, decimals = 8) => {
    expect(parseAmount(given, decimals)).toEqual({ ok: false, problem });
  });

  it("computes the docs' example payout: 2 ETH at 158.71 is 317.42 WMZ", () => {
    expect(payout("2", "158.71", 2)).toBe("317.42");
  });

  it("never pays out through a binary float", () => {
    expect(payout("0.1", "3", 8)).toBe("0.3");
    expect(payout("0.3", "0.1", 2)).toBe("0.03");
  });

  it("rounds a payout down to the currency's decimals", () => {
    expect(payout("1", "0.006987", 4)).toBe("0.0069");
    expect(payout("0.99999999", "1", 2)).toBe("0.99");
  });
});
