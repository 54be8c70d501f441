// Reads API parameters from a query string, JSON, urlencoded or multipart body, decoding PHP-style bracket keys safely.

import { ApiError } from "../errors.js";

/** Keys that could reach an object's prototype: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export interface ParamLimits {
  /** Most fields in one request. */
  maxFields: number;
  /** Most bracket segments after the name: `a[0][key]` has 2. */
  maxDepth: number;
  /** Highest numeric index accepted: `a[99]` with 99. */
  maxIndex: number;
  /** Deepest nesting accepted in a JSON body. */
  maxJsonDepth: number;
}

export const DEFAULT_PARAM_LIMITS: ParamLimits = { maxFields: 1000, maxDepth: 4, maxIndex: 99, maxJsonDepth: 16 };

export type Params = Record<string, unknown>;

const malformed = (message: string, object: Record<string, unknown> = {}) =>
  new ApiError("malformedBody", message, object);

const KEY_SHAPE = /^([^[\]]+)((?:\[[^[\]]*\])*)$/;
const SEGMENT = /\[([^[\]]*)\]/g;

/** Splits `fromValues[0][key]` into ["fromValues", "0", "key"]; `[]` gives "" (append). */
export function parseBracketKey(key: string): string[] {
  const match = KEY_SHAPE.exec(key);
  if (!match) {
    throw malformed(`Field name ${JSON.stringify(key)} is not of the form name or name[a][b]`, { key });
  }
  const segments = [match[1]!];
  for (const m of match[2]!.matchAll(SEGMENT)) segments.push(m[1]!);
  return segments;
}

/**
 * Turns form entries with bracket keys into nested objects and arrays, as PHP does:
 * `toValues[0][key]=a&toValues[0][value]=b` → `{ toValues: [{ key: "a", value: "b" }] }`.
 * Refuses, rather than drops, what PHP-style decoders silently mangle: prototype keys, absurd indexes or depths,
 * a name given twice, a name used both as a value and as a list.
 */
export function decodeBracketEntries(entries: Iterable<[string, string]>, limits: ParamLimits = DEFAULT_PARAM_LIMITS): Params {
  const root: Params = {};
  let count = 0;
  let nested = false;
  for (const [key, value] of entries) {
    if (++count > limits.maxFields) {
      throw malformed(`Too many fields: at most ${limits.maxFields} are accepted in one request`, { limit: limits.maxFields });
    }
    // A plain name, the usual case, needs no parsing.
    const plain = key !== "" && !key.includes("[") && !key.includes("]");
    const segments = plain ? [key] : parseBracketKey(key);
    nested ||= segments.length > 1;
    if (segments.length - 1 > limits.maxDepth) {
      throw malformed(`Field ${key} is nested ${segments.length - 1} levels deep; at most ${limits.maxDepth} are accepted`, { key });
    }
    for (const segment of segments) {
      if (FORBIDDEN_KEYS.has(segment)) throw malformed(`Field name ${key} uses the forbidden key ${segment}`, { key });
    }
    insert(root, segments, value, key, limits);
  }
  // Only a bracket key can have made a list to compact.
  return nested ? (compactArrays(root) as Params) : root;
}

type Container = Record<string, unknown> | SparseList;

/** An array under construction: PHP-style indexes may arrive in any order and with gaps. */
class SparseList {
  readonly items = new Map<number, unknown>();
  next = 0;
}

function insert(root: Params, segments: string[], value: string, key: string, limits: ParamLimits): void {
  let container: Container = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    const slot = resolveSlot(container, segment, key, limits);
    const existing = get(container, slot);
    if (last) {
      if (existing !== undefined) {
        throw malformed(
          existing instanceof SparseList || isPlainObject(existing)
            ? `Field ${key} is given both as a value and as a list`
            : `Field ${key} is given twice`,
          { key },
        );
      }
      set(container, slot, value);
      return;
    }
    const nextIsIndex = /^\d*$/.test(segments[i + 1]!);
    if (existing === undefined) {
      const created: Container = nextIsIndex ? new SparseList() : {};
      set(container, slot, created);
      container = created;
    } else if (existing instanceof SparseList || isPlainObject(existing)) {
      if (existing instanceof SparseList && !nextIsIndex) {
        throw malformed(`Field ${key} mixes list indexes and names at the same level`, { key });
      }
      if (!(existing instanceof SparseList) && nextIsIndex && segments[i + 1] === "") {
        throw malformed(`Field ${key} mixes list indexes and names at the same level`, { key });
      }
      container = existing as Container;
    } else {
      throw malformed(`Field ${key} is given both as a value and as a list`, { key });
    }
  }
}

