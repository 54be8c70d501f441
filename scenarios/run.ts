// Runs scenarios end to end: an order per scenario, created through the API or the merchant's checkout, played, and judged.

import { createControlClient, createSandbox, DEFAULT_IPN_TIMEOUT_MS, DEFAULT_PORT, exampleCreateParams, type Catalog, type ControlClient, type Route } from "../sandbox/index.js";
import { checkoutOrderProblem, orderFromCheckout, type CheckoutSpec } from "./checkout.js";
import { createHttpDriver, createLocalDriver } from "./drivers.js";
import type { Scenario } from "./model.js";
import { playScenario, type ScenarioDriver, type Transcript } from "./player.js";

/** Where a virtual clock starts in `run`, so the same seed gives the same timestamps, hashes and transcript. */
export const RUN_EPOCH = Date.UTC(2026, 0, 1);

export interface RunOptions {
  scenarios: readonly Scenario[];
  /**
   * Where IPNs go: the ipnUrl of the orders `run` creates itself (required then). With `checkout`, optional: the
   * ipnUrl the checkout's orders must carry, so that several runs may share a sandbox.
   */
  ipnUrl?: string;
  /** The ipnSecret of the orders `run` creates itself (required then); not with `checkout`, whose orders carry the merchant's own. */
  ipnSecret?: string;
  /** Create each scenario's order through the merchant's checkout instead, so that the merchant knows it. */
  checkout?: CheckoutSpec;
  /** With `checkout` and no `sandboxUrl`: where the in-process sandbox listens for the merchant (default DEFAULT_PORT; 0: a free port). */
  sandboxPort?: number;
  /** A running sandbox to use instead of an in-process one. */
  sandboxUrl?: string;
  /** The running sandbox's --admin-token, if it has one. */
  adminToken?: string;
  /** Seeds the in-process sandbox's ids (see SandboxOptions.seed); without it the sandbox draws its own. */
  seed?: number;
  /** Clock spec for the in-process sandbox (default "instant"). */
  clock?: string;
  /** Where that clock starts, Unix ms (default: RUN_EPOCH on the instant and manual clocks, else now). */
  startAt?: number;
  ipnTimeoutMs?: number;
  ipnHashField?: string;
  signal?: AbortSignal;
  /** Called with each transcript as soon as its scenario ends. */
  onTranscript?: (transcript: Transcript) => void;
}

const DEFAULT_ROUTE = "ETH>WMZ";

/** Where the in-process sandbox listens for a merchant's checkout by default: where verify's does. */
export const DEFAULT_RUN_SANDBOX_PORT = DEFAULT_PORT;

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

/** Refuses options that cannot make orders: both an ipnUrl and an ipnSecret without a checkout, no ipnSecret with one. */
function assertRunOptions(options: RunOptions): void {
  if (options.checkout) {
    if (options.ipnSecret !== undefined) {
      throw new TypeError("runScenarios: ipnSecret goes with the orders run creates itself; with checkout, the merchant passes its own to order/create");
    }
  } else if (options.ipnUrl === undefined || options.ipnSecret === undefined) {
    throw new TypeError("runScenarios needs ipnUrl and ipnSecret for the orders it creates, or checkout to have the merchant create them");
  }
  if (options.sandboxPort !== undefined && (!options.checkout || options.sandboxUrl)) {
    throw new TypeError("runScenarios: sandboxPort is where the in-process sandbox listens for a checkout; it goes with checkout and without sandboxUrl");
  }
}

/** Plays each scenario on an order of its own, one after another (so the transcript is deterministic). */
export async function runScenarios(options: RunOptions): Promise<Transcript[]> {
  assertRunOptions(options);
  const transcripts: Transcript[] = [];
  const ipnTimeoutMs = options.ipnTimeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  const playOptions = { mode: "auto" as const, ipnTimeoutMs, ...(options.signal ? { signal: options.signal } : {}) };

  /** Plays the scenarios on orders from `newOrder`, through `driver`. */
  const playAll = async (driver: ScenarioDriver, newOrder: (scenario: Scenario) => Promise<number>) => {
    for (const scenario of options.scenarios) {
      if (options.signal?.aborted) break;
      const uid = await newOrder(scenario);
      if (options.checkout) {
        const problem = checkoutOrderProblem(scenario, await driver.order(uid));
        if (problem) throw new Error(problem);
      }
      const played = await playScenario(scenario, uid, driver, playOptions);
      const transcript = options.checkout ? { ...played, order: { ...played.order, via: "checkout" as const } } : played;
      transcripts.push(transcript);
      options.onTranscript?.(transcript);
    }
  };
  const fromCheckout = (client: ControlClient) => () =>
    orderFromCheckout(client, options.checkout!, { ipnUrl: options.ipnUrl ?? null, ipnTimeoutMs });

  if (options.sandboxUrl) {
    const client = createControlClient(options.sandboxUrl, options.adminToken ? { adminToken: options.adminToken } : {});
    const routes = options.checkout ? [] : await client.routes();
    await playAll(
      createHttpDriver(client),
      options.checkout ? fromCheckout(client) : async (scenario) => (await client.createOrder(createParams(pickRoute(routes, scenario.route), scenario, options))).uid,
    );
    return transcripts;
  }

  const clock = options.clock ?? "instant";
  const sandbox = createSandbox({
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    clock,
    ...(clock === "instant" || clock === "manual" ? { startAt: options.startAt ?? RUN_EPOCH } : options.startAt === undefined ? {} : { startAt: options.startAt }),
    ipnTimeoutMs,
    ...(options.ipnHashField ? { ipnHashField: options.ipnHashField } : {}),
  });
  try {
    // The merchant's backend reaches the sandbox over HTTP; the player still drives it directly.
    const client = options.checkout ? createControlClient((await sandbox.listen(options.sandboxPort ?? DEFAULT_RUN_SANDBOX_PORT)).url) : null;
    await playAll(createLocalDriver(sandbox), client ? fromCheckout(client) : (scenario) => createThroughApi(sandbox.app, sandbox.catalog, scenario, options));
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
