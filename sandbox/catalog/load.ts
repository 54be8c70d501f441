// Reads and validates a user's replacement catalogue, refusing it with a one-line message that says where and why.

import { readFile } from "node:fs/promises";
import Big from "big.js";
import type { z } from "zod";
import { withZod } from "../zod.js";
import { NETWORKS } from "./address.js";
import type { Catalog, Currency, Network } from "./types.js";

/** A catalogue that cannot be used; the message names the source and the first problem, on one line. */
export class CatalogError extends Error {
  override name = "CatalogError";

  constructor(
    /** The file path (or other label) the catalogue came from. */
    readonly source: string,
    /** What is wrong, starting with the JSON path when there is one: `routes[2].rate: expected …`. */
    readonly reason: string,
  ) {
    super(`catalog ${source}: ${reason}`.replace(/\s*\n\s*/g, " "));
  }
}

const DECIMAL = /^\d+(\.\d+)?$/;
// Lower-case only, as the engine writes them: keys are compared as strings, so "5D8E…" would never match "5d8e…".
const OBJECT_ID = /^[0-9a-f]{24}$/;

/** Marks an issue whose message already quotes the value, so the formatter does not repeat it. */
const QUOTES_INPUT = { quotesInput: true };

/** The catalogue's schema, made from zod on first use. */
const catalogSchema = withZod((z) => {
  function stringMatching(expected: string, test: (value: string) => boolean) {
    return z.string({ error: expected }).refine(test, { error: expected });
  }

  const objectId = stringMatching('expected a 24-character lower-case hex ObjectId like "5d8e6002b80b7b4cd75a6424"', (s) =>
    OBJECT_ID.test(s),
  );
  const positiveDecimal = stringMatching(
    'expected a positive decimal string like "158.71"',
    (s) => DECIMAL.test(s) && new Big(s).gt(0),
  );
  const nonNegativeDecimal = stringMatching('expected a decimal string, 0 or more, like "0.01"', (s) => DECIMAL.test(s));
  const nonEmptyString = stringMatching("expected a non-empty string", (s) => s.trim() !== "");
  const anyString = z.string({ error: "expected a string" });
  const flag = z.boolean({ error: "expected true or false" });

  const regexpSource = z.string({ error: 'expected a regular expression source string like "^[0-9]{16}$"' }).superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `does not compile: ${(error as Error).message}`,
        input: source,
        params: QUOTES_INPUT,
      });
    }
  });

  const fieldSchema = z.strictObject({
    _id: objectId,
    name: nonEmptyString,
    placeholder: anyString,
    regexp: regexpSource,
    regexp_error: anyString,
    required: flag,
  });

  const currencySchema = z.strictObject({
    _id: objectId,
    name: nonEmptyString,
    symbol: nonEmptyString,
    xml: nonEmptyString,
    decimal: z
      .number({ error: "expected an integer 0..18 (decimal places)" })
      .refine((n) => Number.isInteger(n) && n >= 0 && n <= 18, { error: "expected an integer 0..18 (decimal places)" }),
    network: z.enum(NETWORKS as [Network, ...Network[]], {
      error: `expected one of ${NETWORKS.map((n) => JSON.stringify(n)).join(", ")}`,
    }),
  });

  const fieldList = z.array(fieldSchema, { error: "expected a list of fields (may be empty)" });

  const routeSchema = z.strictObject({
    _id: objectId,
    from: currencySchema,
    to: currencySchema,
    rate: positiveDecimal,
    min: nonNegativeDecimal,
    max: positiveDecimal,
    reserve: positiveDecimal,
    manual: flag,
    paymentWindowMinutes: z
      .number({ error: "expected a whole number of minutes, 1 or more" })
      .refine((n) => Number.isInteger(n) && n >= 1, { error: "expected a whole number of minutes, 1 or more" }),
    fromFields: fieldList,
    toFields: fieldList,
    routeFields: fieldList,
  });

  const catalogSchema = z.strictObject(
    {
      routes: z
        .array(routeSchema, { error: 'expected "routes" to be a list of routes' })
        .min(1, { error: "expected at least one route (the sandbox cannot serve an empty catalogue)" }),
    },
    { error: 'expected an object like {"routes": [...]}' },
  );
  return catalogSchema;
});

