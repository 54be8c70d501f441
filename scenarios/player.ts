// Plays a scenario on one order through a driver, and writes down everything that happened: the transcript.

import type { DeliveryRecord, FaultSpec, HistoryEntry, OrderStatus } from "../sandbox/index.js";
import { parseDuration, stepAction, type Expectation, type Scenario, type Step, type WaitEvent } from "./model.js";

/** The little an order must show to be played and reported. */
export interface DriverOrder {
  uid: number;
  status: OrderStatus;
  history: HistoryEntry[];
  createdAt: number;
  inAmount: string;
  outAmount: string;
  route: { from: { xml: string }; to: { xml: string } };
  /** How many times the merchant has read it through order/get. */
  reads: number;
}

/** How a player reaches a sandbox: in-process, or over HTTP. */
export interface ScenarioDriver {
  now(): Promise<number>;
  order(uid: number): Promise<DriverOrder>;
  deliveries(uid: number): Promise<DeliveryRecord[]>;
  /** Moves the order, forced when the table would not allow it, and fires its IPN with the fault. */
  move(uid: number, status: OrderStatus, fault: FaultSpec | undefined, cause: string): Promise<void>;
  /** The client pays. */
  pay(uid: number, fault: FaultSpec | undefined, cause: string): Promise<void>;
  /** Lets `ms` of sandbox time pass. */
  sleep(ms: number): Promise<void>;
  /**
   * Waits until none of the order's IPNs is in flight. With `flushHeld`, also lets sandbox time reach every IPN
   * held back by a delay, dropOnce or reorder fault, so that it is sent. Gives up after `timeoutMs` of wall time.
   */
  settle(uid: number, options: { flushHeld: boolean; timeoutMs: number }): Promise<void>;
}

export type PlayMode =
  /** The player does everything itself: `pay` steps pay. For `run`. */
  | "auto"
  /** Someone outside is there: a `pay` step waits for the client to pay (page, dashboard or update-status). */
  | "interactive";

export type TranscriptEvent =
  | { at: number; kind: "status"; from: OrderStatus | null; to: OrderStatus; cause: string; forced: boolean }
  | {
      at: number;
      kind: "ipn";
      id: string;
      status: string;
      fault: string;
      faultDetail: string | null;
      outcome: string;
      responseStatus: number | null;
      latencyMs: number | null;
      error: string | null;
    }
  | { at: number; kind: "wait"; ms: number }
  | { at: number; kind: "waitFor"; event: WaitEvent; happened: boolean; timeoutMs: number }
  | { at: number; kind: "expect"; step: number; expectation: Expectation; ok: boolean; detail: string }
  | { at: number; kind: "error"; step: number; message: string }
  /** The play was picked up again after a restart, from this step. */
  | { at: number; kind: "resumed"; step: number };

export interface Transcript {
  scenario: string;
  description: string;
  /** `via: "checkout"` when the merchant's own checkout created the order (run --checkout-url). */
  order: { uid: number; route: string; inAmount: string; outAmount: string; via?: "checkout" };
  events: TranscriptEvent[];
  /** Every expectation held and no step failed. */
  passed: boolean;
}

export interface PlayOptions {
  mode: PlayMode;
  /** The sandbox's IPN timeout: how long settling may take. */
  ipnTimeoutMs: number;
  /** Stops the play between steps (e.g. when the sandbox shuts down). */
  signal?: AbortSignal;
  /** Called as each step begins, with the sandbox time, so a durable host can resume the play after a restart. */
  onStep?: (index: number, startedAt: number) => void;
  /** Resume from this step (after a restart): the steps before it already ran. */
  resume?: { step: number; startedAt: number };
}

const DEFAULT_WAIT_FOR_TIMEOUT_MS = 30_000;
const POLL_MS = 25;
const MAX_POLL_MS = 500;

