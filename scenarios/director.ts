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

    // Each play's progress is kept in the store, so a sandbox with --data picks unfinished plays up after a restart.
    const metaKey = (order: Order) => `play:${order._id}`;
    const persist = (order: Order, play: Play, progress: { step: number; startedAt: number } | null) =>
      parts.store.setMeta(metaKey(order), { uid: order.uid, ...play, progress });

    const start = (order: Order, scenario: Scenario, mode: PlayMode, resume?: { step: number; startedAt: number }) => {
      const play: Play = { scenario: scenario.name, mode, state: "running", transcript: null };
      plays.set(order._id, play);
      parts.logger.log({ type: "info", message: `scenario ${scenario.name} ${resume ? `resumes at step ${resume.step}` : "plays"} on order ${order.uid}` });
      persist(order, play, resume ?? { step: 0, startedAt: parts.clock.now() });
      playScenario(scenario, order.uid, driver, {
        mode,
        ipnTimeoutMs: options.ipnTimeoutMs,
        signal: stop.signal,
        onStep: (step, startedAt) => {
          if (!stop.signal.aborted && parts.store.getOrder(order.uid)?._id === order._id) persist(order, play, { step, startedAt });
        },
        ...(resume ? { resume } : {}),
      }).then(
        (transcript) => {
          // A play cut short by shutdown stays "running" in the store, to be resumed on the next start.
          if (stop.signal.aborted) return;
          play.transcript = transcript;
          play.state = transcript.passed ? "passed" : "failed";
          if (parts.store.getOrder(order.uid)?._id === order._id) persist(order, play, null);
          parts.logger.log({ type: "info", message: formatTranscriptText(transcript, { timings: true }).trimEnd() });
        },
        (error: unknown) => {
          play.state = "failed";
          parts.logger.log({ type: "info", message: `scenario ${scenario.name} on order ${order.uid} stopped: ${(error as Error).message}` });
        },
      );
    };

    // Plays the store remembers: finished ones are shown again, unfinished ones go on from the step they were at.
    for (const [key, value] of parts.store.listMeta("play:")) {
      const saved = value as Play & { uid: number; progress: { step: number; startedAt: number } | null };
      const order = parts.store.getOrder(saved.uid);
      const scenario = options.library.find((s) => s.name === saved.scenario);
      if (!order || `play:${order._id}` !== key) continue;
      if (saved.state === "running" && scenario && saved.progress) start(order, scenario, saved.mode, saved.progress);
      else plays.set(order._id, { scenario: saved.scenario, mode: saved.mode, state: saved.state, transcript: saved.transcript });
    }

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
