// The sandbox clock: the one source of "now" and of timers, real or virtual, so time can be bent in tests and scenarios.

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
  handle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * One implementation for all kinds: sandbox time is `base + (wall - wallBase) × speed + offset`, with speed 0 for
 * the virtual clocks. Timers are kept in one ordered set; on moving clocks each also has a wall-time setTimeout.
 */
function createTimerClock(kind: ClockKind, speed: number, startAt: number, wallNow: () => number): Clock {
  const wallBase = wallNow();
  let offset = 0;
  let seq = 0;
  const pending = new Set<PendingTimer>();
  const current = () => startAt + (wallNow() - wallBase) * speed + offset;
  const moving = speed > 0;

  const ordered = () => [...pending].sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);

  const fire = (timer: PendingTimer) => {
    if (!pending.delete(timer)) return;
    if (timer.handle !== undefined) clearTimeout(timer.handle);
    timer.fn();
  };

  const arm = (timer: PendingTimer) => {
    if (!moving) return;
    if (timer.handle !== undefined) clearTimeout(timer.handle);
    const wait = Math.max(0, (timer.dueAt - current()) / speed);
    timer.handle = setTimeout(() => fire(timer), Math.ceil(wait));
    timer.handle.unref?.();
  };

  /** Moves time to `target` (if later), firing every timer due by then in order, each at its own moment. */
  const advanceTo = (target: number) => {
    let queue = ordered();
    let seen = seq;
    for (;;) {
      // Re-sort only when a fired timer set new ones.
      if (seq !== seen) {
        queue = ordered();
        seen = seq;
      }
      const next = queue.shift();
      if (!next) break;
      if (!pending.has(next)) continue;
      if (next.dueAt > target) break;
      if (next.dueAt > current()) offset += next.dueAt - current();
      fire(next);
    }
    if (target > current()) offset += target - current();
    for (const timer of pending) arm(timer);
  };

  const setTimer = (ms: number, fn: () => void): Timer => {
    const timer: PendingTimer = { dueAt: current() + Math.max(0, ms), seq: seq++, fn, handle: undefined };
    pending.add(timer);
    arm(timer);
    return {
      cancel() {
        if (timer.handle !== undefined) clearTimeout(timer.handle);
        pending.delete(timer);
      },
    };
  };

  // Instant sleeps are queued and completed one at a time, earliest first, each on a fresh turn of the event
  // loop, so that work started by one (an IPN, a scenario step) is under way before time jumps again.
  const sleepers: { target: number; seq: number; resolve: () => void }[] = [];
  let draining = false;
  const drainSleepers = () => {
    if (draining) return;
    draining = true;
    setImmediate(() => {
      draining = false;
      sleepers.sort((a, b) => a.target - b.target || a.seq - b.seq);
      const next = sleepers.shift();
      if (!next) return;
      advanceTo(next.target);
      next.resolve();
      if (sleepers.length) drainSleepers();
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
          sleepers.push({ target: current() + wait, seq: seq++, resolve });
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
      return ordered()[0]?.dueAt ?? null;
    },
    dispose() {
      for (const timer of pending) if (timer.handle !== undefined) clearTimeout(timer.handle);
      pending.clear();
    },
  };
}
