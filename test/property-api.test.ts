// Property-based tests: any input to the merchant or control API gets the documented answer, never a 5xx or pollution.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS, scenarioDirector } from "../scenarios/index.js";
import { CREATE_PARAMS, createSandbox, ERROR_CODES, exampleCreateParams, FAULTS, STATUSES, type Route, type Sandbox } from "../sandbox/index.js";

/** Runs per property: enough to find a crash, few enough that the file takes seconds (raise it when hunting). */
const RUNS = Number(process.env.PROPERTY_RUNS ?? 40);
const API = "/service/api/v1/";
const METHODS = {
  "public/exchanger/order/create": "POST",
  "public/exchanger/order/get": "GET",
  "public/exchanger/order/update-status": "PUT",
  "public/exchanger/route/get": "GET",
  "public/exchanger/route/get/one": "GET",
} as const;
type MethodName = keyof typeof METHODS;
const KNOWN_CODES = new Set<number>(Object.values(ERROR_CODES));

// ---- what the prototypes look like before anything runs, to check they are never touched

type Snapshot = Map<string, unknown>;
const PROTOTYPES = { Object: Object.prototype, Array: Array.prototype, Function: Function.prototype, String: String.prototype };
function snapshot(target: object): Snapshot {
  return new Map(Reflect.ownKeys(target).map((key) => {
    const d = Object.getOwnPropertyDescriptor(target, key)!;
    return [String(key), d.value ?? d.get];
  }));
}
const pristine = Object.fromEntries(Object.entries(PROTOTYPES).map(([name, proto]) => [name, snapshot(proto)])) as Record<keyof typeof PROTOTYPES, Snapshot>;

function expectPrototypesUntouched(): void {
  for (const [name, proto] of Object.entries(PROTOTYPES) as [keyof typeof PROTOTYPES, object][]) {
    const now = snapshot(proto);
    expect([...now.keys()], `${name}.prototype's keys`).toEqual([...pristine[name].keys()]);
    for (const [key, value] of now) expect(Object.is(value, pristine[name].get(key)), `${name}.prototype.${key}`).toBe(true);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

// ---- arbitraries

const NAMES = [
  ...CREATE_PARAMS,
  ...["orderUID", "orderSecret", "status", "type", "id", "fromCurrencyId", "toCurrencyId", "time", "key", "value"],
  ...["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "length"],
];
const SPECIAL_TEXT = [
  "", " ", "NaN", "Infinity", "-Infinity", "-0", "0", "-1", "1e308", "1e-400", "0x10", "2", "0.1", "0.30000000000000004",
  "9".repeat(400), "1".padEnd(40, "0"), "true", "false", "null", "undefined", "[]", "{}", "%", "%zz", "%00", "\u0000",
  "\ud800", "😀", "Z123456789012", "<script>alert(1)</script>", "javascript:alert(1)", "http://127.0.0.1:1/ipn",
  ...STATUSES, "order", "payment", "en", "ru", "__proto__",
];

/** Ids that reach deep into validation: real route, currency and field ids, the target order's uid and secret. */
interface Known {
  ids: string[];
  uid: () => string;
  secret: () => string;
}

function arbitraries(known: Known) {
  const name = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 12 }), fc.string({ unit: "grapheme", maxLength: 6 }));
  const segment = fc.oneof(
    fc.constant(""),
    fc.nat({ max: 120 }).map(String),
    fc.constantFrom("99", "100", "1000000", "-1", "1e3", "01", "key", "value", "__proto__", "constructor", "prototype"),
    fc.string({ maxLength: 6 }),
  );
  /** PHP-style keys at any depth, and some that are not keys at all (unbalanced or nested brackets). */
  const key = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(name, fc.array(segment, { maxLength: 8 })).map(([n, s]) => n + s.map((x) => `[${x}]`).join("")) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  );
  const text = fc.oneof(
    fc.constantFrom(...SPECIAL_TEXT),
    fc.constantFrom(...known.ids),
    fc.constant(null).map(() => known.uid()),
    fc.constant(null).map(() => known.secret()),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: "grapheme", maxLength: 20 }),
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.double().map(String),
    fc.bigInt().map(String),
  );
  /** JSON as text, so that duplicate keys, `__proto__` keys and out-of-range numbers survive to the parser. */
  const scalarJson = fc.oneof(
    text.map((t) => JSON.stringify(t)),
    fc.constantFrom("true", "false", "null", "1e999", "-1e999", "123456789012345678901234567890", "-0", "5e-324", "0.30000000000000004"),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
    fc.integer().map(String),
  );
  const { value: json } = fc.letrec<{ value: string; list: string; object: string }>((tie) => ({
    value: fc.oneof({ depthSize: "small" }, scalarJson, tie("list"), tie("object")),
    list: fc.array(tie("value"), { maxLength: 5 }).map((items) => `[${items.join(",")}]`),
    object: fc.array(fc.tuple(fc.oneof(name, key), tie("value")), { maxLength: 6 }).map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  }));
  const entries = fc.array(fc.tuple(key, text), { maxLength: 16 });
  return { name, key, text, json, entries };
}