function resolveSlot(container: Container, segment: string, key: string, limits: ParamLimits): string | number {
  if (!(container instanceof SparseList)) return segment;
  if (segment === "") {
    // `name[]` appends: without this check a list could grow past the highest index by appending.
    if (container.next > limits.maxIndex) {
      throw malformed(`Field ${key} appends item ${container.next + 1} to a list; a list holds at most ${limits.maxIndex + 1} items`, { key });
    }
    return container.next;
  }
  if (!/^\d+$/.test(segment)) {
    throw malformed(`Field ${key} mixes list indexes and names at the same level`, { key });
  }
  const index = Number(segment);
  if (index > limits.maxIndex) {
    throw malformed(`Field ${key} has index ${segment}; indexes go from 0 to ${limits.maxIndex}`, { key });
  }
  return index;
}

function get(container: Container, slot: string | number): unknown {
  if (container instanceof SparseList) return container.items.get(slot as number);
  return Object.hasOwn(container, slot) ? container[slot as string] : undefined;
}

function set(container: Container, slot: string | number, value: unknown): void {
  if (container instanceof SparseList) {
    const index = slot as number;
    container.items.set(index, value);
    container.next = Math.max(container.next, index + 1);
  } else {
    container[slot as string] = value;
  }
}

/** Gaps in indexes are closed up in index order, as the order of the pairs is all that indexes carry. */
function compactArrays(value: unknown): unknown {
  if (value instanceof SparseList) {
    return [...value.items.entries()].sort(([a], [b]) => a - b).map(([, item]) => compactArrays(item));
  }
  if (isPlainObject(value)) {
    const out: Params = {};
    for (const [k, v] of Object.entries(value)) out[k] = compactArrays(v);
    return out;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof SparseList);
}

/** Parses a JSON body that must be an object; refuses prototype keys and absurd nesting. */
export function parseJsonParams(text: string, limits: ParamLimits = DEFAULT_PARAM_LIMITS): Params {
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw malformed(`The body is not valid JSON (${reason}); send a JSON object such as {"routeId": "…"}`);
  }
  // Depth first, with a stack of its own: the walks below recurse, and a body nested ten thousand deep would
  // overflow the call stack before they got to any limit.
  if (nestedDeeperThan(parsed, limits.maxJsonDepth)) throw malformed(`The JSON body is nested more than ${limits.maxJsonDepth} levels deep`);
  // Checked after parsing rather than by a reviver, which makes JSON.parse several times slower. JSON.parse keeps a
  // "__proto__" key as a plain own property, so the walk sees every key a reviver would, in the same order.
  const forbidden = findForbiddenKey(parsed);
  if (forbidden !== null) throw malformed(`The JSON body uses the forbidden key ${forbidden}`, { key: forbidden });
  if (!isPlainObject(parsed)) {
    throw malformed(`The JSON body must be an object of parameters, got ${Array.isArray(parsed) ? "an array" : typeof parsed === "object" ? "null" : typeof parsed}`);
  }
  checkJsonShape(parsed, limits);
  return parsed;
}

/** True when some value in `root` is more than `max` levels below it; iterative, so any depth is safe to check. */
function nestedDeeperThan(root: unknown, max: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > max) return true;
    if (typeof item.value !== "object" || item.value === null) continue;
    for (const child of Object.values(item.value)) stack.push({ value: child, depth: item.depth + 1 });
  }
  return false;
}

/** The first forbidden key in the order a JSON.parse reviver meets them: each value's own keys before its key. */
function findForbiddenKey(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return null;
  for (const key of Object.keys(value)) {
    const inner = findForbiddenKey((value as Record<string, unknown>)[key]);
    if (inner !== null) return inner;
    if (FORBIDDEN_KEYS.has(key)) return key;
  }
  return null;
}

/**
 * Holds a JSON body to the limits a form body has: nesting, the number of values, the length of each list. A body
 * under the size limit can still hold a hundred thousand tiny values; nothing the API takes needs more than a few.
 */
function checkJsonShape(root: unknown, limits: ParamLimits): void {
  // The root object itself is not a value: count only what it holds.
  let values = -1;
  const walk = (value: unknown, depth: number, path: string): void => {
    if (depth > limits.maxJsonDepth) throw malformed(`The JSON body is nested more than ${limits.maxJsonDepth} levels deep`);
    if (++values > limits.maxFields) {
      throw malformed(`Too many values: at most ${limits.maxFields} are accepted in one request`, { limit: limits.maxFields });
    }
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value) && value.length > limits.maxIndex + 1) {
      throw malformed(`${path} has ${value.length} items; a list holds at most ${limits.maxIndex + 1}`, { key: path });
    }
    for (const [key, child] of Object.entries(value)) walk(child, depth + 1, path === "" ? key : `${path}.${key}`);
  };
  walk(root, 0, "");
}

