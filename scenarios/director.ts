// The scenario engine inside a running sandbox: plays a script on every new order, or on the one that asks for it.

import { Hono } from "hono";
import type { Order, SandboxExtension, SandboxParts } from "../sandbox/index.js";
import { createLocalDriver } from "./drivers.js";
import type { Scenario } from "./model.js";
import { playScenario, type PlayMode, type Transcript } from "./player.js";
import { formatTranscriptText } from "./transcript.js";

export interface DirectorOptions {
  library: readonly Scenario[];
  /** Played on every new order that does not pick its own (start --scenario). */
  defaultScenario?: Scenario;
  ipnTimeoutMs: number;
}

interface Play {
  scenario: string;
  mode: PlayMode;
  state: "running" | "passed" | "failed";
  transcript: Transcript | null;
}

/**
 * The "magic" values: an order whose email (or any requisite) has `+<scenario>@`, like
 * `buyer+payout-error@example.com`, plays that scenario, without any change to the merchant's code.
 */
export function scenarioFromOrder(order: Order, library: readonly Scenario[]): Scenario | undefined {
  for (const value of [...order.routeValues, ...order.fromValues, ...order.toValues]) {
    const match = /\+([a-z0-9-]+)@/i.exec(value.value);
    const found = match && library.find((s) => s.name === match[1]!.toLowerCase());
    if (found) return found;
  }
  return undefined;
}

export function scenarioDirector(options: DirectorOptions): SandboxExtension {
  return (parts: SandboxParts) => {
    const plays = new Map<string, Play>();
    const stop = new AbortController();
    const driver = createLocalDriver(parts);

    const start = (order: Order, scenario: Scenario, mode: PlayMode) => {
      const play: Play = { scenario: scenario.name, mode, state: "running", transcript: null };
      plays.set(order._id, play);
      parts.logger.log({ type: "info", message: `scenario ${scenario.name} plays on order ${order.uid}` });
      playScenario(scenario, order.uid, driver, { mode, ipnTimeoutMs: options.ipnTimeoutMs, signal: stop.signal }).then(
        (transcript) => {
          play.transcript = transcript;
          play.state = transcript.passed ? "passed" : "failed";
          parts.logger.log({ type: "info", message: formatTranscriptText(transcript, { timings: true }).trimEnd() });
        },
        (error: unknown) => {
          play.state = "failed";
          parts.logger.log({ type: "info", message: `scenario ${scenario.name} on order ${order.uid} stopped: ${(error as Error).message}` });
        },
      );
    };

    const unsubscribe = parts.orders.subscribe((event) => {
      if (event.type !== "created") return;
      const scenario = scenarioFromOrder(event.order, options.library) ?? options.defaultScenario;
      if (scenario) start(event.order, scenario, "interactive");
    });
    parts.store.subscribe((change) => {
      if (change.kind === "reset") plays.clear();
    });

    const routes = new Hono();
    routes.get("/scenarios", (c) => c.json({ scenarios: options.library.map(({ name, description }) => ({ name, description })), default: options.defaultScenario?.name ?? null }));
    routes.get("/orders/:uid{[0-9]+}/scenario", (c) => {
      const order = parts.store.getOrder(Number(c.req.param("uid")));
      if (!order) return c.json({ error: { type: "not_found", message: `No order ${c.req.param("uid")}` } }, 404);
      const play = plays.get(order._id);
      if (!play) return c.json({ error: { type: "not_found", message: `No scenario plays on order ${order.uid}` } }, 404);
      return c.json(play);
    });
    routes.post("/orders/:uid{[0-9]+}/scenario", async (c) => {
      const order = parts.store.getOrder(Number(c.req.param("uid")));
      if (!order) return c.json({ error: { type: "not_found", message: `No order ${c.req.param("uid")}` } }, 404);
      const body = (await c.req.json().catch(() => null)) as { name?: unknown; mode?: unknown } | null;
      const scenario = options.library.find((s) => s.name === body?.name);
      if (!scenario) {
        return c.json({ error: { type: "bad_request", message: `name: unknown scenario ${JSON.stringify(body?.name ?? null)}; expected one of ${options.library.map((s) => s.name).join(", ")}` } }, 400);
      }
      const mode = body?.mode ?? "auto";
      if (mode !== "auto" && mode !== "interactive") {
        return c.json({ error: { type: "bad_request", message: `mode: expected auto or interactive, got ${JSON.stringify(mode)}` } }, 400);
      }
      if (plays.get(order._id)?.state === "running") {
        return c.json({ error: { type: "conflict", message: `Scenario ${plays.get(order._id)!.scenario} is already playing on order ${order.uid}` } }, 409);
      }
      start(order, scenario, mode);
      return c.json({ uid: order.uid, scenario: scenario.name, mode, state: "running" }, 202);
    });

    return {
      routes,
      close() {
        stop.abort();
        unsubscribe();
      },
    };
  };
}