export async function playScenario(scenario: Scenario, uid: number, driver: ScenarioDriver, options: PlayOptions): Promise<Transcript> {
  const start = await driver.order(uid);
  const origin = start.createdAt;
  const events: TranscriptEvent[] = [];
  const seenDeliveries = new Set<string>();
  const stepRecords: string[][] = [];
  let seenHistory = 0;
  const cause = `scenario:${scenario.name}`;
  const settleTimeout = options.ipnTimeoutMs + 5_000;

  /** Notes the history entries and deliveries that are new since last time; returns the new deliveries' ids. */
  const collect = async (): Promise<string[]> => {
    const order = await driver.order(uid);
    for (const entry of order.history.slice(seenHistory)) {
      events.push({ at: entry.at - origin, kind: "status", from: entry.from, to: entry.to, cause: entry.cause, forced: entry.forced });
    }
    seenHistory = order.history.length;
    const fresh: string[] = [];
    for (const record of await driver.deliveries(uid)) {
      if (seenDeliveries.has(record.id)) continue;
      seenDeliveries.add(record.id);
      fresh.push(record.id);
      events.push(ipnEvent(record, (await driver.now()) - origin));
    }
    return fresh;
  };

  await collect();
  let failed = false;
  const expectations: { step: number; expectation: Expectation; records: () => string[] }[] = [];
  const readsAt: number[] = [];

  if (options.resume) events.push({ at: (await driver.now()) - origin, kind: "resumed", step: options.resume.step });
  for (const [index, step] of scenario.steps.entries()) {
    if (options.resume && index < options.resume.step) continue;
    if (options.signal?.aborted) break;
    const resumedHere = options.resume?.step === index ? options.resume.startedAt : null;
    options.onStep?.(index, resumedHere ?? (await driver.now()));
    readsAt[index] = (await driver.order(uid)).reads;
    try {
      const outcome = await runStep(step, index);
      if (outcome === "stop") break;
    } catch (error) {
      events.push({ at: (await driver.now()) - origin, kind: "error", step: index, message: error instanceof Error ? error.message : String(error) });
      failed = true;
      break;
    }
    stepRecords[index] = await collect();

    async function runStep(current: Step, i: number): Promise<"next" | "stop"> {
      switch (stepAction(current)) {
        case "move": {
          const move = current as Extract<Step, { move: OrderStatus }>;
          // Resumed after a restart on a move that had already happened: do not make it twice.
          const alreadyThere = resumedHere !== null && (await driver.order(uid)).status === move.move;
          if (!alreadyThere) await driver.move(uid, move.move, move.fault, cause);
          // The move is made: a restart from here goes on with the next step, never makes this move again.
          options.onStep?.(i + 1, await driver.now());
          await driver.settle(uid, { flushHeld: false, timeoutMs: settleTimeout });
          if (move.expect) expectations.push({ step: i, expectation: move.expect, records: () => stepRecords[i] ?? [] });
          return "next";
        }
        case "pay": {
          const pay = current as Extract<Step, { pay: true }>;
          if (options.mode === "auto") {
            await driver.pay(uid, pay.fault, cause);
            options.onStep?.(i + 1, await driver.now());
          } else {
            const paid = await waitUntil(async () => {
              const order = await driver.order(uid);
              return order.status !== "new" && order.status !== "waitPayment";
            }, Number.POSITIVE_INFINITY);
            if (!paid) return "stop";
            const order = await driver.order(uid);
            if (order.status === "deleted") {
              events.push({ at: (await driver.now()) - origin, kind: "error", step: i, message: "the order was deleted (expired or cancelled) before the client paid" });
              failed = true;
              return "stop";
            }
          }
          await driver.settle(uid, { flushHeld: false, timeoutMs: settleTimeout });
          if (pay.expect) expectations.push({ step: i, expectation: pay.expect, records: () => stepRecords[i] ?? [] });
          return "next";
        }
        case "wait": {
          const wait = current as Extract<Step, { wait: unknown }>;
          // A wait cut short by a restart only waits for what is left of it.
          const now = await driver.now();
          const ms = Math.max(0, durationMs(wait.wait) - (resumedHere === null ? 0 : now - resumedHere));
          events.push({ at: now - origin, kind: "wait", ms });
          await driver.sleep(ms);
          await driver.settle(uid, { flushHeld: false, timeoutMs: settleTimeout });
          return "next";
        }
        case "waitFor": {
          const waitFor = current as Extract<Step, { waitFor: WaitEvent }>;
          const timeoutMs = waitFor.timeout === undefined ? DEFAULT_WAIT_FOR_TIMEOUT_MS : durationMs(waitFor.timeout);
          const happened = await waitUntil(async () => {
            const order = await driver.order(uid);
            // A read counts from the start of the previous step: the one whose IPN the merchant may have missed.
            if (waitFor.waitFor === "orderGet") return order.reads > (readsAt[Math.max(0, i - 1)] ?? 0);
            return order.status !== "new" && order.status !== "waitPayment";
          }, timeoutMs);
          events.push({ at: (await driver.now()) - origin, kind: "waitFor", event: waitFor.waitFor, happened, timeoutMs });
          if (!happened) failed = true;
          return "next";
        }
        case "expect": {
          const expect = current as Extract<Step, { expect: Expectation }>;
          // A step of its own checks what the previous step caused (e.g. the IPN expiry sent during a wait).
          expectations.push({ step: i, expectation: expect.expect, records: () => stepRecords[i - 1] ?? [] });
          return "next";
        }
      }
    }
  }

  // Let every held IPN go out and every answer come back before judging (unless the host is shutting down).
  if (!options.signal?.aborted) await driver.settle(uid, { flushHeld: true, timeoutMs: settleTimeout * 4 });
  await collect();
  const final = new Map((await driver.deliveries(uid)).map((r) => [r.id, r]));
  for (const [i, event] of events.entries()) {
    if (event.kind === "ipn") {
      const record = final.get(event.id);
      if (record) events[i] = ipnEvent(record, record.sentAt === null || record.sentAt === undefined ? event.at : record.sentAt - origin);
    }
  }
  const now = (await driver.now()) - origin;
  for (const { step, expectation, records } of expectations) {
    const judged = judge(expectation, records().map((id) => final.get(id)).filter((r): r is DeliveryRecord => r !== undefined));
    events.push({ at: now, kind: "expect", step, expectation, ok: judged.ok, detail: judged.detail });
    if (!judged.ok) failed = true;
  }

  const order = await driver.order(uid);
  return {
    scenario: scenario.name,
    description: scenario.description,
    order: { uid, route: `${order.route.from.xml}>${order.route.to.xml}`, inAmount: order.inAmount, outAmount: order.outAmount },
    events: sortEvents(events),
    passed: !failed,
  };

  async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    // Quick at first, then gently slower: a client may take minutes to pay, and many orders may be waiting.
    let pause = POLL_MS;
    for (;;) {
      if (await condition()) return true;
      if (options.signal?.aborted || performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - performance.now()))));
      pause = Math.min(MAX_POLL_MS, Math.round(pause * 1.5));
    }
  }
}

