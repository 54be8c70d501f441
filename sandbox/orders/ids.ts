// Order identifiers in the engine's formats, drawn from a seeded generator so one seed gives the same ids.

import type { Faker } from "@faker-js/faker";
import { fastCharacters, type CharacterSource } from "../catalog/address.js";
import { ALNUM_MIXED, ALNUM_UPPER, createEnglishFaker, HEX_LOWER, randomString } from "../catalog/faker.js";

export interface IdFactory {
  /** 24-hex ObjectId. */
  objectId(): string;
  /** 11 upper-case letters and digits. */
  rid(): string;
  /** 24 letters and digits, as in the docs' `dGqwF2M2eBPaSN1G5ljMS1cb`. */
  secret(): string;
  /** The seeded faker itself. */
  readonly faker: Faker;
  /** Characters from the same seeded sequence, for values such as deposit addresses. */
  readonly characters: CharacterSource;
}

export function createIdFactory(seed: number): IdFactory {
  const faker = createEnglishFaker();
  faker.seed(seed);
  return {
    objectId: () => randomString(faker, HEX_LOWER, 24),
    rid: () => randomString(faker, ALNUM_UPPER, 11),
    secret: () => randomString(faker, ALNUM_MIXED, 24),
    faker,
    characters: fastCharacters(faker),
  };
}

export const OBJECT_ID = /^[0-9a-f]{24}$/;
