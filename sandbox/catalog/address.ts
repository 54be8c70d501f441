// Address formats per network: the one regexp each network's fields use, and seeded addresses that match it.

import type { Faker } from "@faker-js/faker";
import { DIGITS, HEX_LOWER, randomString } from "./faker.js";
import type { Network } from "./types.js";

/**
 * The regexp source (anchored, no flags) a value on each network must match. Route fields, generated
 * addresses and the docs all take their format from here.
 */
export const ADDRESS_PATTERNS: Record<Network, string> = {
  bitcoin: "^(bc1[a-z0-9]{25,62}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})$",
  ethereum: "^0x[a-fA-F0-9]{40}$",
  tron: "^T[1-9A-HJ-NP-Za-km-z]{33}$",
  litecoin: "^(ltc1[a-z0-9]{25,62}|[LM3][a-km-zA-HJ-NP-Z1-9]{26,33})$",
  monero: "^[48][0-9AB][1-9A-HJ-NP-Za-km-z]{93}$",
  webmoney: "^Z[0-9]{12}$",
  card: "^[0-9]{16}$",
};

/**
 * How each format reads to a person, for `regexp_error` texts: "Enter a TRC20 address: " + the hint.
 * Kept next to ADDRESS_PATTERNS so a pattern and its description change together.
 */
export const ADDRESS_HINTS: Record<Network, string> = {
  bitcoin: "bc1 and 25–62 lower-case letters and digits, or 1 or 3 and 25–34 letters and digits",
  ethereum: "0x followed by 40 hex digits (0–9, a–f)",
  tron: "T followed by 33 letters and digits",
  litecoin: "ltc1 and 25–62 lower-case letters and digits, or L, M or 3 and 26–33 letters and digits",
  monero: "95 letters and digits starting with 4 or 8",
  webmoney: "Z followed by 12 digits",
  card: "16 digits without spaces",
};

/** Every network, in a stable order; derived from ADDRESS_PATTERNS so a new network cannot miss its pattern. */
export const NETWORKS = Object.keys(ADDRESS_PATTERNS) as Network[];

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/** Draws `length` characters from `alphabet`, and one of `items`, from some seeded generator. */
export interface CharacterSource {
  chars(alphabet: string, length: number): string;
  pick<T>(items: readonly T[]): T;
}

/**
 * The fast source for values made per order: several characters per random number (see randomString). The same seed
 * gives the same values.
 */
export function fastCharacters(faker: Faker): CharacterSource {
  return { chars: (alphabet, length) => randomString(faker, alphabet, length), pick: (items) => faker.helpers.arrayElement(items) };
}

/**
 * faker's own one-number-per-character source, which the built-in catalogue keeps so that its ids, drawn from the
 * same sequence after the example addresses, stay what they have always been.
 */
export function fakerCharacters(faker: Faker): CharacterSource {
  return { chars: (alphabet, length) => faker.string.fromCharacters(alphabet, length), pick: (items) => faker.helpers.arrayElement(items) };
}

/**
 * A realistic-looking address (or purse, or card number) on `network`, drawn from `source` so the same seed
 * gives the same address. Shapes follow the common modern form: P2WPKH bech32 for bitcoin and litecoin, a
 * standard 95-character monero address, Visa or Mastercard numbers with a valid Luhn digit. Checksums other
 * than Luhn are not computed, because no part of the exchanger validates them; only the regexps matter.
 */
export function generateAddress(network: Network, source: CharacterSource): string {
  switch (network) {
    case "bitcoin":
      return `bc1q${source.chars(BECH32, 38)}`;
    case "ethereum":
      return `0x${source.chars(HEX_LOWER, 40)}`;
    case "tron":
      return `T${source.chars(BASE58, 33)}`;
    case "litecoin":
      return `ltc1q${source.chars(BECH32, 38)}`;
    case "monero":
      return `4${source.chars("0123456789AB", 1)}${source.chars(BASE58, 93)}`;
    case "webmoney":
      return `Z${source.chars(DIGITS, 12)}`;
    case "card":
      return generateCardNumber(source);
    default: {
      const unknown: never = network;
      throw new Error(`generateAddress: unknown network ${JSON.stringify(unknown)}; expected one of ${NETWORKS.join(", ")}`);
    }
  }
}

function generateCardNumber(source: CharacterSource): string {
  // Visa starts with 4, Mastercard with 51–55; merchants' card-type detection should recognise both.
  const prefix = source.pick(["4", "51", "52", "53", "54", "55"]);
  const body = prefix + source.chars(DIGITS, 15 - prefix.length);
  return body + luhnCheckDigit(body);
}

/** The digit that, appended to `payload`, makes the whole number pass the Luhn check. */
function luhnCheckDigit(payload: string): string {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    // Counting from the right of the payload, the check digit will sit before position 0, so even positions double.
    let digit = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return String((10 - (sum % 10)) % 10);
}
