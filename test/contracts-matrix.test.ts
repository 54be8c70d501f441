// The contract kit's mutation matrix: each planted bug fails exactly its own contracts, and the correct merchants pass.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClock, createSandbox, type Sandbox } from "../sandbox/index.js";
import { CONTRACT_GROUPS, formatText, runContracts, UnreachableUrl, type ContractOptions, type Report } from "../contracts/index.js";
import { startMirrorMerchant, type MirrorBug } from "./support/mirror-merchant.js";
import { startReferenceMerchant, type MerchantBug, type ReferenceMerchantOptions } from "./support/reference-merchant.js";

const SECRET = "matrix-secret";
/** The IPN timeout the kit is told, which bounds its own waits. */
const TIMEOUT_MS = 5000;
/** The kit's timeout for the merchant that is slow on every IPN: the kit's own direct POSTs to it wait it out. */
const TIGHT_TIMEOUT_MS = 250;

/**
 * A sandbox whose IPN timeout runs on a manual clock: no IPN there times out, however busy the machine, until
 * `timeOut()` ends every IPN then in flight, as the timeout would.
 */
async function startSandbox(ipnTimeoutMs: number) {
  const network = createClock("manual", { startAt: 0 });
  const sandbox = createSandbox({ ipnTimeoutMs, ipnWallClock: network });
  return { sandbox, url: (await sandbox.listen(0)).url, timeOut: () => network.advance(ipnTimeoutMs) };
}

let normal: Awaited<ReturnType<typeof startSandbox>>;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  normal = await startSandbox(TIMEOUT_MS);
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
  await normal.sandbox.close();
});

interface Case {
  /** The reference merchant's bugs, or the mirror merchant's (`mirror`). */
  bugs?: MerchantBug[];
  mirror?: MirrorBug[];
  /** Exactly the checks that must fail. */
  fails: string[];
  /**
   * For a merchant that holds answers back: on a sandbox of its own, where each IPN it holds is timed out as soon as
   * it holds it, and with the kit's timeout TIGHT_TIMEOUT_MS when `tight`.
   */
  holdsAnswers?: { tight: boolean };
  /** More options for the reference merchant. */
  merchant?: Partial<ReferenceMerchantOptions>;
  options?: Partial<ContractOptions>;
  /** More to check of the report: what was not judged, and why. */
  also?: (report: Report) => void;
}

const notJudged = (report: Report, id: string) => {
  const check = report.checks.find((c) => c.id === id);
  expect(check?.outcome, id).toBe("notJudged");
  return check!.evidence.join("\n");
};

const SIGNATURE_REJECTIONS = ["wrong-secret", "altered-hash", "altered-amount", "altered-status", "altered-order-id", "missing-hash", "other-order-hash"].map((n) => `signature/${n}`);

const CASES: Record<string, Case> = {
  // The longest runs first, so that the short ones fill the time beside them.
  slow: {
    bugs: ["slow"],
    holdsAnswers: { tight: true },
    fails: ["timeliness/every-answer", "timeliness/burst"],
    also: (r) => {
      for (const id of ["signature/valid", ...SIGNATURE_REJECTIONS, "encoding/malformed-body"]) expect(notJudged(r, id)).toMatch(/no answer to \S+ within the timeout/);
    },
  },
  regressesLate: {
    bugs: ["regressesLate"],
    holdsAnswers: { tight: false },
    fails: ["timeliness/every-answer"],
    also: (r) => expect(notJudged(r, "ordering/late-in-progress")).toMatch(/no answer to the late inProgress within the timeout/),
  },
  noReconcile: { bugs: ["noReconcile"], fails: ["reconcile/lost-done"], options: { requireReconcile: true, reconcileTimeoutMs: 1500 } },
  returnPageScriptError: { bugs: ["returnPageScriptError"], fails: ["callback/browser"], options: { chromiumPath: undefined } },
  "the correct reference merchant": { fails: [] },
  "the correct mirror merchant (its own Hono style, the exchanger's status names)": { mirror: [], fails: [] },
  // An altered orderId names no order the merchant knows: even this merchant answers 404 to it.
  acceptsAnything: { bugs: ["acceptsAnything"], fails: [...SIGNATURE_REJECTIONS.filter((id) => id !== "signature/altered-order-id"), "encoding/non-utf8"] },
  wrongFieldOrder: {
    bugs: ["wrongFieldOrder"],
    fails: ["signature/valid"],
    also: (r) => expect(notJudged(r, "signature/wrong-secret")).toMatch(/refuses even correctly signed IPNs/),
  },
  missingHashAccepted: { bugs: ["missingHashAccepted"], fails: ["signature/missing-hash"] },
  creditsTwice: { bugs: ["creditsTwice"], fails: ["idempotency/duplicate"] },
  // Without order/get polls: one landing after the late inProgress would put back the paid state the check looks at.
  // The reconcile contract, which needs them, is left out.
  regresses: {
    bugs: ["regresses"],
    merchant: { reconcile: false },
    fails: ["ordering/late-in-progress"],
    options: { only: CONTRACT_GROUPS.filter((group) => group !== "reconcile") },
  },
  paidOnAnyFinal: { bugs: ["paidOnAnyFinal"], fails: ["finality/returned", "finality/deleted", "finality/errorPayment"] },
  trustsReturnStatus: { bugs: ["trustsReturnStatus"], fails: ["callback/success-does-not-pay"] },
  crashesOnMalformed: { bugs: ["crashesOnMalformed"], fails: ["encoding/malformed-body"] },
  crashesOnMissingFields: {
    bugs: ["crashesOnMissingFields"],
    fails: ["encoding/missing-field", "encoding/no-signed-fields", "encoding/empty-body", "encoding/json-body"],
  },
  answers500: {
    bugs: ["answers500"],
    fails: ["signature/valid"],
    also: (r) => {
      for (const id of [...SIGNATURE_REJECTIONS, "encoding/empty-body"]) expect(notJudged(r, id)).toMatch(/as correctly signed IPNs do/);
    },
  },
  returnPage500: { bugs: ["returnPage500"], fails: ["callback/answers"] },
  ignoresTimestamp: {
    bugs: ["ignoresTimestamp"],
    fails: ["replay/old-ipn"],
    also: (r) => expect([r.checks.find((c) => c.id === "replay/old-ipn")!.required, r.passed], "advisory: the run passes").toEqual([false, true]),
  },
  "creditsOnReturned (the mirror merchant: status mirrored, balance credited)": { mirror: ["creditsOnReturned"], fails: ["finality/returned"] },
};

