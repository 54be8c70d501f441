// Seeded English fakers, loaded from faker's per-locale entry point: its main entry imports all ~70 locales, which
// slowed every start of the sandbox (see docs/performance.md).

import type { Faker } from "@faker-js/faker";
import { faker as englishFaker } from "@faker-js/faker/locale/en";

// The per-locale entry exports only a shared instance; its class makes independent ones (each sandbox seeds its own).
const FakerClass = englishFaker.constructor as typeof Faker;

/** A new Faker with the English locale over the base one: the same as `new Faker({ locale: [en, base] })`. */
export function createEnglishFaker(): Faker {
  return new FakerClass({ locale: englishFaker.rawDefinitions });
}

/**
 * `length` characters drawn uniformly from `alphabet` with `faker`'s seeded generator. faker's own string helpers
 * draw one random number per character, which made ids a fifth of an order/create's time; this draws one integer
 * below 2^40 (`faker.number.int`) per several characters and spells it in base `alphabet.length`.
 */
export function randomString(faker: Faker, alphabet: string, length: number): string {
  const base = alphabet.length;
  // The most digits in that base whose combinations fit in 40 bits. faker scales a 53-bit random float to the range,
  // so a range of at most 2^40 is uniform to within 2^-13, and every combination can come out.
  const digits = Math.max(1, Math.floor(40 / Math.log2(base)));
  const span = base ** digits;
  // Joined from a list rather than appended to: `+=` leaves a tree of string pieces that stays in memory as long as
  // the id does, several times the size of the flat string.
  const chars: string[] = [];
  while (chars.length < length) {
    let value = faker.number.int(span - 1);
    for (let i = 0; i < digits && chars.length < length; i++) {
      chars.push(alphabet[value % base]!);
      value = Math.floor(value / base);
    }
  }
  return chars.join("");
}

export const HEX_LOWER = "0123456789abcdef";
export const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
export const ALNUM_UPPER = UPPER + DIGITS;
export const ALNUM_MIXED = UPPER + UPPER.toLowerCase() + DIGITS;
