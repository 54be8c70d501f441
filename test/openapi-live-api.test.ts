// The OpenAPI description against a real sandbox: every merchant API method, in each encoding it takes, answers as its
// schema says, with and without the trailing slash; every error code each method lists is provoked and answers as
// documented; and the IPNs the sandbox sends match the webhook's schema and checksum recipe.

import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeBracketEntries } from "../sandbox/api/params.js";
import { API_METHODS, type ApiMethodName } from "../sandbox/api/index.js";
import { createSandbox, ERROR_CODES, exampleCreateParams, requestHash, TEST_CREDENTIALS, type Route, type Sandbox } from "../sandbox/index.js";
import type { OpenApiDocument } from "../sandbox/openapi/index.js";
import { specChecker, type SpecChecker } from "./support/openapi.js";
import { startSink, type Sink } from "./support/sink.js";

type Json = Record<string, any>;
type ErrorName = keyof typeof ERROR_CODES;

const MAX_BODY = 4096;
const IPN_SECRET = "openapi-ipn-secret";

let sandbox: Sandbox;
let url: string;
let sink: Sink;
let checker: SpecChecker;
let route: Route;
let manualRoute: Route;

beforeAll(async () => {
  sink = await startSink();
  sandbox = createSandbox({ maxBodyBytes: MAX_BODY });
  url = (await sandbox.listen(0)).url;
  // The sandbox's own copy: what a merchant importing it would get.
  checker = specChecker((await (await fetch(`${url}/_sandbox/openapi.json`)).json()) as OpenApiDocument);
  route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  manualRoute = sandbox.catalog.routes.find((r) => r.manual)!;
});

afterAll(async () => {
  await sandbox?.close();
  await sink?.close();
});

interface CallOptions {
  query?: Record<string, string>;
  /** A query string as it is, for what URLSearchParams would not write. */
  rawQuery?: string;
  json?: unknown;
  /** A raw body and its Content-Type. */
  raw?: { body: BodyInit; type?: string };
  headers?: Record<string, string>;
  slash?: boolean;
  verb?: string;
}

/** Calls a method, checks the answer against the description, and returns the envelope. */
async function call(method: string, options: CallOptions = {}): Promise<Json> {
  const verb = options.verb ?? API_METHODS[method as ApiMethodName]?.verb ?? "GET";
  const target = new URL(`${url}/service/api/v1/${method}${options.slash === false ? "" : "/"}`);
  for (const [k, v] of Object.entries(options.query ?? {})) target.searchParams.set(k, v);
  if (options.rawQuery !== undefined) target.search = options.rawQuery;
  const headers: Record<string, string> = { ...options.headers };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] = "application/json";
  } else if (options.raw) {
    body = options.raw.body;
    if (options.raw.type) headers["content-type"] = options.raw.type;
  }
  const seen = await checker.fetch(target.href, { method: verb, headers, ...(body === undefined ? {} : { body }) });
  expect(seen.status).toBe(200);
  return seen.body as Json;
}

const create = (extra: Record<string, unknown> = {}, on = route) => call("public/exchanger/order/create", { json: exampleCreateParams(on, extra) });

/** `a[0][key]=…` pairs for a value: PHP-style brackets, as the docs write a form. */
function bracketPairs(prefix: string, value: unknown, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) value.forEach((item, i) => bracketPairs(`${prefix}[${i}]`, item, out));
  else if (typeof value === "object" && value !== null) for (const [k, v] of Object.entries(value)) bracketPairs(`${prefix}[${k}]`, v, out);
  else out.push([prefix, String(value)]);
  return out;
}

function formPairs(params: Record<string, unknown>): [string, string][] {
  return Object.entries(params).flatMap(([k, v]) => (typeof v === "object" && v !== null ? bracketPairs(k, v) : [[k, String(v)] as [string, string]]));
}

