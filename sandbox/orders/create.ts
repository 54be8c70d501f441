// Validates order/create parameters against the route catalogue, as the engine does, and prices the order.

import type { Catalog, Route, RouteField } from "../catalog/types.js";
import { invalidParam } from "../errors.js";
import { compareAmounts, parseAmount, payout } from "./amount.js";
import { OBJECT_ID } from "./ids.js";

/** Request parameters as the API decoded them (JSON, form or query), before validation. */
type Params = Record<string, unknown>;

/** The parameters of order/create, in the docs' order. */
export const CREATE_PARAMS = [
  "routeId",
  "partner",
  "amount",
  "fromValues",
  "toValues",
  "routeValues",
  "lang",
  "agreement",
  "hideOutData",
  "clientCallbackUrl",
  "ipnUrl",
  "ipnSecret",
] as const;

/** Parameters the authorization scheme adds; accepted anywhere and not part of the order. */
export const AUTH_PARAMS = ["time"] as const;

export const LANGS = ["en", "ru"] as const;
export type Lang = (typeof LANGS)[number];

export type ValueListName = "fromValues" | "toValues" | "routeValues";

export interface ValidatedValue {
  field: RouteField;
  value: string;
}

/** An order/create request that passed validation, priced. */
export interface ValidatedCreate {
  route: Route;
  partner: string | null;
  inAmount: string;
  outAmount: string;
  fromValues: ValidatedValue[];
  toValues: ValidatedValue[];
  routeValues: ValidatedValue[];
  lang: Lang;
  agreement: true;
  hideOutData: boolean;
  clientCallbackUrl: string | null;
  ipnUrl: string | null;
  ipnSecret: string | null;
}

/** The longest URL or requisite value, and the longest `partner` or `ipnSecret`, order/create accepts. */
export const CREATE_TEXT_LIMITS = { url: 2048, short: 256 } as const;
const MAX_TEXT = CREATE_TEXT_LIMITS.url;

/**
 * What a yes/no parameter may be: JSON's booleans, and the words forms send ("on" is what a browser sends for a ticked
 * checkbox; "1" and "true" what PHP and most form libraries send).
 */
export const BOOLEAN_WORDS = { yes: [true, "true", "1", "on", 1], no: [false, "false", "0", 0] } as const;

/** Field patterns compiled once: the catalogue is fixed for a run and order/create is a hot path. */
const patterns = new Map<string, RegExp>();
function compiled(source: string): RegExp {
  let pattern = patterns.get(source);
  if (!pattern) {
    pattern = new RegExp(source);
    patterns.set(source, pattern);
  }
  return pattern;
}

/** Validates and prices an order; throws the engine's validation ApiError for the first problem found. */
export function validateCreate(params: Params, catalog: Catalog): ValidatedCreate {
  const route = readRoute(params.routeId, catalog);
  const inAmount = readAmount(params.amount, route);
  const outAmount = payout(inAmount, route.rate, route.to.decimal);
  if (compareAmounts(outAmount, "0") <= 0) {
    throw invalidParam("amount", `${inAmount} ${route.from.symbol} pays out nothing at rate ${route.rate}; send at least ${route.min}`, { err: "min" });
  }
  if (compareAmounts(outAmount, route.reserve) > 0) {
    throw invalidParam("amount", `${inAmount} ${route.from.symbol} would pay out ${outAmount} ${route.to.symbol}, more than the route's reserve of ${route.reserve}`, { err: "reserve" });
  }
  const agreement = readBoolean(params.agreement, "agreement", false);
  if (!agreement) {
    throw invalidParam("agreement", "the client must accept the exchange rules; send agreement=true", { err: "required" });
  }
  const fromValues = readValues(params.fromValues, "fromValues", route.fromFields);
  const toValues = readValues(params.toValues, "toValues", route.toFields);
  const routeValues = readValues(params.routeValues, "routeValues", route.routeFields);
  const lang = readLang(params.lang);
  const hideOutData = readBoolean(params.hideOutData, "hideOutData", false);
  const partner = readOptionalText(params.partner, "partner", CREATE_TEXT_LIMITS.short);
  const clientCallbackUrl = readOptionalUrl(params.clientCallbackUrl, "clientCallbackUrl");
  const ipnUrl = readOptionalUrl(params.ipnUrl, "ipnUrl");
  const ipnSecret = readOptionalText(params.ipnSecret, "ipnSecret", CREATE_TEXT_LIMITS.short);
  if (ipnUrl !== null && ipnSecret === null) {
    throw invalidParam("ipnSecret", "required when ipnUrl is given: the IPN is signed with it", { err: "required" });
  }
  return {
    route,
    partner,
    inAmount,
    outAmount,
    fromValues,
    toValues,
    routeValues,
    lang,
    agreement: true,
    hideOutData,
    clientCallbackUrl,
    ipnUrl,
    ipnSecret: ipnUrl === null ? null : ipnSecret,
  };
}

function readRoute(value: unknown, catalog: Catalog): Route {
  if (value === undefined || value === "") {
    throw invalidParam("routeId", "required; GET public/exchanger/route/get lists the routes", { err: "required" });
  }
  if (typeof value !== "string" || !OBJECT_ID.test(value)) {
    throw invalidParam("routeId", `expected a 24-hex route id, got ${describe(value)}`, { err: "type" });
  }
  const route = catalog.routes.find((r) => r._id === value);
  if (!route) {
    throw invalidParam("routeId", `no route ${value}; GET public/exchanger/route/get lists the routes`, { err: "notFound" });
  }
  return route;
}

