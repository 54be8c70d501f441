// The built-in scenario library: every status in the docs and every way an IPN can go wrong, one story each.

import { defineScenario, type Scenario } from "./model.js";

const paidAndPaidOut = [{ move: "waitPayment", expect: "accepted" }, { pay: true, expect: "accepted" }] as const;

export const BUILTIN_SCENARIOS: readonly Scenario[] = [
  defineScenario({
    name: "happy-path",
    description: "The client pays, the exchanger pays out, the order is done.",
    steps: [...paidAndPaidOut, { wait: "2m" }, { move: "inProgressPayout", expect: "accepted" }, { wait: "5m" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "manual-payment",
    description: "A card payment confirmed by hand (\"I paid\"), then paid out and done.",
    route: "CARDUAH>USDTTRC20",
    steps: [...paidAndPaidOut, { wait: "10m" }, { move: "inProgressPayout", expect: "accepted" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "payment-error",
    description: "The client's payment fails and the order is cancelled.",
    steps: [{ move: "waitPayment", expect: "accepted" }, { wait: "5m" }, { move: "errorPayment", expect: "accepted" }, { wait: "1h" }, { move: "deleted", expect: "accepted" }],
  }),
  defineScenario({
    name: "payout-error",
    description: "Paid, but the payout fails and the order stays in errorPayout.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { wait: "3m" }, { move: "errorPayout", expect: "accepted" }],
  }),
  defineScenario({
    name: "payout-error-then-done",
    description: "The payout fails once, is retried ten minutes later, and succeeds.",
    steps: [
      ...paidAndPaidOut,
      { move: "inProgressPayout", expect: "accepted" },
      { move: "errorPayout", expect: "accepted" },
      { wait: "10m" },
      { move: "inProgressPayout", expect: "accepted" },
      { move: "done", expect: "accepted" },
    ],
  }),
  defineScenario({
    name: "hold-then-done",
    description: "Paid, frozen for checks for two hours, then paid out and done.",
    steps: [...paidAndPaidOut, { move: "hold", expect: "accepted" }, { wait: "2h" }, { move: "inProgressPayout", expect: "accepted" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "hold-then-returned",
    description: "Paid, frozen for a day, then the money goes back to the sender.",
    steps: [...paidAndPaidOut, { move: "hold", expect: "accepted" }, { wait: "1d" }, { move: "returned", expect: "accepted" }],
  }),
  defineScenario({
    name: "returned",
    description: "Paid, but the exchange conditions were not met: the money goes back.",
    steps: [...paidAndPaidOut, { wait: "30m" }, { move: "returned", expect: "accepted" }],
  }),
  defineScenario({
    name: "expired",
    description: "The client never pays; the payment window ends and the order is deleted.",
    steps: [{ move: "waitPayment", expect: "accepted" }, { wait: "31m" }, { expect: "accepted" }],
  }),
  defineScenario({
    name: "drop-once",
    description: "The done IPN's first send is lost; an identical copy arrives 30 s later.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { move: "done", fault: "dropOnce", expect: "accepted" }],
  }),
  defineScenario({
    name: "duplicate-ipn",
    description: "The done IPN arrives three times, identical; the merchant must credit once.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { move: "done", fault: { type: "duplicate", copies: 3 }, expect: "accepted" }],
  }),
  defineScenario({
    name: "out-of-order",
    description: "The inProgressPayout IPN is held back and arrives after done; the merchant must not go back.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", fault: "reorder", expect: "accepted" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "tampered-hash",
    description: "One IPN's hash is altered in transit; the merchant must refuse it.",
    steps: [{ move: "waitPayment", expect: "accepted" }, { pay: true, fault: "tamperHash", expect: "rejected" }, { move: "inProgressPayout", expect: "accepted" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "wrong-secret",
    description: "One IPN is signed with another secret; the merchant must refuse it.",
    steps: [{ move: "waitPayment", expect: "accepted" }, { pay: true, fault: "wrongSecret", expect: "rejected" }, { move: "inProgressPayout", expect: "accepted" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "stale-timestamp",
    description: "A validly signed done IPN whose timestamp is a day old; the merchant must answer, not crash.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { move: "done", fault: "staleTimestamp", expect: "answered" }],
  }),
  defineScenario({
    name: "tampered-field",
    description: "An IPN's outAmount is changed after signing; the merchant must refuse it.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { move: "done", fault: "tamperField", expect: "rejected" }],
  }),
  defineScenario({
    name: "missing-hash",
    description: "An IPN arrives without its checksum; the merchant must refuse it.",
    steps: [{ move: "waitPayment", fault: "missingHash", expect: "rejected" }],
  }),
  defineScenario({
    name: "malformed-body",
    description: "An IPN body that is not valid form encoding; the merchant must answer 4xx, not crash.",
    steps: [{ move: "waitPayment", fault: "malformedBody", expect: "rejected" }],
  }),
  defineScenario({
    name: "seconds-timestamp",
    description: "A validly signed IPN whose timestamp is in seconds, not milliseconds; the merchant must answer.",
    steps: [{ move: "waitPayment", fault: "secondsTimestamp", expect: "answered" }],
  }),
  defineScenario({
    name: "delayed-ipn",
    description: "The inProgress IPN arrives five minutes late, after the payout has started.",
    steps: [{ move: "waitPayment", expect: "accepted" }, { pay: true, fault: { type: "delay", ms: 300_000 }, expect: "accepted" }, { wait: "1m" }, { move: "inProgressPayout", expect: "accepted" }, { wait: "10m" }, { move: "done", expect: "accepted" }],
  }),
  defineScenario({
    name: "lost-done-ipn",
    description: "The done IPN is never sent; the merchant must find out through order/get within 30 s.",
    steps: [...paidAndPaidOut, { move: "inProgressPayout", expect: "accepted" }, { move: "done", fault: "drop" }, { waitFor: "orderGet", timeout: "30s" }],
  }),
];

export function findBuiltinScenario(name: string): Scenario | undefined {
  return BUILTIN_SCENARIOS.find((s) => s.name === name);
}