const SUPPORTED_TYPES = "application/json, application/x-www-form-urlencoded or multipart/form-data";

/** Reads the parameters of a GET: its URL's query string. */
export function readQueryParams(url: string, limits: ParamLimits = DEFAULT_PARAM_LIMITS): { params: Params; rawBody: null } {
  const at = url.indexOf("?");
  if (at === -1) return { params: {}, rawBody: null };
  const hash = url.indexOf("#", at);
  const query = hash === -1 ? url.slice(at + 1) : url.slice(at + 1, hash);
  return { params: plainQueryParams(query, limits) ?? decodeBracketEntries(queryEntries(query), limits), rawBody: null };
}

/**
 * The parameters of a query of plain pairs, `name=value&…` with nothing to decode, no brackets and no name twice,
 * in one pass: the usual order/get. Null for anything else, which the full decoder then reads (and refuses, where it
 * must, with its message). Gives what decodeBracketEntries(queryEntries(query)) gives.
 */
function plainQueryParams(query: string, limits: ParamLimits): Params | null {
  const params: Params = {};
  let count = 0;
  let from = 0;
  while (from <= query.length) {
    let end = query.indexOf("&", from);
    if (end === -1) end = query.length;
    if (end > from) {
      if (++count > limits.maxFields) return null;
      let eq = query.indexOf("=", from);
      if (eq === -1 || eq > end) eq = end;
      for (let i = from; i < end; i++) {
        const c = query.charCodeAt(i);
        // % and + need decoding; [ and ] make a bracket key.
        if (c === 37 || c === 43 || c === 91 || c === 93) return null;
      }
      const name = query.slice(from, eq);
      if (name === "" || FORBIDDEN_KEYS.has(name) || Object.hasOwn(params, name)) return null;
      params[name] = eq === end ? "" : query.slice(eq + 1, end);
    }
    from = end + 1;
  }
  return params;
}

/**
 * The name–value pairs of a query string, decoded as URLSearchParams decodes them. URLSearchParams itself cost an
 * order/get more than finding and answering the order, so a pair is decoded with decodeURIComponent, which gives
 * the same text for every well-formed escape; a query with a malformed one goes to URLSearchParams whole.
 */
export function queryEntries(query: string): [string, string][] {
  const entries: [string, string][] = [];
  try {
    for (const pair of query.split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const name = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      entries.push([decodeFormComponent(name), decodeFormComponent(value)]);
    }
  } catch {
    return [...new URLSearchParams(query).entries()];
  }
  return entries;
}

const NEEDS_DECODING = /[%+]/;

function decodeFormComponent(text: string): string {
  return NEEDS_DECODING.test(text) ? decodeURIComponent(text.replace(/\+/g, " ")) : text;
}

/** Reads a request's parameters: the query string for GET, the body (by its Content-Type) for POST and PUT. */
export async function readParams(
  request: Request,
  limits: ParamLimits = DEFAULT_PARAM_LIMITS,
  /** Reads the body as text; by default `request.text()` (a faster reader may be given for the same bytes). */
  bodyText: () => Promise<string> = () => request.text(),
): Promise<{ params: Params; rawBody: string | null }> {
  if (request.method === "GET" || request.method === "HEAD") {
    return readQueryParams(request.url, limits);
  }
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType === "multipart/form-data") {
    let form: FormData;
    try {
      form = await request.formData();
    } catch (error) {
      throw malformed(`The multipart body could not be read (${error instanceof Error ? error.message : String(error)})`);
    }
    const entries: [string, string][] = [];
    for (const [key, value] of form.entries()) {
      if (typeof value !== "string") throw malformed(`Field ${key} is a file; the API takes only text fields`, { key });
      entries.push([key, value]);
    }
    return { params: decodeBracketEntries(entries, limits), rawBody: null };
  }
  const text = await bodyText();
  switch (contentType) {
    case "application/json":
      return { params: parseJsonParams(text, limits), rawBody: text };
    case "application/x-www-form-urlencoded":
      return { params: decodeBracketEntries(new URLSearchParams(text).entries(), limits), rawBody: text };
    case "":
      // The engine reads a body by its type and ignores one without, answering as if no parameter had come ("routeId
      // required"): name the real cause instead, and never guess the type, which the service would not.
      throw malformed(
        `The request has no Content-Type header, so its body cannot be read; send Content-Type: application/json with a JSON body (or ${SUPPORTED_TYPES.replace("application/json, ", "")})`,
      );
    default:
      throw malformed(`Content-Type ${contentType} is not supported; send ${SUPPORTED_TYPES}`, { contentType });
  }
}