function durationMs(value: unknown): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.ms;
}

function ipnEvent(record: DeliveryRecord, at: number): TranscriptEvent {
  return {
    at,
    kind: "ipn",
    id: record.id,
    status: record.status,
    fault: record.fault,
    faultDetail: record.faultDetail ?? null,
    outcome: record.outcome,
    responseStatus: record.response?.status ?? null,
    latencyMs: record.latencyMs,
    error: record.error,
  };
}

/** Judges the answers to a step's IPNs; IPNs deliberately not sent (dropped) are not judged. */
export function judge(expectation: Expectation, records: DeliveryRecord[]): { ok: boolean; detail: string } {
  const sent = records.filter((r) => r.outcome !== "dropped");
  if (sent.length === 0) return { ok: false, detail: "no IPN was sent to judge" };
  const describe = (r: DeliveryRecord) => `${r.id} ${r.response ? `answered ${r.response.status}` : r.outcome === "timeout" ? "timed out" : `${r.outcome}${r.error ? ` (${r.error})` : ""}`}`;
  const test = (r: DeliveryRecord): boolean => {
    const status = r.response?.status;
    switch (expectation) {
      case "accepted":
        return r.outcome === "accepted";
      case "rejected":
        return status !== undefined && status >= 400 && status < 500;
      case "answered":
        return status !== undefined && status < 500;
    }
  };
  const bad = sent.filter((r) => !test(r));
  return bad.length === 0 ? { ok: true, detail: sent.map(describe).join(", ") } : { ok: false, detail: bad.map(describe).join(", ") };
}

/** Events in time order; at the same moment, in the order they were written. */
function sortEvents(events: TranscriptEvent[]): TranscriptEvent[] {
  return events.map((event, i) => ({ event, i })).sort((a, b) => a.event.at - b.event.at || a.i - b.i).map(({ event }) => event);
}