type Arbs = ReturnType<typeof arbitraries>;

/** A valid request's parameters as PHP-style form entries: `toValues[0][key]=…`. */
function toEntries(value: unknown, prefix = ""): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => toEntries(item, `${prefix}[${i}]`));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([k, v]) => toEntries(v, prefix === "" ? k : `${prefix}[${k}]`));
  }
  return [[prefix, String(value)]];
}

/** Breaks a valid request in one to three ways: a value replaced, a key replaced, an entry added or given twice. */
function mutated(arbs: Arbs, valid: () => [string, string][]) {
  const change = fc.oneof(
    fc.tuple(fc.constant("value" as const), fc.nat(), arbs.text),
    fc.tuple(fc.constant("key" as const), fc.nat(), arbs.key),
    fc.tuple(fc.constant("add" as const), arbs.key, arbs.text),
    fc.tuple(fc.constant("twice" as const), fc.nat(), fc.constant("")),
    fc.tuple(fc.constant("drop" as const), fc.nat(), fc.constant("")),
  );
  return fc.array(change, { minLength: 1, maxLength: 3 }).map((changes) => {
    const out = valid();
    for (const [kind, a, b] of changes) {
      const at = typeof a === "number" && out.length > 0 ? a % out.length : 0;
      if (kind === "value" && out[at]) out[at] = [out[at][0], b];
      else if (kind === "key" && out[at]) out[at] = [String(b), out[at][1]];
      else if (kind === "add") out.push([String(a), b]);
      else if (kind === "twice" && out[at]) out.push(out[at]);
      else if (kind === "drop") out.splice(at, 1);
    }
    return out;
  });
}

