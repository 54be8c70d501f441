// The built-in route catalogue: a dozen realistic routes whose ids, rates and reserves follow from one seed.

import type { Faker } from "@faker-js/faker";
import Big from "big.js";
import { ADDRESS_HINTS, ADDRESS_PATTERNS, fakerCharacters, generateAddress } from "./address.js";
import { createEnglishFaker } from "./faker.js";
import type { Catalog, Currency, Network, Route, RouteField } from "./types.js";

interface CurrencySpec {
  name: string;
  symbol: string;
  decimal: number;
  network: Network;
  /**
   * Rough USD price in October 2019, the time of the docs' example IPN (2 ETH → 317.42 WMZ), so the pinned
   * ETH → WMZ rate and every other rate describe the same market.
   */
  usd: string;
  /** What the client's account on this currency is called in field names: "TRC20 address", "WMZ purse". */
  accountName: string;
}

const CURRENCIES = {
  BTC: { name: "Bitcoin", symbol: "BTC", decimal: 8, network: "bitcoin", usd: "8000", accountName: "Bitcoin address" },
  ETH: { name: "Ethereum", symbol: "ETH", decimal: 8, network: "ethereum", usd: "164", accountName: "Ethereum address" },
  USDTTRC20: { name: "Tether TRC20", symbol: "USDT", decimal: 2, network: "tron", usd: "1", accountName: "TRC20 address" },
  USDTERC20: { name: "Tether ERC20", symbol: "USDT", decimal: 2, network: "ethereum", usd: "1", accountName: "ERC20 address" },
  TRX: { name: "TRON", symbol: "TRX", decimal: 2, network: "tron", usd: "0.0155", accountName: "TRON address" },
  LTC: { name: "Litecoin", symbol: "LTC", decimal: 8, network: "litecoin", usd: "56", accountName: "Litecoin address" },
  XMR: { name: "Monero", symbol: "XMR", decimal: 8, network: "monero", usd: "55", accountName: "Monero address" },
  WMZ: { name: "WebMoney WMZ", symbol: "WMZ", decimal: 2, network: "webmoney", usd: "1", accountName: "WMZ purse" },
  CARDUAH: { name: "Visa/Mastercard UAH", symbol: "UAH", decimal: 2, network: "card", usd: "0.0402", accountName: "card number" },
  CARDRUB: { name: "Visa/Mastercard RUB", symbol: "RUB", decimal: 2, network: "card", usd: "0.0155", accountName: "card number" },
} as const satisfies Record<string, CurrencySpec>;

type CurrencyCode = keyof typeof CURRENCIES;

interface RouteSpec {
  from: CurrencyCode;
  to: CurrencyCode;
  /** A fixed rate that ignores the seed; only for the docs' example pair, so its numbers reproduce exactly. */
  pinnedRate?: string;
  /** Order limits in USD; converted into `from` units and rounded to two significant digits. */
  minUsd: string;
  maxUsd: string;
}

/** The exchanger's margin under the market price, before the seed's jitter. */
const MARGIN = "0.97";
/** The seed moves each rate by up to ±3% (in basis points), so two seeds give visibly different catalogues. */
const JITTER_BP = 300;
const RESERVE_USD = { min: 20_000, max: 200_000 };

const ROUTES: readonly RouteSpec[] = [
  // 158.71 is the docs' example: 2 ETH → 317.42 WMZ, the golden IPN checksum vector.
  { from: "ETH", to: "WMZ", pinnedRate: "158.71", minUsd: "20", maxUsd: "15000" },
  { from: "BTC", to: "USDTTRC20", minUsd: "20", maxUsd: "15000" },
  { from: "USDTTRC20", to: "CARDUAH", minUsd: "20", maxUsd: "3000" },
  { from: "LTC", to: "BTC", minUsd: "20", maxUsd: "10000" },
  { from: "ETH", to: "USDTTRC20", minUsd: "20", maxUsd: "15000" },
  { from: "USDTERC20", to: "WMZ", minUsd: "50", maxUsd: "10000" },
  { from: "XMR", to: "BTC", minUsd: "20", maxUsd: "10000" },
  { from: "TRX", to: "CARDUAH", minUsd: "10", maxUsd: "2000" },
  { from: "BTC", to: "CARDRUB", minUsd: "20", maxUsd: "3000" },
  { from: "BTC", to: "ETH", minUsd: "20", maxUsd: "15000" },
  { from: "CARDUAH", to: "USDTTRC20", minUsd: "10", maxUsd: "1200" },
  { from: "WMZ", to: "BTC", minUsd: "10", maxUsd: "3000" },
];

