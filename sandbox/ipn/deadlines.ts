// The IPN timeout: one timer for every delivery on the wire, which stops each at its deadline.

import type { Clock, Timer } from "../clock/index.js";

/** The wall time the IPN timeout and latency run on: the merchant's network is real, whatever the sandbox clock. */
export type WallClock = Pick<Clock, "now" | "setTimer">;

/** The real wall clock: performance.now() and setTimeout. */
export const REAL_WALL_CLOCK: WallClock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/** A delivery with a deadline. */
export interface Flight {
  /** The wall clock's time by which the whole exchange must be over. */
  readonly deadline: number;
  readonly ended: boolean;
  /** Ends the delivery at once: timed out, or the sandbox is shutting down. */
  stop(why: "timeout" | "shutdown"): void;
}

export interface Deadlines<F extends Flight> {
  /** Watches a delivery that has just started; its deadline must be no earlier than those watched before it. */
  add(flight: F): void;
  /** Tells that a watched delivery has ended. */
  landed(): void;
  /** The deliveries watched that have not ended, oldest first. */
  live(): F[];
}

/**
 * Every delivery gets the same timeout, so deadlines come in the order deliveries start and the one timer only ever
 * waits for the oldest live one. Ended deliveries are let go from the front, so a long burst does not keep them all.
 */
export function createDeadlines<F extends Flight>(wall: WallClock = REAL_WALL_CLOCK): Deadlines<F> {
  let flights: F[] = [];
  let head = 0;
  let live = 0;
  let timer: Timer | undefined;

  const compact = () => {
    if (head >= 1024 && head * 2 >= flights.length) {
      flights = flights.slice(head);
      head = 0;
    }
  };

  const arm = () => {
    const oldest = flights[head];
    if (oldest === undefined) return;
    timer = wall.setTimer(Math.max(1, Math.ceil(oldest.deadline - wall.now())), expire);
  };

  const expire = () => {
    timer = undefined;
    const now = wall.now();
    while (head < flights.length) {
      const flight = flights[head]!;
      if (!flight.ended && flight.deadline > now) break;
      head++;
      if (!flight.ended) flight.stop("timeout");
    }
    compact();
    if (live > 0 && timer === undefined) arm();
  };

  return {
    add(flight) {
      flights.push(flight);
      live++;
      if (timer === undefined) arm();
    },
    landed() {
      if (--live > 0) {
        while (head < flights.length && flights[head]!.ended) head++;
        compact();
        return;
      }
      // Nothing left on the wire: no timer may keep the process alive, and the list starts over.
      timer?.cancel();
      timer = undefined;
      flights = [];
      head = 0;
    },
    live: () => flights.slice(head).filter((flight) => !flight.ended),
  };
}