/** Entries as a JSON object, keeping every entry (duplicates too) and bracket keys as plain names. */
const entriesJson = (entries: [string, string][]) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`;

type Encoding = "json" | "urlencoded" | "urlencoded-raw" | "multipart" | "query";

function encode(entries: [string, string][], encoding: Encoding): { query: string; init: RequestInit } {
  switch (encoding) {
    case "json":
      return { query: "", init: { body: entriesJson(entries), headers: { "content-type": "application/json" } } };
    case "urlencoded":
      return { query: "", init: { body: new URLSearchParams(entries).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } } };
    case "urlencoded-raw":
      // Unescaped, as a careless client writes it: stray %, & and = inside names and values.
      return { query: "", init: { body: entries.map(([k, v]) => `${k}=${v}`).join("&"), headers: { "content-type": "application/x-www-form-urlencoded" } } };
    case "multipart": {
      const form = new FormData();
      for (const [k, v] of entries) form.append(k, v);
      return { query: "", init: { body: form } };
    }
    case "query":
      return { query: `?${new URLSearchParams(entries).toString()}`, init: {} };
  }
}

// ---- the sandbox under test, reached through app.request: no port, no network

let sandbox: Sandbox;
let routes: readonly Route[];
let target: { uid: number; secret: string };
let arbs: Arbs;

async function call(method: string, path: string, init: RequestInit = {}) {
  return sandbox.app.request(path, { method, ...init });
}

async function createTarget(): Promise<void> {
  const res = await call("POST", `${API}public/exchanger/order/create/`, {
    body: JSON.stringify(exampleCreateParams(routes[0]!)),
    headers: { "content-type": "application/json" },
  });
  const json = (await res.json()) as { data: { uid: number; secret: string } };
  target = { uid: json.data.uid, secret: json.data.secret };
}

beforeAll(async () => {
  sandbox = createSandbox({ seed: 5 });
  routes = sandbox.catalog.routes;
  const ids = routes.flatMap((r) => [r._id, r.from._id, r.to._id, ...[...r.fromFields, ...r.toFields, ...r.routeFields].map((f) => f._id)]);
  await createTarget();
  arbs = arbitraries({ ids: [...new Set(ids)], uid: () => String(target.uid), secret: () => target.secret });
});
afterAll(() => sandbox.close());

/** Checks the engine's envelope and the store; returns the envelope. */
async function expectEnvelope(res: Response, before: { orders: number; deliveries: number; status: string }) {
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  const body = (await res.json()) as Record<string, any>;
  expect(typeof body.latency_ms).toBe("number");
  expect(body.requestId).toMatch(/^\d+-[a-z0-9]{7}$/);
  if (body.success === true) {
    expect(body).toHaveProperty("data");
  } else {
    expect(body.success).toBe(false);
    expect(body.error).toMatchObject({ apiError: true, errorType: "api", level: 0 });
    expect(KNOWN_CODES.has(body.error.errorCode), `unknown errorCode ${body.error.errorCode}`).toBe(true);
    expect(typeof body.error.message).toBe("string");
    expect(body.error.message.length).toBeGreaterThan(0);
    // Nothing stored for a rejected request: no order, no IPN, no move.
    expect(sandbox.store.listOrders()).toHaveLength(before.orders);
    expect(sandbox.store.listDeliveries()).toHaveLength(before.deliveries);
    expect(sandbox.store.getOrder(target.uid)!.status).toBe(before.status);
  }
  expectPrototypesUntouched();
  return body;
}

/** Sends one request and checks it; moves on to a fresh target order when a lucky update-status moved it. */
async function sendAndCheck(method: string, path: string, init: RequestInit = {}) {
  const before = { orders: sandbox.store.listOrders().length, deliveries: sandbox.store.listDeliveries().length, status: sandbox.store.getOrder(target.uid)!.status };
  const body = await expectEnvelope(await call(method, path, init), before);
  if (sandbox.store.getOrder(target.uid)!.status !== "new") await createTarget();
  return body;
}

const settings = () => ({ numRuns: RUNS });

describe("the merchant API, whatever it is sent", () => {
  const methods = Object.entries(METHODS) as [MethodName, string][];
  const encodingsFor = (verb: string): Encoding[] => (verb === "GET" ? ["query"] : ["json", "urlencoded", "urlencoded-raw", "multipart", "query"]);
  const cases = methods.flatMap(([name, verb]) => encodingsFor(verb).map((encoding) => [name, verb, encoding] as const));

  it.each(cases)("%s (%s) answers random %s parameters with the envelope", async (name, verb, encoding) => {
    await fc.assert(
      fc.asyncProperty(arbs.entries, async (entries) => {
        const { query, init } = encode(entries, encoding);
        await sendAndCheck(verb, `${API}${name}/${query}`, init);
      }),
      settings(),
    );
  });

  const validEntries: Record<MethodName, () => [string, string][]> = {
    "public/exchanger/order/create": () => toEntries(exampleCreateParams(routes[0]!, { ipnUrl: "http://127.0.0.1:1/ipn", ipnSecret: "s3cret" })),
    "public/exchanger/order/get": () => [["orderUID", String(target.uid)], ["orderSecret", target.secret], ["type", "payment"]],
    "public/exchanger/order/update-status": () => [["orderUID", String(target.uid)], ["orderSecret", target.secret], ["status", "deleted"]],
    "public/exchanger/route/get": () => [["fromCurrencyId", routes[0]!.from._id], ["toCurrencyId", routes[0]!.to._id]],
    "public/exchanger/route/get/one": () => [["id", routes[0]!._id]],
  };

  it.each(cases)("%s (%s) answers a valid %s request broken in a few places with the envelope", async (name, verb, encoding) => {
    await fc.assert(
      fc.asyncProperty(mutated(arbs, validEntries[name]), async (entries) => {
        const { query, init } = encode(entries, encoding);
        await sendAndCheck(verb, `${API}${name}/${query}`, init);
      }),
      settings(),
    );
  });

  it.each(methods.filter(([, verb]) => verb !== "GET"))("%s (%s) answers random JSON of any shape and nesting with the envelope", async (name, verb) => {
    await fc.assert(
      fc.asyncProperty(arbs.json, fc.boolean(), async (json, typed) => {
        await sendAndCheck(verb, `${API}${name}/`, { body: json, headers: typed ? { "content-type": "application/json" } : {} });
      }),
      settings(),
    );
  });

  it.each(methods.filter(([, verb]) => verb !== "GET"))("%s (%s) answers bodies that are not what their Content-Type says with the envelope", async (name, verb) => {
    const contentType = fc.constantFrom(
      "application/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=xyz",
      "text/plain",
      "application/json; charset=utf-16",
      "",
      "garbage/;;;",
    );
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: "binary", maxLength: 100 }),
      fc.uint8Array({ maxLength: 200 }),
      arbs.json.map((j) => j.slice(0, Math.max(0, j.length - 3))),
      fc.nat({ max: 3000 }).map((n) => "[".repeat(n) + "]".repeat(n)),
      fc.nat({ max: 3000 }).map((n) => '{"a":'.repeat(n) + "1" + "}".repeat(n)),
      fc.constant("--xyz\r\nContent-Disposition: form-data; name=\"a[__proto__]\"\r\n\r\n1\r\n--xyz--\r\n"),
      fc.constant("--xyz\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--xyz--\r\n"),
    );
    await fc.assert(
      fc.asyncProperty(contentType, body, async (type, payload) => {
        await sendAndCheck(verb, `${API}${name}/`, { body: payload, headers: type === "" ? {} : { "content-type": type } });
      }),
      settings(),
    );
  });

  it.each<[Encoding, MethodName, string]>([
    ["json", "public/exchanger/order/create", "POST"],
    ["urlencoded", "public/exchanger/order/create", "POST"],
    ["multipart", "public/exchanger/order/update-status", "PUT"],
    ["query", "public/exchanger/order/get", "GET"],
  ])("refuses a %s request with __proto__, constructor or prototype at any depth as a malformed body (%s)", async (encoding, name, verb) => {
    const forbidden = fc.constantFrom("__proto__", "constructor", "prototype");
    const path = fc.tuple(fc.array(fc.constantFrom("toValues", "0", "key", "a", "1"), { minLength: 0, maxLength: 3 }), forbidden, fc.array(fc.constantFrom("0", "polluted", "x"), { maxLength: 2 }));
    await fc.assert(
      fc.asyncProperty(arbs.entries, path, fc.nat(), async (entries, [above, bad, below], at) => {
        const segments = [...above, bad, ...below];
        let init: RequestInit;
        let query = "";
        if (encoding === "json") {
          // The forbidden key as a real JSON key at its depth: {"toValues":{"0":{"__proto__":{"polluted":"1"}}}}.
          const nested = segments.reduceRight((inner, segment) => `{${JSON.stringify(segment)}:${inner}}`, '"1"');
          const body = `{${[...entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`), nested.slice(1, -1)].join(",")}}`;
          init = { body, headers: { "content-type": "application/json" } };
        } else {
          const key = segments.length === 1 ? segments[0]! : `${segments[0]}${segments.slice(1).map((s) => `[${s}]`).join("")}`;
          const hostile: [string, string][] = [...entries];
          hostile.splice(at % (entries.length + 1), 0, [key, "1"]);
          ({ query, init } = encode(hostile, encoding));
        }
        const body = await sendAndCheck(verb, `${API}${name}/${query}`, init);
        expect(body.success).toBe(false);
        expect(body.error.errorCode).toBe(ERROR_CODES.malformedBody);
      }),
      settings(),
    );
  });

  it("answers any path under the API and any verb with the envelope", async () => {
    const path = fc.oneof(fc.constantFrom(...Object.keys(METHODS)), fc.string({ maxLength: 40 }).map(encodeURI), fc.webPath());
    const verb = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH");
    await fc.assert(
      fc.asyncProperty(path, verb, async (p, v) => {
        await sendAndCheck(v, `${API}${p.replace(/^\/+/, "")}`, v === "GET" ? {} : { body: "{}", headers: { "content-type": "application/json" } });
      }),
      settings(),
    );
  });

  it("answers a multipart body with a file in it, under any name, with the envelope", async () => {
    await fc.assert(
      fc.asyncProperty(arbs.key, fc.uint8Array({ maxLength: 64 }), async (key, bytes) => {
        const form = new FormData();
        form.append("routeId", routes[0]!._id);
        form.append(key, new Blob([bytes]), "a.bin");
        const body = await sendAndCheck("POST", `${API}public/exchanger/order/create/`, { body: form });
        expect(body.success).toBe(false);
      }),
      settings(),
    );
  });
});

