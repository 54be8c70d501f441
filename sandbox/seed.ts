// Seeds: the one number a sandbox's ids come from, drawn when none is given, and which seeds shape the catalogue too.

import { randomInt } from "node:crypto";

/** The seed of the built-in catalogue when no seed is given, or the seed given does not shape the catalogue. */
export const DEFAULT_CATALOG_SEED = 1;

/**
 * The largest seed that also seeds the built-in catalogue, as every seed always did. A larger one (every drawn seed
 * is) seeds the ids only and leaves the default catalogue: route and field ids are data that merchants keep in their
 * config, so they must not change from one run to the next.
 */
export const MAX_CATALOG_SEED = 0xffff_ffff;

/** Drawn seeds lie above MAX_CATALOG_SEED and below 2^48: a fresh one per sandbox, short enough to type back. */
const DRAWN_MIN = MAX_CATALOG_SEED + 1;
const DRAWN_MAX = 2 ** 48;

/**
 * A seed for a sandbox started without one, so that two runs never hand out the same order ids and secrets.
 * `random(min, max)` is node's crypto.randomInt by default; a test may pass its own.
 */
export function drawSeed(random: (min: number, max: number) => number = randomInt): number {
  return random(DRAWN_MIN, DRAWN_MAX);
}

/** The seed the built-in catalogue is made from under `seed`. */
export function catalogSeedFor(seed: number): number {
  return seed <= MAX_CATALOG_SEED ? seed : DEFAULT_CATALOG_SEED;
}