describe("the merchant API, as the OpenAPI description says", () => {
  it("lists and reads routes, with and without the trailing slash and filters", async () => {
    const all = await call("public/exchanger/route/get");
    expect(all.data.length).toBe(sandbox.catalog.routes.length);
    expect((await call("public/exchanger/route/get", { slash: false })).success).toBe(true);
    const filtered = await call("public/exchanger/route/get", { query: { fromCurrencyId: route.from._id, toCurrencyId: route.to._id } });
    expect(filtered.data.map((r: Json) => r._id)).toEqual([route._id]);
    expect((await call("public/exchanger/route/get/one", { query: { id: route._id } })).data._id).toBe(route._id);
    expect((await call("public/exchanger/route/get/one", { query: { id: route._id }, slash: false })).data._id).toBe(route._id);
  });

  it("creates orders from JSON, a urlencoded form and a multipart form with bracket keys, and with the apikey/hash authorization", async () => {
    const params = exampleCreateParams(route, { ipnUrl: sink.url, ipnSecret: IPN_SECRET, partner: "p1", lang: "ru", hideOutData: true, clientCallbackUrl: "https://shop.example/back" });
    // What the sandbox takes, the description takes: as JSON, and as a form decodes (every value a string).
    checker.checkSchema("CreateOrderParams", params);
    checker.checkSchema("CreateOrderParams", decodeBracketEntries(formPairs(params)));
    expect((await call("public/exchanger/order/create", { json: params })).data.uid).toBeGreaterThan(0);
    const form = new URLSearchParams(formPairs(params));
    expect((await call("public/exchanger/order/create", { raw: { body: form.toString(), type: "application/x-www-form-urlencoded" }, slash: false })).success).toBe(true);
    const multipart = new FormData();
    for (const [k, v] of formPairs(params)) multipart.append(k, v);
    expect((await call("public/exchanger/order/create", { raw: { body: multipart } })).success).toBe(true);
    const signed = JSON.stringify({ ...exampleCreateParams(route), time: sandbox.clock.now() });
    const authorized = await call("public/exchanger/order/create", {
      raw: { body: signed, type: "application/json" },
      headers: { apikey: TEST_CREDENTIALS.apiKey, hash: requestHash(signed, TEST_CREDENTIALS.apiSecret) },
    });
    expect(authorized.success).toBe(true);
  });

  it("reads an order as an order and as a payment, and moves it", async () => {
    const { data: order } = await create();
    const read = (type: string, slash = true) => call("public/exchanger/order/get", { query: { orderUID: String(order.uid), orderSecret: order.secret, type }, slash });
    expect((await read("order")).data.order.status).toBe("new");
    expect((await read("payment", false)).data.order.payment.amount).toBe(order.inAmount);
    const moved = await call("public/exchanger/order/update-status", { json: { orderUID: order.uid, orderSecret: order.secret, status: "deleted" } });
    expect(moved.data).toEqual({ ok: true, oldStatus: "new", newStatus: "deleted" });
    // A manual route's payment confirmed by the merchant, from a form and without the slash.
    const { data: manual } = await create({}, manualRoute);
    await sandbox.orders.move(manual.uid, "waitPayment", { cause: "control" });
    const form = new URLSearchParams({ orderUID: String(manual.uid), orderSecret: manual.secret, status: "inProgress" });
    const confirmed = await call("public/exchanger/order/update-status", { raw: { body: form.toString(), type: "application/x-www-form-urlencoded" }, slash: false });
    expect(confirmed.data.newStatus).toBe("inProgress");
  });

  it("answers a wrong verb or an unknown method with unknownMethod, in the ApiFailure shape", async () => {
    for (const [method, verb] of [["public/exchanger/order/create", "GET"], ["public/exchanger/nope", "GET"]] as const) {
      const res = await fetch(`${url}/service/api/v1/${method}/`, { method: verb });
      const body = (await res.json()) as Json;
      checker.checkSchema("ApiFailure", body);
      expect(body.error.errorCode).toBe(ERROR_CODES.unknownMethod);
    }
  });

  it("answers every error code each method lists in x-error-codes, each as the description shapes it", async () => {
    const { data: order } = await create();
    const valid: Record<ApiMethodName, CallOptions> = {
      "public/exchanger/order/create": { json: exampleCreateParams(route) },
      "public/exchanger/order/get": { query: { orderUID: String(order.uid), orderSecret: order.secret } },
      "public/exchanger/order/update-status": { json: { orderUID: order.uid, orderSecret: order.secret, status: "waitPayment" } },
      "public/exchanger/route/get": {},
      "public/exchanger/route/get/one": { query: { id: route._id } },
    };
    const provoke: Record<ErrorName, (method: ApiMethodName) => CallOptions | null> = {
      validation: (method): CallOptions =>
        method === "public/exchanger/route/get" ? { query: { fromCurrencyId: "not-an-id" } } : API_METHODS[method].verb === "GET" ? {} : { json: {} },
      maintenance: (method) => valid[method],
      malformedBody: (method) => (API_METHODS[method].verb === "GET" ? { rawQuery: "__proto__=1" } : { raw: { body: "{", type: "application/json" } }),
      bodyTooLarge: () => ({ raw: { body: `{"x":"${"a".repeat(MAX_BODY * 2)}"}`, type: "application/json" } }),
      unauthorized: (method) => ({ ...valid[method], headers: { apikey: "not-the-key" } }),
      notFound: (method): CallOptions =>
        method === "public/exchanger/route/get/one"
          ? { query: { id: "0".repeat(24) } }
          : method === "public/exchanger/order/get"
            ? { query: { orderUID: "999999", orderSecret: "x" } }
            : { json: { orderUID: 999999, orderSecret: "x", status: "deleted" } },
      // waitPayment → done is no move a merchant may make.
      badTransition: () => ({ json: { orderUID: order.uid, orderSecret: order.secret, status: "done" } }),
      unknownMethod: () => null,
    };
    let provoked = 0;
    for (const method of Object.keys(API_METHODS) as ApiMethodName[]) {
      const operation = (checker.doc.paths[`/service/api/v1/${method}/`] as Json)[API_METHODS[method].verb.toLowerCase()];
      for (const code of operation["x-error-codes"] as ErrorName[]) {
        const options = provoke[code](method);
        expect(options, `${method}: no way to provoke ${code}`).not.toBeNull();
        const maintenance = code === "maintenance";
        if (maintenance) await fetch(`${url}/_sandbox/maintenance`, { method: "POST", body: JSON.stringify({ on: true }) });
        const envelope = await call(method, options!).finally(() => maintenance && fetch(`${url}/_sandbox/maintenance`, { method: "POST", body: JSON.stringify({ on: false }) }));
        expect(envelope.success, `${method} ${code}`).toBe(false);
        expect(envelope.error.errorCode, `${method} ${code}: ${envelope.error.message}`).toBe(ERROR_CODES[code]);
        provoked++;
      }
    }
    expect(provoked).toBeGreaterThanOrEqual(25);
  });

  it("shows every documented merchant API response in these calls", () => {
    expect(checker.unseen("/service/api/v1/")).toEqual([]);
  });
});

