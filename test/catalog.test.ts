// The route catalogue: the seeded default, its address formats, and the loader that refuses broken files.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Faker, base, en } from "@faker-js/faker";
import Big from "big.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ADDRESS_PATTERNS,
  CatalogError,
  NETWORKS,
  createDefaultCatalog,
  findRoute,
  generateAddress,
  listCurrencies,
  loadCatalogFile,
  parseCatalog,
  type Catalog,
  type Route,
  type RouteField,
} from "../sandbox/catalog/index.js";
import { fakerCharacters, fastCharacters } from "../sandbox/catalog/address.js";
import { randomString } from "../sandbox/catalog/faker.js";
import { cli } from "./support/cli.js";
import { readDoc } from "./support/docs.js";

const SEEDS = [0, 1, 42, 2024, 4_294_967_295];
const OBJECT_ID = /^[0-9a-f]{24}$/;
const DECIMAL = /^\d+(\.\d+)?$/;

function pair(route: Route): string {
  return `${route.from.xml} → ${route.to.xml}`;
}

function allFields(route: Route): RouteField[] {
  return [...route.fromFields, ...route.toFields, ...route.routeFields];
}

function seededFaker(seed: number): Faker {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(seed);
  return faker;
}

/** An independent Luhn check, so the test does not trust the generator's own arithmetic. */
function passesLuhn(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((char, i) => {
    let d = Number(char);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  });
  return sum % 10 === 0;
}

function decimalsOf(value: string): number {
  return value.split(".")[1]?.length ?? 0;
}

