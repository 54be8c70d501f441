// Runs scenarios end to end: an order per scenario, created through the API, played, and judged.

import { createControlClient, createSandbox, DEFAULT_IPN_TIMEOUT_MS, exampleCreateParams, type Catalog, type Route } from "../sandbox/index.js";
import { createHttpDriver, createLocalDriver } from "./drivers.js";
import type { Scenario } from "./model.js";
import { playScenario, type Transcript } from "./player.js";

/** Where a virtual clock starts in `run`, so the same seed gives the same timestamps, hashes and transcript. */
export const RUN_EPOCH = Date.UTC(2026, 0, 1);

export interface RunOptions {
  scenarios: readonly Scenario[];
  ipnUrl: string;
  ipnSecret: string;
  /** A running sandbox to use instead of an in-process one. */
  sandboxUrl?: string;
  /** The running sandbox's --admin-token, if it has one. */
  adminToken?: string;
  /** Seeds the in-process sandbox's ids (see SandboxOptions.seed); without it the sandbox draws its own. */
  seed?: number;
  /** Clock spec for the in-process sandbox (default "instant"). */
  clock?: string;
  startAt?: number;
  ipnTimeoutMs?: number;
  ipnHashField?: string;
  signal?: AbortSignal;
  /** Called with each transcript as soon as its scenario ends. */
  onTranscript?: (transcript: Transcript) => void;
}

const DEFAULT_ROUTE = "ETH>WMZ";

export function pickRoute(routes: readonly Route[], spec: string | undefined): Route {
  const [from, to] = (spec ?? DEFAULT_ROUTE).split(">");
  const route = routes.find((r) => r.from.xml === from && r.to.xml === to);
  if (!route) {
    throw new Error(`no ${from} → ${to} route in the catalogue; the routes are ${routes.map((r) => `${r.from.xml}>${r.to.xml}`).join(", ")}`);
  }
  return route;
}

function createParams(route: Route, scenario: Scenario, options: RunOptions) {
  return exampleCreateParams(route, {
    ipnUrl: options.ipnUrl,
    ipnSecret: options.ipnSecret,
    ...(scenario.amount ? { amount: scenario.amount } : {}),
  });
}

/** Plays each scenario on an order of its own, one after another (so the transcript is deterministic). */
export async function runScenarios(options: RunOptions): Promise<Transcript[]> {
  const transcripts: Transcript[] = [];
  const ipnTimeoutMs = options.ipnTimeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  const done = (t: Transcript) => {
    transcripts.push(t);
    options.onTranscript?.(t);
  };

  if (options.sandboxUrl) {
    const client = createControlClient(options.sandboxUrl, options.adminToken ? { adminToken: options.adminToken } : {});
    const driver = createHttpDriver(client);
    const routes = await client.routes();
    for (const scenario of options.scenarios) {
      if (options.signal?.aborted) break;
      const { uid } = await client.createOrder(createParams(pickRoute(routes, scenario.route), scenario, options));
      done(await playScenario(scenario, uid, driver, { mode: "auto", ipnTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }));
    }
    return transcripts;
  }

  const clock = options.clock ?? "instant";
  const sandbox = createSandbox({
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    clock,
    ...(clock === "instant" || clock === "manual" ? { startAt: options.startAt ?? RUN_EPOCH } : {}),
    ipnTimeoutMs,
    ...(options.ipnHashField ? { ipnHashField: options.ipnHashField } : {}),
  });
  try {
    const driver = createLocalDriver(sandbox);
    for (const scenario of options.scenarios) {
      if (options.signal?.aborted) break;
      const uid = await createThroughApi(sandbox.app, sandbox.catalog, scenario, options);
      done(await playScenario(scenario, uid, driver, { mode: "auto", ipnTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) }));
    }
  } finally {
    await sandbox.close();
  }
  return transcripts;
}

async function createThroughApi(app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, catalog: Catalog, scenario: Scenario, options: RunOptions): Promise<number> {
  const route = pickRoute(catalog.routes, scenario.route);
  const res = await app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    body: JSON.stringify(createParams(route, scenario, options)),
    headers: { "content-type": "application/json" },
  });
  const json = (await res.json()) as { success: boolean; data?: { uid: number }; error?: { message: string } };
  if (!json.success || !json.data) throw new Error(`order/create failed for scenario ${scenario.name}: ${json.error?.message}`);
  return json.data.uid;
}
