// The sandbox clock: the one source of "now" and of timers, real or virtual, so time can be bent in tests and scenarios.

import { MinQueue } from "./queue.js";

export { MinQueue };

/**
 * How sandbox time moves:
 * - `real`: with the wall clock (plus whatever `advance` added).
 * - `fast:N`: N times faster than the wall clock.
 * - `instant`: only when someone waits (`sleep`), and then at once: waits complete immediately while sandbox time
 *   jumps ahead, so timestamps stay realistic and an hour of scripted waits takes no time at all.
 * - `manual`: only through `advance` (the control API's clock/advance).
 */
export type ClockKind = "real" | "fast" | "instant" | "manual";

export const CLOCK_KINDS_HELP = "real, fast:N (N times faster), instant or manual";

export interface Timer {
  cancel(): void;
}

export interface Clock {
  readonly kind: ClockKind;
  /** For `fast`, how many times faster than the wall clock; 1 for `real`; 0 for the virtual clocks. */
  readonly speed: number;
  /** Sandbox time in Unix milliseconds. */
  now(): number;
  /** Runs `fn` once sandbox time has moved `ms` forward. It does not itself make time move. */
  setTimer(ms: number, fn: () => void): Timer;
  /**
   * Waits for `ms` of sandbox time. On `instant` it completes at once, moving time ahead (and firing the timers
   * it passes, in order); on `manual` it completes when `advance` gets there.
   */
  sleep(ms: number): Promise<void>;
  /** Moves sandbox time forward by `ms` (never backward) and runs every timer that falls due, in order. */
  advance(ms: number): void;
  /** When the earliest pending timer falls due, or null when none is pending. */
  nextTimerAt(): number | null;
  /** Cancels every pending timer (used on shutdown). */
  dispose(): void;
}

export interface ClockOptions {
  /** The sandbox time the clock starts at (default: the wall clock's now). */
  startAt?: number;
  /** The wall clock (default Date.now); tests replace it. */
  wallNow?: () => number;
}

/** Parses `real`, `fast:N`, `instant` or `manual`; returns an error message for anything else. */
export function parseClockSpec(spec: string): { ok: true; kind: ClockKind; speed: number } | { ok: false; message: string } {
  if (spec === "real") return { ok: true, kind: "real", speed: 1 };
  if (spec === "instant" || spec === "manual") return { ok: true, kind: spec, speed: 0 };
  const fast = /^fast:(\d+(?:\.\d+)?)$/.exec(spec);
  if (fast) {
    const speed = Number(fast[1]);
    if (speed >= 1 && speed <= 1_000_000) return { ok: true, kind: "fast", speed };
    return { ok: false, message: `fast:N takes N from 1 to 1000000, got ${fast[1]}` };
  }
  return { ok: false, message: `unknown clock ${JSON.stringify(spec)}; expected ${CLOCK_KINDS_HELP}` };
}

/** Makes a clock from a spec such as "real", "fast:60", "instant" or "manual". */
export function createClock(spec: string = "real", options: ClockOptions = {}): Clock {
  const parsed = parseClockSpec(spec);
  if (!parsed.ok) throw new Error(parsed.message);
  const wallNow = options.wallNow ?? Date.now;
  return createTimerClock(parsed.kind, parsed.speed, options.startAt ?? wallNow(), wallNow);
}

interface PendingTimer {
  dueAt: number;
  seq: number;
  fn: () => void;
  /** Fired or cancelled: it stays in the queue until it reaches the top, and is then skipped. */
  done: boolean;
}

/** setTimeout's longest wait; a longer one would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * One implementation for all kinds: sandbox time is `base + (wall - wallBase) × speed + offset`, with speed 0 for
 * the virtual clocks. Pending timers sit in one priority queue, earliest first. A moving clock keeps a single
 * wall-time setTimeout, for the earliest of them, rather than one per timer: every order sets an expiry timer,
 * and a heap push is far cheaper than a setTimeout.
 */