const EMAIL_PATTERN = "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$";
const TELEGRAM_PATTERN = "^@?[A-Za-z0-9_]{5,32}$";
const CARDHOLDER_PATTERN = "^[A-Za-z]+(?:[ '-][A-Za-z]+)+$";

/**
 * The catalogue the sandbox serves unless the user supplies one. The same seed gives the same ids, rates,
 * reserves and placeholders; each currency and route draws from its own seed stream keyed by its code, so
 * adding a route later leaves the ids merchants already saved unchanged.
 */
export function createDefaultCatalog(seed: number): Catalog {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new RangeError(`createDefaultCatalog: seed must be an integer 0..4294967295, got ${String(seed)}`);
  }
  const faker = createEnglishFaker();
  const reseed = (key: string): Faker => {
    faker.seed([seed, fnv1a(key)]);
    return faker;
  };

  const currencies = new Map<CurrencyCode, Currency>();
  for (const code of Object.keys(CURRENCIES) as CurrencyCode[]) {
    const spec = CURRENCIES[code];
    currencies.set(code, {
      _id: reseed(`currency:${code}`).database.mongodbObjectId(),
      name: spec.name,
      symbol: spec.symbol,
      xml: code,
      decimal: spec.decimal,
      network: spec.network,
    });
  }
  const currency = (code: CurrencyCode): Currency => ({ ...(currencies.get(code) as Currency) });

  return {
    routes: ROUTES.map((spec) => buildRoute(spec, currency(spec.from), currency(spec.to), reseed(`route:${spec.from}>${spec.to}`))),
  };
}

function buildRoute(spec: RouteSpec, from: Currency, to: Currency, faker: Faker): Route {
  const fromSpec = CURRENCIES[spec.from];
  const toSpec = CURRENCIES[spec.to];
  const _id = faker.database.mongodbObjectId();

  const jitter = new Big(faker.number.int({ min: -JITTER_BP, max: JITTER_BP })).div(10_000).plus(1);
  const rate = spec.pinnedRate ?? roundRate(new Big(fromSpec.usd).div(toSpec.usd).times(MARGIN).times(jitter));

  const reserveUsd = new Big(faker.number.int(RESERVE_USD)).plus(new Big(faker.number.int({ min: 0, max: 99 })).div(100));
  const reserve = decimalString(reserveUsd.div(toSpec.usd), to.decimal, Big.roundDown);

  // Max is also capped by what the reserve can pay out, as a real exchanger's would be.
  const maxByUsd = new Big(spec.maxUsd).div(fromSpec.usd);
  const maxByReserve = new Big(reserve).div(rate);
  const max = roundLimit(maxByUsd.lt(maxByReserve) ? maxByUsd : maxByReserve, from.decimal, Big.roundDown);
  const min = roundLimit(new Big(spec.minUsd).div(fromSpec.usd), from.decimal, Big.roundUp);

  // Cards and WebMoney are paid by hand and confirmed with "I paid"; crypto deposits are detected on-chain.
  const manual = from.network === "card" || from.network === "webmoney";

  return {
    _id,
    from,
    to,
    rate,
    min,
    max,
    reserve,
    manual,
    // A hand payment is expected within minutes of opening the page; a crypto transfer may wait for a fee window.
    paymentWindowMinutes: manual ? 15 : 30,
    fromFields: senderFields(from, fromSpec, faker),
    toFields: recipientFields(to, toSpec, faker),
    routeFields: contactFields(faker),
  };
}