describe("the control API, whatever it is sent", () => {
  let control: Sandbox;
  let uid: number;
  beforeAll(async () => {
    // Test IPNs may only go to a host nothing here generates, so no property run can send one anywhere.
    control = createSandbox({ seed: 6, ipnAllow: ["ipn.sandbox.invalid"], extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 500 })] });
    const res = await control.app.request(`${API}public/exchanger/order/create/`, {
      method: "POST",
      body: JSON.stringify(exampleCreateParams(control.catalog.routes[0]!)),
      headers: { "content-type": "application/json" },
    });
    uid = ((await res.json()) as { data: { uid: number } }).data.uid;
  });
  afterAll(() => control.close());

  const segment = () =>
    fc.oneof(
      fc.constant(null).map(() => String(uid)),
      fc.constantFrom("0", "-1", "1e3", "99999999999999999999", "d1", "%00", "..", "%2e%2e", "__proto__", "constructor"),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
  const endpoints = () =>
    fc.oneof(
      fc.tuple(fc.constant("GET"), fc.constantFrom("/health", "/orders", "/deliveries", "/clock", "/maintenance", "/scenarios", "/")),
      fc.tuple(fc.constant("GET"), segment().map((s) => `/orders/${s}`)),
      fc.tuple(fc.constant("GET"), segment().map((s) => `/orders/${s}/scenario`)),
      fc.tuple(fc.constant("GET"), segment().map((s) => `/deliveries?orderUID=${s}`)),
      fc.tuple(fc.constant("GET"), segment().map((s) => `/deliveries/${s}`)),
      fc.tuple(fc.constant("GET"), segment().map((s) => `/dashboard/orders/${s}`)),
      fc.tuple(fc.constant("POST"), segment().map((s) => `/orders/${s}/status`)),
      fc.tuple(fc.constant("POST"), segment().map((s) => `/orders/${s}/pay`)),
      fc.tuple(fc.constant("POST"), segment().map((s) => `/orders/${s}/scenario`)),
      fc.tuple(fc.constant("POST"), segment().map((s) => `/deliveries/${s}/resend`)),
      fc.tuple(fc.constantFrom("POST", "PUT", "DELETE"), fc.constantFrom("/ipn", "/clock/advance", "/maintenance", "/health", "/orders")),
      fc.tuple(fc.constantFrom("GET", "POST"), segment().map((s) => `/${s}`)),
    );
  const bodies = () =>
    fc.oneof(
      arbs.json,
      fc.record(
        {
          status: fc.oneof(fc.constantFrom(...STATUSES), arbs.text),
          fault: fc.oneof(fc.constantFrom(...FAULTS), arbs.text, arbs.json.map((j) => JSON.parse(JSON.stringify(safeParse(j))))),
          force: fc.oneof(fc.boolean(), arbs.text),
          ms: fc.oneof(fc.integer(), fc.double(), arbs.text),
          on: fc.oneof(fc.boolean(), arbs.text),
          ipnUrl: fc.oneof(fc.webUrl(), arbs.text, fc.constantFrom("file:///etc/passwd", "http://127.0.0.1:1/ipn", "gopher://x")),
          ipnSecret: arbs.text,
          orderUID: fc.oneof(fc.integer(), arbs.text),
          name: fc.oneof(fc.constantFrom("no-such-scenario", ""), arbs.text),
          mode: arbs.text,
        },
        { requiredKeys: [] },
      ).map((record) => JSON.stringify(record)),
      fc.string({ maxLength: 100 }),
    );

  it("answers every endpoint, with any path segment and any body, with JSON and never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(endpoints(), bodies(), fc.constantFrom("application/json", "text/plain", ""), async ([method, path], body, type) => {
        const init: RequestInit = method === "GET" ? {} : { body, headers: type === "" ? {} : { "content-type": type } };
        const res = await control.app.request(`/_sandbox${path}`, { method, ...init });
        expect(res.status, `${method} ${path} ${body}`).toBeLessThan(500);
        // The dashboard's own card fragments (not the control API) answer an unknown order with a plain-text 404, and
        // a path that `..` takes out of /_sandbox is no longer the control API's.
        const resolved = new URL(`http://sandbox/_sandbox${path}`).pathname;
        if (res.status >= 400 && resolved.startsWith("/_sandbox/") && !resolved.startsWith("/_sandbox/dashboard/")) {
          expect(res.headers.get("content-type")).toContain("application/json");
          const json = (await res.json()) as { error: { type: string; message: string } };
          expect(typeof json.error.type).toBe("string");
          expect(typeof json.error.message).toBe("string");
        } else {
          await res.arrayBuffer();
        }
        expectPrototypesUntouched();
      }),
      settings(),
    );
    await control.dispatcher.idle();
    // A lucky body may have switched maintenance on: the order and the sandbox still answer.
    expect((await control.app.request("/_sandbox/health")).status).toBe(200);
    expect(control.store.getOrder(uid)).toBeDefined();
  });
});

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
