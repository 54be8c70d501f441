// Runs the contracts against a merchant: reaches its URLs, then plays each contract group in turn and collects verdicts.

import { ControlClientError, createControlClient, createSandbox, DEFAULT_IPN_HASH_FIELD, DEFAULT_IPN_TIMEOUT_MS, DEFAULT_PORT, type Sandbox } from "../sandbox/index.js";
import { CONTRACTS, runValid } from "./checks/index.js";
import type { Context } from "./context.js";
import { SetupError } from "./errors.js";
import { merchant as createMerchant } from "./merchant.js";
import type { CheckResult, ContractGroup, Report } from "./model.js";
import { reachAll, type Target } from "./reach.js";

export interface ContractOptions {
  ipnUrl: string;
  ipnSecret: string;
  /** Where the kit's own sandbox listens (default DEFAULT_PORT); ignored with `sandboxUrl`. */
  sandboxPort?: number;
  /** The seed of the kit's own sandbox (its routes, ids and amounts); ignored with `sandboxUrl`. */
  seed?: number;
  /** A sandbox that is already running. */
  sandboxUrl?: string;
  /** That sandbox's --admin-token, if it has one. */
  adminToken?: string;
  checkoutUrl?: string;
  checkoutBody?: unknown;
  stateUrl?: string;
  stateField?: string;
  callbackUrl?: string;
  /** The sandbox's IPN timeout, which the merchant's answers must beat (default 10 000 ms). */
  ipnTimeoutMs?: number;
  ipnHashField?: string;
  /** Make the lost-IPN contract required. */
  requireReconcile?: boolean;
  /** How long the merchant has to find a lost IPN's status through order/get (default 15 s). */
  reconcileTimeoutMs?: number;
  /** Chromium for the return-page walk; null skips it (not judged). Default: CHROMIUM_PATH or /usr/bin/chromium. */
  chromiumPath?: string | null;
  /** Only these groups (default all). */
  only?: readonly ContractGroup[];
  /** Called as each check is judged. */
  onCheck?: (check: CheckResult) => void;
}

/** How long the merchant's checkout, state view and return page may take to answer (at least). */
const PAGE_TIMEOUT_MS = 10_000;

/** How long a URL may take to accept a connection before the run stops as unreachable. */
const REACH_TIMEOUT_MS = 10_000;

/**
 * Plays every contract (or those in `only`) and returns the report. Throws SetupError when the run cannot start:
 * the sandbox does not answer, or a URL given cannot be reached (UnreachableUrl, naming it).
 */
export async function runContracts(options: ContractOptions): Promise<Report> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const ipnTimeoutMs = options.ipnTimeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;

  // Nothing is judged before every URL answers a connection: an absent merchant is not blamed for bugs.
  const targets: Target[] = [
    { flag: "--ipn-url", url: options.ipnUrl },
    ...(options.checkoutUrl ? [{ flag: "--checkout-url", url: options.checkoutUrl }] : []),
    ...(options.stateUrl ? [{ flag: "--state-url", url: options.stateUrl.replaceAll("{orderId}", "x").replaceAll("{orderUID}", "1"), given: options.stateUrl }] : []),
    ...(options.callbackUrl ? [{ flag: "--callback-url", url: options.callbackUrl }] : []),
  ];
  await reachAll(targets, Math.max(REACH_TIMEOUT_MS, ipnTimeoutMs));

  let own: Sandbox | null = null;
  let base = options.sandboxUrl;
  if (!base) {
    own = createSandbox({
      ipnTimeoutMs,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.ipnHashField ? { ipnHashField: options.ipnHashField } : {}),
    });
    base = (await own.listen(options.sandboxPort ?? DEFAULT_PORT)).url;
  }
  const client = createControlClient(base, options.adminToken ? { adminToken: options.adminToken } : {});
  const checks: CheckResult[] = [];
  let ctx: Context | null = null;
  let health: { version: string; seed?: number } | null = null;
  try {
    health = await client.health().catch((error: unknown) => {
      throw error instanceof ControlClientError ? new SetupError(error.message) : error;
    });
    ctx = {
      client,
      merchant: createMerchant(
        {
          ipnUrl: options.ipnUrl,
          checkoutUrl: options.checkoutUrl ?? null,
          checkoutBody: options.checkoutBody ?? {},
          stateUrl: options.stateUrl ?? null,
          stateField: options.stateField ?? "status",
          timeoutMs: Math.max(PAGE_TIMEOUT_MS, ipnTimeoutMs),
        },
        client,
      ),
      options: {
        ipnUrl: options.ipnUrl,
        ipnSecret: options.ipnSecret,
        ipnTimeoutMs,
        ipnHashField: options.ipnHashField ?? DEFAULT_IPN_HASH_FIELD,
        callbackUrl: options.callbackUrl ?? null,
        requireReconcile: options.requireReconcile ?? false,
        reconcileTimeoutMs: options.reconcileTimeoutMs ?? 15_000,
        chromiumPath: options.chromiumPath,
      },
      learned: null,
      doneOrder: null,
      acceptsValid: null,
      crashesOnValid: false,
      sent: [],
      probes: 0,
    };
    const wanted = (group: ContractGroup) => !options.only || options.only.includes(group);
    const record = (check: CheckResult) => {
      checks.push(check);
      options.onCheck?.(check);
    };
    const play = async (group: ContractGroup, run: (ctx: Context) => Promise<CheckResult[]>) => {
      try {
        for (const check of await run(ctx!)) if (wanted(group)) record(check);
      } catch (error) {
        // A checkout that fails half-way, or a sandbox that stops answering: the group could not be played.
        if (!(error instanceof SetupError) && !(error instanceof ControlClientError)) throw error;
        if (wanted(group)) record(setupFailure(group, error.message));
      }
    };
    // The valid path runs first even when not asked for: every other judgment builds on it.
    await play("signature", runValid);
    for (const contract of CONTRACTS) if (wanted(contract.group)) await play(contract.group, contract.run);
  } finally {
    await own?.close();
  }
  return {
    passed: checks.every((c) => c.outcome !== "failed" || !c.required),
    checks,
    setup: {
      sandboxUrl: base,
      sandboxVersion: health?.version ?? null,
      seed: typeof health?.seed === "number" ? health.seed : null,
      ipnUrl: options.ipnUrl,
      checkoutUrl: options.checkoutUrl ?? null,
      stateUrl: options.stateUrl ?? null,
      callbackUrl: options.callbackUrl ?? null,
      ipnTimeoutMs,
    },
    learned: ctx?.learned ?? null,
    startedAt,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The result for a group that could not be set up: not a contract of its own, but it fails the run. */
function setupFailure(group: ContractGroup, message: string): CheckResult {
  return {
    id: `${group}/setup`,
    group,
    title: `the ${group} contract could be set up`,
    required: true,
    outcome: "failed",
    evidence: [message],
    hint: "Fix the setup problem above, then run again.",
    durationMs: 0,
  };
}
