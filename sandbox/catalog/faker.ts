// Seeded English fakers, loaded from faker's per-locale entry point: its main entry imports all ~70 locales, which
// cost about 300 ms at every start of the sandbox.

import type { Faker } from "@faker-js/faker";
import { faker as englishFaker } from "@faker-js/faker/locale/en";

// The per-locale entry exports only a shared instance; its class makes independent ones (each sandbox seeds its own).
const FakerClass = englishFaker.constructor as typeof Faker;

/** A new Faker with the English locale over the base one: the same as `new Faker({ locale: [en, base] })`. */
export function createEnglishFaker(): Faker {
  return new FakerClass({ locale: englishFaker.rawDefinitions });
}
