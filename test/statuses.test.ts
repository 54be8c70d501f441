// The status list, the transition table and the pure state-machine step.

import { describe, expect, it } from "vitest";
import { callbackOutcome, isFinal, MERCHANT_TRANSITIONS, STATUSES, TRANSITIONS, type OrderStatus } from "../sandbox/orders/statuses.js";
import { transitionOrder } from "../sandbox/orders/transition.js";
import type { Order } from "../sandbox/orders/types.js";

const order = (status: OrderStatus, manual = true) => ({ uid: 1, status, history: [], route: { manual } }) as unknown as Order;

const allowed: [OrderStatus, OrderStatus][] = Object.entries(TRANSITIONS).flatMap(([from, tos]) =>
  tos.map((to) => [from as OrderStatus, to] as [OrderStatus, OrderStatus]),
);
const forbidden: [OrderStatus, OrderStatus][] = STATUSES.flatMap((from) =>
  STATUSES.filter((to) => !TRANSITIONS[from].includes(to)).map((to) => [from, to] as [OrderStatus, OrderStatus]),
);

describe("statuses", () => {
  it("lists the docs' ten statuses in the docs' order", () => {
    expect(STATUSES).toEqual(["new", "waitPayment", "errorPayment", "inProgress", "inProgressPayout", "errorPayout", "hold", "done", "returned", "deleted"]);
  });

  it("matches PROTOCOL.md's transition table exactly", () => {
    expect(TRANSITIONS).toEqual({
      new: ["waitPayment", "deleted"],
      waitPayment: ["inProgress", "errorPayment", "hold", "deleted"],
      errorPayment: ["inProgress", "hold", "deleted"],
      inProgress: ["inProgressPayout", "done", "hold", "returned"],
      inProgressPayout: ["done", "errorPayout", "hold"],
      errorPayout: ["inProgressPayout", "done", "hold", "returned"],
      hold: ["inProgress", "inProgressPayout", "done", "returned", "deleted"],
      done: [],
      returned: [],
      deleted: [],
    });
  });

  it("treats exactly done, returned and deleted as final", () => {
    expect(STATUSES.filter(isFinal)).toEqual(["done", "returned", "deleted"]);
  });

  it("lets a merchant only confirm a manual payment or cancel", () => {
    expect(MERCHANT_TRANSITIONS).toEqual({ new: ["deleted"], waitPayment: ["inProgress", "deleted"] });
  });

  it("reaches every status from new", () => {
    const seen = new Set<OrderStatus>(["new"]);
    const queue: OrderStatus[] = ["new"];
    while (queue.length) for (const next of TRANSITIONS[queue.shift()!]) if (!seen.has(next)) seen.add(next), queue.push(next);
    expect([...seen].sort()).toEqual([...STATUSES].sort());
  });

  it.each([
    ["done", "success"],
    ["errorPayment", null],
    ["errorPayout", null],
    ["returned", "error"],
    ["deleted", "error"],
    ["new", null],
    ["waitPayment", null],
    ["inProgress", null],
    ["inProgressPayout", null],
    ["hold", null],
  ] as const)("sends the client back from %s with status=%s", (status, outcome) => {
    expect(callbackOutcome(status)).toBe(outcome);
  });

  it("offers the way back only from a final status: errorPayment and errorPayout may still end in done", () => {
    expect(STATUSES.filter((s) => callbackOutcome(s) !== null)).toEqual(STATUSES.filter(isFinal));
  });
});

describe("transitionOrder", () => {
  it.each(allowed)("allows %s → %s and records it in the history", (from, to) => {
    const result = transitionOrder(order(from), { to, at: 5, cause: "test", rules: "table" });
    expect(result).toMatchObject({ ok: true, from, order: { status: to, history: [{ from, to, at: 5, cause: "test", forced: false }] } });
  });

  it.each(forbidden)("refuses %s → %s without force", (from, to) => {
    const result = transitionOrder(order(from), { to, at: 5, cause: "test", rules: "table" });
    expect(result.ok).toBe(false);
  });

  it.each(forbidden.filter(([from, to]) => from !== to))("forces %s → %s and marks the move as forced", (from, to) => {
    const result = transitionOrder(order(from), { to, at: 5, cause: "scenario", rules: "table", force: true });
    expect(result).toMatchObject({ ok: true, order: { status: to, history: [{ forced: true }] } });
  });

  it.each(STATUSES)("refuses %s → the same status without force", (status) => {
    expect(transitionOrder(order(status), { to: status, at: 1, cause: "x", rules: "table" })).toMatchObject({ ok: false, reason: "same" });
  });

  it.each(STATUSES)("re-sends %s when forced to the status it already has, as a late duplicate would", (status) => {
    const result = transitionOrder(order(status), { to: status, at: 7, cause: "scenario", rules: "table", force: true });
    expect(result).toMatchObject({ ok: true, from: status, order: { status, history: [{ from: status, to: status, at: 7, forced: true }] } });
  });

  it("says a final status is final", () => {
    expect(transitionOrder(order("done"), { to: "inProgress", at: 1, cause: "x", rules: "table" })).toMatchObject({ ok: false, reason: "final", allowed: [] });
  });

  it("judges a merchant's move by the merchant's rules, not the table's", () => {
    expect(transitionOrder(order("waitPayment"), { to: "hold", at: 1, cause: "x", rules: "merchant" })).toMatchObject({ ok: false, reason: "notAllowed", allowed: ["inProgress", "deleted"] });
    expect(transitionOrder(order("waitPayment"), { to: "inProgress", at: 1, cause: "x", rules: "merchant" }).ok).toBe(true);
  });

  it("lets a merchant confirm a payment only on a manual route", () => {
    const confirm = { to: "inProgress", at: 1, cause: "api", rules: "merchant" } as const;
    expect(transitionOrder(order("waitPayment", true), confirm).ok).toBe(true);
    expect(transitionOrder(order("waitPayment", false), confirm)).toMatchObject({ ok: false, reason: "automatic", allowed: ["deleted"] });
  });

  it.each([true, false])("lets a merchant cancel an unpaid order on any route (manual: %s)", (manual) => {
    for (const from of ["new", "waitPayment"] as const) {
      expect(transitionOrder(order(from, manual), { to: "deleted", at: 1, cause: "api", rules: "merchant" }).ok).toBe(true);
    }
  });

  it("lets the table (control API, payment by the client) move an automatic route's order to inProgress", () => {
    expect(transitionOrder(order("waitPayment", false), { to: "inProgress", at: 1, cause: "control", rules: "table" }).ok).toBe(true);
  });

  it("does not change the order it was given", () => {
    const before = order("new");
    transitionOrder(before, { to: "waitPayment", at: 1, cause: "x", rules: "table" });
    expect(before.status).toBe("new");
    expect(before.history).toEqual([]);
  });
});