/**
 * Checks `json` against the Route shape and the rules the shape cannot express (unique ids, one definition per
 * currency, min ≤ max). `source` only labels the error message. Returns the catalogue unchanged when it is valid.
 */
export function parseCatalog(json: unknown, source: string): Catalog {
  const result = catalogSchema().safeParse(json, { reportInput: true });
  if (!result.success) {
    throw withMore(source, result.error.issues.map(describeIssue));
  }
  // Typed as Catalog so the schema cannot drift from types.ts without a compile error here.
  const catalog: Catalog = result.data;
  const problems = crossCheck(catalog);
  if (problems.length > 0) throw withMore(source, problems);
  return catalog;
}

/** Reads a catalogue JSON file (`{"routes": [...]}`) and validates it with parseCatalog. */
export async function loadCatalogFile(path: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CatalogError(path, "file not found; check the path, or leave it out to use the built-in catalogue");
    if (code === "EISDIR") throw new CatalogError(path, "is a directory; expected a JSON file");
    throw new CatalogError(path, `cannot read the file: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    // Editors on Windows like to start UTF-8 files with a byte-order mark, which JSON.parse refuses.
    json = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new CatalogError(path, `not valid JSON: ${(error as Error).message}`);
  }
  return parseCatalog(json, path);
}

function withMore(source: string, problems: string[]): CatalogError {
  const [first, ...rest] = problems;
  const more = rest.length === 0 ? "" : ` (and ${rest.length} more problem${rest.length === 1 ? "" : "s"})`;
  return new CatalogError(source, `${first ?? "invalid catalogue"}${more}`);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? "" : `${formatPath(issue.path)}: `;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return `${where}unknown key${issue.keys.length === 1 ? "" : "s"} ${keys}; remove or correct ${issue.keys.length === 1 ? "it" : "them"}`;
  }
  if (issue.code === "custom" && issue.params?.["quotesInput"] === true) return `${where}${issue.message}`;
  const got = issue.input === undefined ? "but it is missing" : `got ${showValue(issue.input)}`;
  return `${where}${issue.message}, ${got}`;
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text;
}

function showValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `a list of ${value.length}`;
  if (value !== null && typeof value === "object") return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** The rules across values: each is reported at the later of two conflicting places, naming the earlier one. */
function crossCheck(catalog: Catalog): string[] {
  const problems: string[] = [];
  const routeIds = new Map<string, string>();
  const currencies = new Map<string, { currency: Currency; at: string }>();

  catalog.routes.forEach((route, index) => {
    const at = `routes[${index}]`;

    const earlierRoute = routeIds.get(route._id);
    if (earlierRoute !== undefined) problems.push(`${at}._id: duplicate route id "${route._id}", already used by ${earlierRoute}`);
    else routeIds.set(route._id, at);

    if (new Big(route.min).gt(route.max)) {
      problems.push(`${at}.min: ${route.min} is more than max ${route.max}; min must be at most max`);
    }

    const fieldIds = new Map<string, string>();
    for (const list of ["fromFields", "toFields", "routeFields"] as const) {
      route[list].forEach((field, i) => {
        const fieldAt = `${at}.${list}[${i}]`;
        const earlier = fieldIds.get(field._id);
        // Merchants send values keyed by field id, so two fields with one id in a route would be ambiguous.
        if (earlier !== undefined) problems.push(`${fieldAt}._id: duplicate field id "${field._id}" in this route, already used by ${earlier}`);
        else fieldIds.set(field._id, fieldAt);
      });
    }

    for (const side of ["from", "to"] as const) {
      const currency = route[side];
      const known = currencies.get(currency._id);
      if (known === undefined) {
        currencies.set(currency._id, { currency, at: `${at}.${side}` });
        continue;
      }
      const differing = CURRENCY_KEYS.find((key) => known.currency[key] !== currency[key]);
      if (differing !== undefined) {
        problems.push(
          `${at}.${side}.${differing}: currency "${currency._id}" has ${differing} ${JSON.stringify(known.currency[differing])} at ${known.at}, ` +
            `got ${JSON.stringify(currency[differing])}; one currency id must have one definition everywhere`,
        );
      }
    }
  });
  return problems;
}

const CURRENCY_KEYS = ["name", "symbol", "xml", "decimal", "network"] as const satisfies readonly (keyof Currency)[];

