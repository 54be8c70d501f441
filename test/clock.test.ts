// The sandbox clocks: real, fast, instant and manual time, and timers that fire in order at their own moment.

import { afterEach, describe, expect, it, vi } from "vitest";
import { createClock, parseClockSpec } from "../sandbox/clock/index.js";

const START = Date.UTC(2025, 0, 1);

// Some tests move the wall clock by hand (vitest's fake timers, which fake setTimeout and Date alike).
afterEach(() => {
  vi.useRealTimers();
});

/** One turn of the event loop: what the instant clock takes to complete a sleep. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("clock specs", () => {
  it.each([
    ["real", "real", 1],
    ["instant", "instant", 0],
    ["manual", "manual", 0],
    ["fast:60", "fast", 60],
    ["fast:2.5", "fast", 2.5],
  ])("reads %s", (spec, kind, speed) => {
    expect(parseClockSpec(spec)).toEqual({ ok: true, kind, speed });
  });

  it.each([["fast"], ["fast:0"], ["fast:-2"], ["slow"], [""], ["fast:1e9"]])("refuses %j with the valid choices", (spec) => {
    const parsed = parseClockSpec(spec);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/fast:N|expected real/);
  });
});

describe("instant clock", () => {
  it("completes an hour's sleep on the next turn of the event loop, with the wall clock standing still", async () => {
    const clock = createClock("instant", { startAt: START, wallNow: () => 0 });
    let woke = false;
    void clock.sleep(3_600_000).then(() => (woke = true));
    expect(woke).toBe(false);
    await turn();
    expect(woke).toBe(true);
    expect(clock.now()).toBe(START + 3_600_000);
  });

  it("fires the timers a sleep passes, in order, each at its own moment", async () => {
    const clock = createClock("instant", { startAt: START });
    const fired: [string, number][] = [];
    clock.setTimer(2000, () => fired.push(["b", clock.now() - START]));
    clock.setTimer(1000, () => fired.push(["a", clock.now() - START]));
    clock.setTimer(9000, () => fired.push(["late", clock.now() - START]));
    await clock.sleep(5000);
    expect(fired).toEqual([["a", 1000], ["b", 2000]]);
    expect(clock.nextTimerAt()).toBe(START + 9000);
  });

  it("does not move time by itself: a timer waits for someone to sleep, however long the wall clock runs", async () => {
    vi.useFakeTimers();
    const clock = createClock("instant", { startAt: START });
    let fired = false;
    clock.setTimer(10, () => (fired = true));
    // It sets no wall-time timer that could fire it.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(fired).toBe(false);
    expect(clock.now()).toBe(START);
    vi.useRealTimers();
    await clock.sleep(10);
    expect(fired).toBe(true);
  });

  it("completes concurrent sleeps earliest first", async () => {
    const clock = createClock("instant", { startAt: START });
    const done: string[] = [];
    await Promise.all([clock.sleep(300).then(() => done.push("300")), clock.sleep(100).then(() => done.push("100")), clock.sleep(200).then(() => done.push("200"))]);
    expect(done).toEqual(["100", "200", "300"]);
    expect(clock.now()).toBe(START + 300);
  });
});

describe("manual clock", () => {
  it("moves only when advanced, and a sleep ends when time gets there", async () => {
    vi.useFakeTimers();
    const clock = createClock("manual", { startAt: START });
    let woke = false;
    const sleeping = clock.sleep(1000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(woke).toBe(false);
    expect(clock.now()).toBe(START);
    clock.advance(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await sleeping;
    expect(clock.now()).toBe(START + 1000);
  });

  it("refuses to go backwards", () => {
    expect(() => createClock("manual").advance(-1)).toThrow(/non-negative/);
  });

  it("forgets cancelled timers", () => {
    const clock = createClock("manual", { startAt: START });
    let fired = false;
    clock.setTimer(10, () => (fired = true)).cancel();
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.nextTimerAt()).toBeNull();
  });
});

describe("moving clocks", () => {
  it("runs a fast clock N times faster than the wall clock", () => {
    let wall = 1_000;
    const clock = createClock("fast:60", { startAt: START, wallNow: () => wall });
    wall += 1_000;
    expect(clock.now()).toBe(START + 60_000);
  });

  it("fires a fast clock's timer after a fraction of the wall time", async () => {
    vi.useFakeTimers();
    const clock = createClock("fast:1000", { startAt: START });
    let woke = false;
    void clock.sleep(5_000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(4);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);
    expect(clock.now()).toBe(START + 5_000);
  });

  it("fires a real clock's timer when the wall clock gets there, not before", async () => {
    vi.useFakeTimers();
    const clock = createClock("real", { startAt: START });
    const fired: number[] = [];
    clock.setTimer(60_000, () => fired.push(clock.now() - START));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([60_000]);
  });

  it("fires a real clock's timers at once when advanced past them", () => {
    const clock = createClock("real");
    const fired: string[] = [];
    clock.setTimer(60_000, () => fired.push("minute"));
    clock.setTimer(3_600_000, () => fired.push("hour"));
    clock.advance(120_000);
    expect(fired).toEqual(["minute"]);
    clock.dispose();
  });
});