function readAmount(value: unknown, route: Route): string {
  if (value === undefined || value === "") {
    throw invalidParam("amount", `required: how much ${route.from.symbol} the client sends`, { err: "required" });
  }
  const parsed = parseAmount(value, route.from.decimal);
  if (!parsed.ok) {
    const detail = {
      notANumber: `expected a positive decimal number such as 0.5, got ${describe(value)}`,
      notPositive: `must be greater than 0, got ${describe(value)}`,
      tooManyDecimals: `${describe(value)} has more than ${route.from.decimal} decimal places, the most ${route.from.symbol} takes`,
    }[parsed.problem];
    throw invalidParam("amount", detail, { err: parsed.problem === "tooManyDecimals" ? "decimal" : "type" });
  }
  const amount = parsed.amount;
  const range = `${route.from.symbol} → ${route.to.symbol} accepts ${route.min} to ${route.max}`;
  if (compareAmounts(amount, route.min) < 0) {
    throw invalidParam("amount", `${amount} is below the route's minimum (${range})`, { err: "min" });
  }
  if (compareAmounts(amount, route.max) > 0) {
    throw invalidParam("amount", `${amount} is above the route's maximum (${range})`, { err: "max" });
  }
  return amount;
}

function readValues(value: unknown, list: ValueListName, fields: RouteField[]): ValidatedValue[] {
  const given = value === undefined || value === "" ? [] : value;
  if (!Array.isArray(given)) {
    throw invalidParam(list, `expected a list of {key, value}, e.g. ${list}[0][key]=<field _id>&${list}[0][value]=…`, { err: "type" });
  }
  const byKey = new Map<string, string>();
  given.forEach((item: unknown, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw invalidParam(list, `item ${index} must be an object {key, value}`, { err: "type" });
    }
    const { key, value: itemValue } = item as Record<string, unknown>;
    if (typeof key !== "string" || key === "") {
      throw invalidParam(list, `item ${index} has no key; the key is the route field's _id`, { err: "type" });
    }
    const field = fields.find((f) => f._id === key);
    if (!field) {
      const known = fields.length === 0 ? "this route has no such fields" : `this route's fields are ${fields.map((f) => `${f._id} (${f.name})`).join(", ")}`;
      throw invalidParam(list, `unknown key ${key}; ${known}`, { fieldId: key, nameField: key, err: "unknown" });
    }
    if (byKey.has(key)) {
      throw invalidParam(list, `${field.name} is given twice`, { fieldId: key, nameField: field.name, err: "duplicate" });
    }
    if (typeof itemValue !== "string" && typeof itemValue !== "number") {
      throw invalidParam(list, `${field.name} must be a string, got ${describe(itemValue)}`, { fieldId: key, nameField: field.name, err: "type" });
    }
    byKey.set(key, String(itemValue));
  });
  const out: ValidatedValue[] = [];
  for (const field of fields) {
    const given = byKey.get(field._id);
    if (given === undefined || given === "") {
      if (field.required) {
        throw invalidParam(list, `${field.name} is required (key ${field._id})`, { fieldId: field._id, nameField: field.name, err: "required" });
      }
      continue;
    }
    if (given.length > MAX_TEXT || !compiled(field.regexp).test(given)) {
      throw invalidParam(list, `${field.regexp_error} (the field's regexp: ${field.regexp})`, { fieldId: field._id, nameField: field.name, err: "regexp" });
    }
    out.push({ field, value: given });
  }
  return out;
}

function readLang(value: unknown): Lang {
  if (value === undefined || value === "") return "en";
  if (typeof value === "string" && (LANGS as readonly string[]).includes(value)) return value as Lang;
  throw invalidParam("lang", `expected one of ${LANGS.join(", ")}, got ${describe(value)}`, { err: "type" });
}

function readBoolean(value: unknown, param: string, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  if ((BOOLEAN_WORDS.yes as readonly unknown[]).includes(value)) return true;
  if ((BOOLEAN_WORDS.no as readonly unknown[]).includes(value)) return false;
  throw invalidParam(param, `expected true or false, got ${describe(value)}`, { err: "type" });
}

function readOptionalText(value: unknown, param: string, max: number): string | null {
  if (value === undefined || value === null || value === "") return null;
  if (typeof value !== "string") throw invalidParam(param, `expected a string, got ${describe(value)}`, { err: "type" });
  if (value.length > max) throw invalidParam(param, `is ${value.length} characters long; at most ${max}`, { err: "length" });
  return value;
}

function readOptionalUrl(value: unknown, param: string): string | null {
  const text = readOptionalText(value, param, MAX_TEXT);
  if (text === null) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalidParam(param, `expected an absolute http or https URL, got ${describe(text)}`, { err: "url" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw invalidParam(param, `only http and https URLs are accepted, got ${url.protocol.replace(/:$/, "")}`, { err: "url" });
  }
  return text;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return Array.isArray(value) ? "a list" : "an object";
}

/** A valid order/create body for a route: its minimum amount and every required field filled with its placeholder. */
export function exampleCreateParams(route: Route, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const values = (fields: RouteField[]) => fields.filter((f) => f.required).map((f) => ({ key: f._id, value: f.placeholder }));
  return {
    routeId: route._id,
    amount: route.min,
    fromValues: values(route.fromFields),
    toValues: values(route.toFields),
    routeValues: values(route.routeFields),
    agreement: true,
    ...extra,
  };
}