describe("the default catalogue", () => {
  it("gives the same catalogue for the same seed", () => {
    expect(createDefaultCatalog(42)).toEqual(createDefaultCatalog(42));
  });

  it("gives different ids and rates for another seed", () => {
    const a = createDefaultCatalog(1);
    const b = createDefaultCatalog(2);
    expect(a.routes.map(pair)).toEqual(b.routes.map(pair));
    expect(a.routes.map((r) => r._id)).not.toEqual(b.routes.map((r) => r._id));
    const changedRates = a.routes.filter((route, i) => route.rate !== b.routes[i]?.rate);
    expect(changedRates.length).toBeGreaterThan(a.routes.length / 2);
  });

  it("has the docs' ETH → WMZ pair at 158.71, so 2 ETH pay out 317.42 WMZ, for every seed", () => {
    for (const seed of SEEDS) {
      const route = createDefaultCatalog(seed).routes.find((r) => pair(r) === "ETH → WMZ");
      expect(route).toBeDefined();
      expect(route?.rate).toBe("158.71");
      expect(new Big(2).times(route?.rate ?? "0").toFixed(2)).toBe("317.42");
      expect(new Big(route?.min ?? "0").lte(2) && new Big(route?.max ?? "0").gte(2)).toBe(true);
      expect(route?.manual).toBe(false);
    }
  });

  it("offers at least ten routes, including crypto to crypto, to card and from card", () => {
    const pairs = createDefaultCatalog(7).routes.map(pair);
    expect(pairs.length).toBeGreaterThanOrEqual(10);
    expect(pairs).toEqual(
      expect.arrayContaining([
        "ETH → WMZ",
        "BTC → USDTTRC20",
        "USDTTRC20 → CARDUAH",
        "LTC → BTC",
        "ETH → USDTTRC20",
        "USDTERC20 → WMZ",
        "XMR → BTC",
        "TRX → CARDUAH",
        "BTC → CARDRUB",
        "CARDUAH → USDTTRC20",
      ]),
    );
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  it("makes routes paid by card or WebMoney manual with a 15-minute window, and crypto routes automatic with 30", () => {
    for (const route of createDefaultCatalog(7).routes) {
      const paidByHand = route.from.network === "card" || route.from.network === "webmoney";
      expect({ pair: pair(route), manual: route.manual, window: route.paymentWindowMinutes }).toEqual({
        pair: pair(route),
        manual: paidByHand,
        window: paidByHand ? 15 : 30,
      });
    }
  });

  it("describes the card currencies as Visa/Mastercard with two decimals", () => {
    const uah = listCurrencies(createDefaultCatalog(7)).find((c) => c.xml === "CARDUAH");
    expect(uah).toMatchObject({ name: "Visa/Mastercard UAH", symbol: "UAH", decimal: 2, network: "card" });
  });

  it("gives a currency one _id and one definition in every route it appears in", () => {
    const catalog = createDefaultCatalog(7);
    const byXml = new Map<string, string>();
    for (const route of catalog.routes) {
      for (const currency of [route.from, route.to]) {
        const seen = byXml.get(currency.xml);
        if (seen === undefined) byXml.set(currency.xml, JSON.stringify(currency));
        else expect(JSON.stringify(currency)).toBe(seen);
      }
    }
    expect(listCurrencies(catalog)).toHaveLength(10);
  });

  it("uses 24-hex ObjectIds everywhere, unique routes and unique field ids within a route", () => {
    const catalog = createDefaultCatalog(7);
    const routeIds = catalog.routes.map((r) => r._id);
    expect(new Set(routeIds).size).toBe(routeIds.length);
    for (const route of catalog.routes) {
      const ids = [route._id, route.from._id, route.to._id, ...allFields(route).map((f) => f._id)];
      for (const id of ids) expect(id).toMatch(OBJECT_ID);
      const fieldIds = allFields(route).map((f) => f._id);
      expect(new Set(fieldIds).size).toBe(fieldIds.length);
    }
  });

  it.each(SEEDS)("every placeholder matches its own field's regexp (seed %i)", (seed) => {
    for (const route of createDefaultCatalog(seed).routes) {
      for (const field of allFields(route)) {
        expect(field.regexp).toMatch(/^\^.*\$$/);
        expect(field.placeholder, `${pair(route)}: ${field.name}`).toMatch(new RegExp(field.regexp));
        expect(field.regexp_error).not.toBe("");
      }
    }
  });

  it("asks for the recipient's address in the format of the currency's network, and an email on every route", () => {
    for (const route of createDefaultCatalog(7).routes) {
      expect(route.toFields[0]?.regexp).toBe(ADDRESS_PATTERNS[route.to.network]);
      expect(route.toFields.every((f) => f.required)).toBe(true);
      if (route.to.network === "card") expect(route.toFields.map((f) => f.name)).toContain("Cardholder name");
      const email = route.routeFields.find((f) => f.name === "Email");
      expect(email?.required).toBe(true);
      expect(new RegExp(email?.regexp ?? "").test("not an email")).toBe(false);
    }
  });

  it("asks card payers for their card and lets crypto payers leave a refund address", () => {
    for (const route of createDefaultCatalog(7).routes) {
      const [sender] = route.fromFields;
      expect(sender?.regexp).toBe(ADDRESS_PATTERNS[route.from.network]);
      expect(sender?.required).toBe(route.manual);
    }
  });

  it("rates and limits are decimal strings without float artefacts", () => {
    for (const seed of SEEDS) {
      for (const route of createDefaultCatalog(seed).routes) {
        for (const value of [route.rate, route.min, route.max, route.reserve]) {
          expect(value).toMatch(DECIMAL);
          expect(value).not.toMatch(/\.\d*0$/);
          expect(decimalsOf(value)).toBeLessThanOrEqual(8);
        }
        expect(decimalsOf(route.min)).toBeLessThanOrEqual(route.from.decimal);
        expect(decimalsOf(route.max)).toBeLessThanOrEqual(route.from.decimal);
        expect(decimalsOf(route.reserve)).toBeLessThanOrEqual(route.to.decimal);
      }
    }
  });

  it("keeps min below max, and max within what the reserve can pay out", () => {
    for (const seed of SEEDS) {
      for (const route of createDefaultCatalog(seed).routes) {
        expect(new Big(route.min).gt(0)).toBe(true);
        expect(new Big(route.min).lt(route.max)).toBe(true);
        expect(new Big(route.max).times(route.rate).lte(route.reserve)).toBe(true);
      }
    }
  });

  it("keeps rates within 3% of one another across seeds", () => {
    const first = createDefaultCatalog(SEEDS[0] ?? 0).routes;
    for (const seed of SEEDS) {
      createDefaultCatalog(seed).routes.forEach((route, i) => {
        const ratio = new Big(route.rate).div(first[i]?.rate ?? "1");
        expect(ratio.gt(0.94) && ratio.lt(1.064)).toBe(true);
      });
    }
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 32])("refuses the seed %s", (seed) => {
    expect(() => createDefaultCatalog(seed)).toThrow(/seed must be an integer 0\.\.4294967295/);
  });
});

describe.each([
  { source: "faker's helpers (the catalogue's)", of: fakerCharacters },
  { source: "several characters per draw (orders')", of: fastCharacters },
])("generated addresses from $source", ({ of }) => {
  const cases = NETWORKS.flatMap((network) => SEEDS.map((seed) => ({ network, seed })));
  const seeded = (seed: number) => of(seededFaker(seed));

  it.each(cases)("generated $network addresses match their network's pattern (seed $seed)", ({ network, seed }) => {
    const source = seeded(seed);
    for (let i = 0; i < 20; i++) {
      expect(generateAddress(network, source)).toMatch(new RegExp(ADDRESS_PATTERNS[network]));
    }
  });

  it("gives the same address for the same seed, and another for another seed", () => {
    for (const network of NETWORKS) {
      expect(generateAddress(network, seeded(5))).toBe(generateAddress(network, seeded(5)));
      expect(generateAddress(network, seeded(5))).not.toBe(generateAddress(network, seeded(6)));
    }
  });

  it("card numbers pass the Luhn check and look like Visa or Mastercard", () => {
    const source = seeded(11);
    for (let i = 0; i < 500; i++) {
      const card = generateAddress("card", source);
      expect(card).toMatch(/^(4\d{15}|5[1-5]\d{14})$/);
      expect(passesLuhn(card)).toBe(true);
    }
  });

  it("gives bitcoin and litecoin addresses in bech32 form and monero addresses of 95 characters", () => {
    const source = seeded(3);
    expect(generateAddress("bitcoin", source)).toMatch(/^bc1q[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    expect(generateAddress("litecoin", source)).toMatch(/^ltc1q[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{38}$/);
    expect(generateAddress("monero", source)).toMatch(/^4.{94}$/);
  });
});

describe("randomString", () => {
  it("uses every character of the alphabet, about equally often", () => {
    const faker = seededFaker(9);
    for (const alphabet of ["0123456789abcdef", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", "01"]) {
      const counts = new Map<string, number>();
      const text = randomString(faker, alphabet, 20_000);
      expect(text).toHaveLength(20_000);
      for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([...alphabet].sort());
      const expected = 20_000 / alphabet.length;
      for (const count of counts.values()) expect(Math.abs(count - expected)).toBeLessThan(expected * 0.25);
    }
  });
});

describe("finding routes and currencies", () => {
  const catalog = createDefaultCatalog(7);

  it("finds a route by its _id and answers undefined for an unknown one", () => {
    const route = catalog.routes[3];
    expect(findRoute(catalog, route?._id ?? "")).toBe(route);
    expect(findRoute(catalog, "000000000000000000000000")).toBeUndefined();
  });

  it("lists each currency once, in order of first appearance", () => {
    const xmls = listCurrencies(catalog).map((c) => c.xml);
    expect(xmls[0]).toBe("ETH");
    expect(new Set(xmls).size).toBe(xmls.length);
    expect([...xmls].sort()).toEqual(
      ["BTC", "CARDRUB", "CARDUAH", "ETH", "LTC", "TRX", "USDTERC20", "USDTTRC20", "WMZ", "XMR"],
    );
  });
});

describe("loading a catalogue file", () => {
  let dir = "";
  let fileCount = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "exchanger-sandbox-catalog-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeCatalog(content: string): Promise<string> {
    const path = join(dir, `routes-${++fileCount}.json`);
    await writeFile(path, content, "utf8");
    return path;
  }

  /** A fresh, valid, plain-JSON catalogue for each case to break. */
  function validJson(): Catalog {
    return JSON.parse(JSON.stringify(createDefaultCatalog(7))) as Catalog;
  }

  async function refusal(path: string): Promise<CatalogError> {
    const error = await loadCatalogFile(path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CatalogError);
    const message = (error as CatalogError).message;
    expect(message.startsWith(`catalog ${path}: `)).toBe(true);
    expect(message).not.toContain("\n");
    return error as CatalogError;
  }

  it("accepts its own default catalogue round-tripped through JSON", async () => {
    const catalog = createDefaultCatalog(7);
    const path = await writeCatalog(JSON.stringify(catalog, null, 2));
    await expect(loadCatalogFile(path)).resolves.toEqual(catalog);
    expect(parseCatalog(JSON.parse(JSON.stringify(createDefaultCatalog(99))), "inline")).toEqual(createDefaultCatalog(99));
  });

  it("accepts a file that starts with a byte-order mark", async () => {
    const path = await writeCatalog(`\uFEFF${JSON.stringify(validJson())}`);
    await expect(loadCatalogFile(path)).resolves.toEqual(validJson());
  });

  /** breakIt changes the catalogue in place, or returns a whole replacement to write instead. */
  type Breakage = [what: string, reason: string, breakIt: (catalog: Catalog) => unknown];
  const set = (target: object, key: string, value: unknown): void => {
    Object.assign(target, { [key]: value });
  };
  const route = (c: Catalog, i: number): Route => c.routes[i] as Route;

  const breakages: Breakage[] = [
    [
      "a rate is a number",
      'routes[2].rate: expected a positive decimal string like "158.71", got 12',
      (c) => set(route(c, 2), "rate", 12),
    ],
    ["a rate is zero", 'routes[2].rate: expected a positive decimal string like "158.71", got "0"', (c) => set(route(c, 2), "rate", "0")],
    ["a rate has an exponent", 'routes[0].rate: expected a positive decimal string like "158.71", got "1e3"', (c) => set(route(c, 0), "rate", "1e3")],
    ["a max is negative", 'routes[1].max: expected a positive decimal string like "158.71", got "-5"', (c) => set(route(c, 1), "max", "-5")],
    ["a reserve is missing", "routes[4].reserve: expected a positive decimal string", (c) => {
      delete (route(c, 4) as Partial<Route>).reserve;
    }],
    ["a min is not a decimal", 'routes[0].min: expected a decimal string, 0 or more, like "0.01", got "0,5"', (c) => set(route(c, 0), "min", "0,5")],
    ["min is more than max", "routes[5].min: 999999 is more than max", (c) => set(route(c, 5), "min", "999999")],
    ["a route id is not 24-hex", 'routes[1]._id: expected a 24-character lower-case hex ObjectId like "5d8e6002b80b7b4cd75a6424", got "route-1"', (c) => set(route(c, 1), "_id", "route-1")],
    ["a field id is upper-case", "routes[0].toFields[0]._id: expected a 24-character lower-case hex ObjectId", (c) => set(route(c, 0).toFields[0] as RouteField, "_id", "ABCDEF0123456789ABCDEF01")],
    ["two routes share an id", "routes[3]._id: duplicate route id", (c) => set(route(c, 3), "_id", route(c, 1)._id)],
    [
      "two fields of a route share an id",
      "routes[2].routeFields[0]._id: duplicate field id",
      (c) => set(route(c, 2).routeFields[0] as RouteField, "_id", (route(c, 2).toFields[0] as RouteField)._id),
    ],
    ["a regexp does not compile", "routes[0].toFields[0].regexp: does not compile: Invalid regular expression", (c) => set(route(c, 0).toFields[0] as RouteField, "regexp", "^[0-9{16}$(")],
    ["a decimal is 19", "routes[0].from.decimal: expected an integer 0..18 (decimal places), got 19", (c) => set(route(c, 0).from, "decimal", 19)],
    ["a decimal is a fraction", "routes[0].to.decimal: expected an integer 0..18 (decimal places), got 2.5", (c) => set(route(c, 0).to, "decimal", 2.5)],
    ["a network is unknown", 'routes[0].from.network: expected one of "bitcoin", "ethereum", "tron", "litecoin", "monero", "webmoney", "card", got "solana"', (c) => set(route(c, 0).from, "network", "solana")],
    ["a currency is defined two ways", 'routes[4].to.decimal: currency "', (c) => set(route(c, 4).to, "decimal", 6)],
    ["a field's required flag is a string", 'routes[0].routeFields[0].required: expected true or false, got "yes"', (c) => set(route(c, 0).routeFields[0] as RouteField, "required", "yes")],
    ["a route has a misspelt key", 'routes[0]: unknown key "minn"', (c) => set(route(c, 0), "minn", "1")],
    ["the routes list is empty", "routes: expected at least one route", (c) => set(c, "routes", [])],
    ["routes is not a list", 'routes: expected "routes" to be a list of routes, got an object', (c) => set(c, "routes", {})],
    ["the top level is a list", 'expected an object like {"routes": [...]}, got a list of 1', (c) => [c]],
    ["the payment window is zero", "routes[0].paymentWindowMinutes: expected a whole number of minutes, 1 or more, got 0", (c) => set(route(c, 0), "paymentWindowMinutes", 0)],
  ];

  it.each(breakages)("refuses a catalogue file where %s, naming the path and the reason", async (_what, reason, breakIt) => {
    const catalog = validJson();
    const replacement = breakIt(catalog);
    const path = await writeCatalog(JSON.stringify(replacement ?? catalog));
    const error = await refusal(path);
    expect(error.message).toContain(`catalog ${path}: ${reason}`);
    expect(error.source).toBe(path);
  });

  it("refuses the docs' example (a rate of 12 in routes[2]) with the very line docs/merchant-api.md shows", async () => {
    const catalog = validJson();
    set(route(catalog, 2), "rate", 12);
    const path = await writeCatalog(JSON.stringify(catalog));
    const { code, stderr } = await cli("start", "--catalog", path);
    expect(code).toBe(2);
    const shown = readDoc("docs/merchant-api.md").split("\n").find((line) => line.startsWith("exchanger-sandbox: catalog routes.json:"));
    expect(stderr.replace(path, "routes.json")).toBe(`${shown}\n`);
  });

  it("names the first problem and counts the rest", () => {
    const catalog = validJson();
    set(route(catalog, 0), "rate", 1);
    set(route(catalog, 1), "rate", 2);
    expect(() => parseCatalog(catalog, "two.json")).toThrow(
      'catalog two.json: routes[0].rate: expected a positive decimal string like "158.71", got 1 (and 1 more problem)',
    );
  });

  it("refuses a file that does not exist", async () => {
    const path = join(dir, "missing.json");
    const error = await refusal(path);
    expect(error.message).toContain("file not found");
  });

  it("refuses a directory", async () => {
    const path = join(dir, "a-directory.json");
    await mkdir(path);
    expect((await refusal(path)).message).toContain("is a directory");
  });

  it("refuses a file that is not valid JSON, quoting the parser", async () => {
    const path = await writeCatalog('{"routes": [}');
    const error = await refusal(path);
    expect(error.message).toMatch(new RegExp(`^catalog ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: not valid JSON: \\S`));
  });
});
