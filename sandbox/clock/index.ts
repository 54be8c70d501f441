// The sandbox clock: the one source of "now" and of timers, so time can be shifted in tests and scenarios.

export type ClockKind = "real";

export interface Timer {
  cancel(): void;
}

export interface Clock {
  readonly kind: ClockKind;
  /** Sandbox time in Unix milliseconds. */
  now(): number;
  /** Runs `fn` once sandbox time has moved `ms` forward. */
  setTimer(ms: number, fn: () => void): Timer;
  /** Moves sandbox time forward by `ms` (never backward) and runs every timer that falls due. */
  advance(ms: number): void;
}

interface PendingTimer {
  dueAt: number;
  fn: () => void;
  handle: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The real clock: wall time plus an offset that `advance` grows. Timers fire on wall time, or at once when an
 * advance jumps past their moment.
 */
export function createClock(kind: ClockKind = "real", now: () => number = Date.now): Clock {
  switch (kind) {
    case "real":
      return createRealClock(now);
    default: {
      const never: never = kind;
      throw new Error(`unknown clock kind ${JSON.stringify(never)}; expected one of: real`);
    }
  }
}

function createRealClock(wallNow: () => number): Clock {
  let offset = 0;
  const pending = new Set<PendingTimer>();
  const current = () => wallNow() + offset;

  const fire = (timer: PendingTimer) => {
    if (!pending.delete(timer)) return;
    if (timer.handle !== undefined) clearTimeout(timer.handle);
    timer.fn();
  };

  const arm = (timer: PendingTimer) => {
    if (timer.handle !== undefined) clearTimeout(timer.handle);
    const wait = Math.max(0, timer.dueAt - current());
    timer.handle = setTimeout(() => fire(timer), wait);
    timer.handle.unref?.();
  };

  return {
    kind: "real",
    now: current,
    setTimer(ms, fn) {
      const timer: PendingTimer = { dueAt: current() + Math.max(0, ms), fn, handle: undefined };
      pending.add(timer);
      arm(timer);
      return {
        cancel() {
          if (timer.handle !== undefined) clearTimeout(timer.handle);
          pending.delete(timer);
        },
      };
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance takes a non-negative number of ms, got ${ms}`);
      offset += ms;
      const due = [...pending].filter((t) => t.dueAt <= current()).sort((a, b) => a.dueAt - b.dueAt);
      for (const timer of due) fire(timer);
      for (const timer of pending) arm(timer);
    },
  };
}
