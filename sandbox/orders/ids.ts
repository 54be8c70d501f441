// Order identifiers in the engine's formats, drawn from a seeded generator so one seed gives the same ids.

import type { Faker } from "@faker-js/faker";
import { fastCharacters, type CharacterSource } from "../catalog/address.js";
import { ALNUM_MIXED, ALNUM_UPPER, createEnglishFaker, HEX_LOWER, randomString } from "../catalog/faker.js";

export interface IdFactory {
  /**
   * A 24-hex ObjectId as MongoDB makes them: its first 4 bytes are `atMs`'s Unix second (the sandbox clock's), so a
   * driver's `getTimestamp()` reads the creation time; the other 8 bytes come from the seed.
   */
  objectId(atMs: number): string;
  /** 11 upper-case letters and digits. */
  rid(): string;
  /** 24 letters and digits, as in the docs' `dGqwF2M2eBPaSN1G5ljMS1cb`. */
  secret(): string;
  /** The seeded faker itself. */
  readonly faker: Faker;
  /** Characters from the same seeded sequence, for values such as deposit addresses. */
  readonly characters: CharacterSource;
}

const TWO_32 = 2 ** 32;

/** What an order's rid and secret are drawn from, and how long they are: the engine's formats. */
export const ORDER_ID_FORMATS = {
  rid: { alphabet: ALNUM_UPPER, length: 11 },
  secret: { alphabet: ALNUM_MIXED, length: 24 },
} as const;

export function createIdFactory(seed: number): IdFactory {
  const faker = createEnglishFaker();
  // faker keeps 32 bits of a number seed; a larger one (a drawn seed) goes in whole as two words.
  faker.seed(seed < TWO_32 ? seed : [seed % TWO_32, Math.floor(seed / TWO_32)]);
  return {
    // All 24 digits are still drawn, and the first 8 replaced by the time: so the ids, rids, secrets and addresses a
    // seed gave before ObjectIds carried their time are the same draws, in the same order.
    objectId: (atMs) => objectIdTime(atMs) + randomString(faker, HEX_LOWER, 24).slice(8),
    rid: () => randomString(faker, ORDER_ID_FORMATS.rid.alphabet, ORDER_ID_FORMATS.rid.length),
    secret: () => randomString(faker, ORDER_ID_FORMATS.secret.alphabet, ORDER_ID_FORMATS.secret.length),
    faker,
    characters: fastCharacters(faker),
  };
}

/** The 8 hex digits of an ObjectId's time: the Unix second, as an unsigned 32-bit number (so 1970 to 2106). */
export function objectIdTime(atMs: number): string {
  const seconds = Math.min(Math.max(Math.floor(atMs / 1000), 0), TWO_32 - 1);
  return seconds.toString(16).padStart(8, "0");
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;