/** How many runs share the machine at once: enough to keep the matrix short, few enough to keep answers prompt. */
const AT_ONCE = 3;
let running = 0;
const queue: (() => void)[] = [];

async function play(c: Case): Promise<Report> {
  if (running >= AT_ONCE) await new Promise<void>((resolve) => queue.push(resolve));
  running++;
  try {
    return await playNow(c);
  } finally {
    running--;
    queue.shift()?.();
  }
}

async function playNow(c: Case): Promise<Report> {
  const timeout = c.holdsAnswers?.tight ? TIGHT_TIMEOUT_MS : TIMEOUT_MS;
  const on = c.holdsAnswers ? await startSandbox(timeout) : normal;
  if (on !== normal) open.push(on.sandbox);
  let urls: { ipnUrl: string; checkoutUrl: string; stateUrl: string; stateField?: string };
  if (c.mirror) {
    const m = await startMirrorMerchant({ sandboxUrl: on.url, secret: SECRET, bugs: c.mirror, reconcileEveryMs: 100 });
    open.push(m);
    urls = { ipnUrl: m.ipnUrl, checkoutUrl: m.checkoutUrl, stateUrl: m.stateUrlTemplate, stateField: m.stateField };
  } else {
    // The sandbox's timeout ends an IPN whose answer the merchant holds back, long before the merchant lets it go.
    const holding = c.holdsAnswers ? { onHold: () => setImmediate(on.timeOut) } : {};
    const m = await startReferenceMerchant({ sandboxUrl: on.url, secret: SECRET, bugs: c.bugs ?? [], reconcileEveryMs: 100, ...holding, ...c.merchant });
    open.push(m);
    urls = { ipnUrl: m.ipnUrl, checkoutUrl: m.checkoutUrl, stateUrl: m.stateUrlTemplate };
  }
  return runContracts({ sandboxUrl: on.url, ipnSecret: SECRET, ...urls, ipnTimeoutMs: timeout, reconcileTimeoutMs: 5000, chromiumPath: null, ...c.options });
}

describe.concurrent("each merchant in the matrix fails exactly its own contracts", () => {
  it.each(Object.entries(CASES))("%s", async (_name, c) => {
    const report = await play(c);
    const text = formatText(report);
    const failed = report.checks.filter((check) => check.outcome === "failed");
    expect(failed.map((check) => check.id).sort(), text).toEqual([...c.fails].sort());
    for (const check of failed) expect(check.hint, check.id).toBeTruthy();
    expect(report.passed, text).toBe(failed.every((check) => !check.required));
    if (c.fails.length === 0) expect(report.checks.filter((check) => check.outcome !== "passed").map((check) => check.id), text).toEqual(["callback/browser"]);
    c.also?.(report);
  }, 180_000);
});

describe("a merchant that is not there", () => {
  it("is blamed for nothing: the run stops before any check, naming the URL and the network error", async () => {
    const m = await startReferenceMerchant({ sandboxUrl: normal.url, secret: SECRET });
    const urls = { ipnUrl: m.ipnUrl, checkoutUrl: m.checkoutUrl, stateUrl: m.stateUrlTemplate };
    await m.close();
    const before = normal.sandbox.store.listDeliveries().length;
    const error = await runContracts({ sandboxUrl: normal.url, ipnSecret: SECRET, ...urls, ipnTimeoutMs: TIMEOUT_MS, chromiumPath: null }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableUrl);
    expect((error as Error).message).toMatch(new RegExp(`^cannot reach --ipn-url ${urls.ipnUrl}: connect ECONNREFUSED`));
    expect(normal.sandbox.store.listDeliveries().length).toBe(before);
  });
});