function createTimerClock(kind: ClockKind, speed: number, startAt: number, wallNow: () => number): Clock {
  const wallBase = wallNow();
  let offset = 0;
  let seq = 0;
  const queue = new MinQueue<PendingTimer>(byDueThenSeq);
  /** Timers neither fired nor cancelled. */
  let live = 0;
  const current = () => startAt + (wallNow() - wallBase) * speed + offset;
  const moving = speed > 0;

  /** The earliest live timer, dropping fired and cancelled ones from the top. */
  const peek = (): PendingTimer | undefined => {
    let top = queue.peek();
    while (top?.done) {
      queue.pop();
      top = queue.peek();
    }
    return top;
  };

  const fire = (timer: PendingTimer) => {
    timer.done = true;
    live--;
    timer.fn();
  };

  // The wall-time setTimeout of a moving clock, the sandbox time it was set for, and whether setTimeout's range cut
  // its wait short (it then fires before that time, finds nothing due, and is set again).
  let wallTimer: ReturnType<typeof setTimeout> | undefined;
  let wallTimerFor = Number.POSITIVE_INFINITY;
  let wallTimerCut = false;

  const disarm = () => {
    if (wallTimer !== undefined) clearTimeout(wallTimer);
    wallTimer = undefined;
    wallTimerFor = Number.POSITIVE_INFINITY;
  };

  /** Sets the wall-time timer for the earliest live timer (a moving clock only). */
  const arm = () => {
    if (!moving) return;
    const next = peek();
    if (next !== undefined && wallTimer !== undefined && wallTimerFor === next.dueAt) return;
    disarm();
    if (next === undefined) return;
    const wait = Math.ceil(Math.max(0, (next.dueAt - current()) / speed));
    wallTimerFor = next.dueAt;
    wallTimerCut = wait > MAX_TIMEOUT_MS;
    wallTimer = setTimeout(onWallTimer, Math.min(wait, MAX_TIMEOUT_MS));
    wallTimer.unref?.();
  };

  const onWallTimer = () => {
    // What it was set for fires now, even if the wall clock reads a hair early, as a setTimeout of its own would.
    const upTo = wallTimerCut ? current() : Math.max(current(), wallTimerFor);
    wallTimer = undefined;
    wallTimerFor = Number.POSITIVE_INFINITY;
    try {
      for (let next = peek(); next !== undefined && next.dueAt <= upTo; next = peek()) {
        queue.pop();
        fire(next);
      }
    } finally {
      arm();
    }
  };

  /** Moves time to `target` (if later), firing every timer due by then in order, each at its own moment. */
  const advanceTo = (target: number) => {
    try {
      // Timers set by a fired one join the queue, and fire in this same advance when they fall due by `target`.
      for (let next = peek(); next !== undefined && next.dueAt <= target; next = peek()) {
        queue.pop();
        if (next.dueAt > current()) offset += next.dueAt - current();
        fire(next);
      }
      if (target > current()) offset += target - current();
    } finally {
      // Time jumped: the wall-time wait to the next timer is shorter now.
      disarm();
      arm();
    }
  };

  const setTimer = (ms: number, fn: () => void): Timer => {
    const timer: PendingTimer = { dueAt: current() + Math.max(0, ms), seq: seq++, fn, done: false };
    queue.push(timer);
    live++;
    if (moving && timer.dueAt < wallTimerFor) arm();
    return {
      cancel() {
        if (timer.done) return;
        timer.done = true;
        live--;
        // Cancelled timers wait in the queue until they reach its top; drop them when they are most of it.
        if (queue.size > 64 && live < queue.size / 2) queue.keep((t) => !t.done);
      },
    };
  };

  // Instant sleeps are queued and completed one at a time, earliest first, each on a fresh turn of the event
  // loop, so that work started by one (an IPN, a scenario step) is under way before time jumps again.
  const sleepers = new MinQueue<{ dueAt: number; seq: number; resolve: () => void }>(byDueThenSeq);
  let draining = false;
  const drainSleepers = () => {
    if (draining) return;
    draining = true;
    setImmediate(() => {
      draining = false;
      const next = sleepers.pop();
      if (!next) return;
      advanceTo(next.dueAt);
      next.resolve();
      if (sleepers.size > 0) drainSleepers();
    });
  };

  return {
    kind,
    speed,
    now: current,
    setTimer,
    sleep(ms) {
      const wait = Math.max(0, ms);
      if (kind === "instant") {
        return new Promise<void>((resolve) => {
          sleepers.push({ dueAt: current() + wait, seq: seq++, resolve });
          drainSleepers();
        });
      }
      return new Promise<void>((resolve) => void setTimer(wait, resolve));
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance takes a non-negative number of ms, got ${ms}`);
      advanceTo(current() + ms);
    },
    nextTimerAt() {
      return peek()?.dueAt ?? null;
    },
    dispose() {
      disarm();
      queue.clear();
      live = 0;
    },
  };
}

function byDueThenSeq(a: { dueAt: number; seq: number }, b: { dueAt: number; seq: number }): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}