function senderFields(from: Currency, spec: CurrencySpec, faker: Faker): RouteField[] {
  if (from.network === "card") {
    // The exchanger matches the incoming card payment (and its verification) to the card the client named.
    return [
      accountField(faker, from.network, {
        name: "Your card number",
        regexp_error: "Enter the 16-digit number of the card you pay with, without spaces",
        required: true,
      }),
    ];
  }
  if (from.network === "webmoney") {
    return [
      accountField(faker, from.network, {
        name: `Your ${spec.accountName}`,
        regexp_error: `Enter the ${spec.accountName} you pay from: ${ADDRESS_HINTS[from.network]}`,
        required: true,
      }),
    ];
  }
  return [
    accountField(faker, from.network, {
      name: "Refund address",
      regexp_error: `Enter ${article(spec.accountName)} ${spec.accountName} for refunds: ${ADDRESS_HINTS[from.network]}`,
      required: false,
    }),
  ];
}

function recipientFields(to: Currency, spec: CurrencySpec, faker: Faker): RouteField[] {
  if (to.network === "card") {
    return [
      accountField(faker, to.network, {
        name: "Card number",
        regexp_error: "Enter the 16-digit card number without spaces",
        required: true,
      }),
      {
        _id: faker.database.mongodbObjectId(),
        name: "Cardholder name",
        placeholder: cardholderName(faker),
        regexp: CARDHOLDER_PATTERN,
        regexp_error: "Enter the cardholder's first and last name in Latin letters, as printed on the card",
        required: true,
      },
    ];
  }
  return [
    accountField(faker, to.network, {
      name: capitalise(spec.accountName),
      regexp_error: `Enter ${article(spec.accountName)} ${spec.accountName}: ${ADDRESS_HINTS[to.network]}`,
      required: true,
    }),
  ];
}

function contactFields(faker: Faker): RouteField[] {
  const firstName = faker.person.firstName();
  const lastName = faker.person.lastName();
  const handle = `${firstName}_${lastName}`.toLowerCase().replace(/[^a-z0-9_]/g, "").slice(0, 32).padEnd(5, "0");
  return [
    {
      _id: faker.database.mongodbObjectId(),
      name: "Email",
      placeholder: faker.internet.email({ firstName, lastName, provider: "example.com" }),
      regexp: EMAIL_PATTERN,
      regexp_error: "Enter an email address like name@example.com",
      required: true,
    },
    {
      _id: faker.database.mongodbObjectId(),
      name: "Telegram",
      placeholder: `@${handle}`,
      regexp: TELEGRAM_PATTERN,
      regexp_error: "Enter a Telegram username: 5–32 letters, digits or underscores, with or without @",
      required: false,
    },
  ];
}

function accountField(
  faker: Faker,
  network: Network,
  text: Pick<RouteField, "name" | "regexp_error" | "required">,
): RouteField {
  return {
    _id: faker.database.mongodbObjectId(),
    name: text.name,
    placeholder: generateAddress(network, fakerCharacters(faker)),
    regexp: ADDRESS_PATTERNS[network],
    regexp_error: text.regexp_error,
    required: text.required,
  };
}

function cardholderName(faker: Faker): string {
  const latin = (s: string) => s.replace(/[^A-Za-z]/g, "") || "Alex";
  return `${latin(faker.person.firstName())} ${latin(faker.person.lastName())}`.toUpperCase();
}

/** Rates keep 4 significant digits, as rate monitors show them, with 2 to 8 decimals: "7649.03", "0.006987". */
function roundRate(rate: Big): string {
  const decimals = Math.min(8, Math.max(2, 3 - rate.e));
  return decimalString(rate, decimals, Big.roundHalfUp);
}

/** Limits are round numbers a person would set (two significant digits), never finer than the currency allows. */
function roundLimit(amount: Big, decimals: number, rm: Big.RoundingMode): string {
  return decimalString(amount.prec(2, rm), decimals, rm);
}

/** Fixed-point text without trailing zeros or exponent: "158.71", "0.0025", "12". */
function decimalString(amount: Big, decimals: number, rm: Big.RoundingMode): string {
  const fixed = amount.toFixed(decimals, rm);
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

function article(noun: string): string {
  return /^[AEIOU]/i.test(noun) ? "an" : "a";
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** 32-bit FNV-1a: a stable number per currency or route key, to seed that key's own stream. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