describe("the IPN, as the webhook describes it", () => {
  /** The checksum recipe as the description states it, applied to a decoded body. */
  function recipeHash(doc: OpenApiDocument, fields: Json, secret: string): string {
    const description = (((doc.webhooks as Json).ipn as Json).post as Json).description as string;
    const names = /`sha256\(([\w:]+)\)`/.exec(description)![1]!.split(":");
    const text = names.map((name) => (name === "ipnSecret" ? secret : fields[name])).join(":");
    return createHash("sha256").update(text).digest("hex");
  }

  it("sends bodies whose decoded form matches IpnBody, with the checksum the recipe gives", async () => {
    const before = sink.received.length;
    const { data: order } = await create({ ipnUrl: sink.url, ipnSecret: IPN_SECRET });
    sandbox.orders.pay(order.uid, "control:pay");
    await fetch(`${url}/_sandbox/ipn`, { method: "POST", body: JSON.stringify({ ipnUrl: sink.url, ipnSecret: "S", status: "done" }) });
    await sandbox.dispatcher.idle();
    const bodies = sink.received.slice(before).map((r) => r.body);
    expect(bodies.length).toBe(3);
    for (const [i, body] of bodies.entries()) {
      const decoded = decodeBracketEntries(new URLSearchParams(body).entries()) as Json;
      checker.checkSchema("IpnBody", decoded);
      expect(decoded.toValues.length).toBeGreaterThan(0);
      expect(decoded.hash).toBe(recipeHash(checker.doc, decoded, i < 2 ? IPN_SECRET : "S"));
    }
  });

  it("names the checksum field a sandbox is configured with, in its description and its IPNs", async () => {
    const other = createSandbox({ ipnHashField: "signature" });
    try {
      const otherUrl = (await other.listen(0)).url;
      const doc = (await (await fetch(`${otherUrl}/_sandbox/openapi.json`)).json()) as OpenApiDocument;
      const before = sink.received.length;
      await fetch(`${otherUrl}/_sandbox/ipn`, { method: "POST", body: JSON.stringify({ ipnUrl: sink.url, ipnSecret: "S", status: "waitPayment" }) });
      await other.dispatcher.idle();
      const decoded = decodeBracketEntries(new URLSearchParams(sink.received[before]!.body).entries()) as Json;
      const theirs = specChecker(doc);
      theirs.checkSchema("IpnBody", decoded);
      expect(() => checker.checkSchema("IpnBody", decoded), "the default description wants `hash`").toThrow(/hash/);
      expect(decoded.signature).toBe(recipeHash(doc, decoded, "S"));
    } finally {
      await other.close();
    }
  });
});
