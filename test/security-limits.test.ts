// Body size, field, list and depth limits: refused for every content type before anything is stored.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, ERROR_CODES, exampleCreateParams, type Sandbox } from "../sandbox/index.js";
import { DEFAULT_PARAM_LIMITS } from "../sandbox/api/params.js";
import { BUILTIN_SCENARIOS, scenarioDirector } from "../scenarios/index.js";

const CREATE = "/service/api/v1/public/exchanger/order/create/";
const GET = "/service/api/v1/public/exchanger/order/get/";
const MIB = 1024 * 1024;
const { maxFields, maxIndex, maxDepth, maxJsonDepth } = DEFAULT_PARAM_LIMITS;

let sandbox: Sandbox;
let url: string;
beforeAll(async () => {
  sandbox = createSandbox({ seed: 2, extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 500 })] });
  ({ url } = await sandbox.listen(0));
});
afterAll(() => sandbox.close());

const form = (entries: [string, string][]) => new URLSearchParams(entries).toString();
const multipart = (entries: [string, string][]) => {
  const data = new FormData();
  for (const [k, v] of entries) data.append(k, v);
  return data;
};

/** Posts through app.request, checks the refusal and that nothing was stored; returns the error. */
async function refused(init: RequestInit, code: keyof typeof ERROR_CODES, message: RegExp, path = CREATE, method = "POST") {
  const before = sandbox.store.listOrders().length;
  const res = await sandbox.app.request(path, { method, ...init });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { success: boolean; error: { errorCode: number; message: string } };
  expect(body.success).toBe(false);
  expect(body.error.message).toMatch(message);
  expect(body.error.errorCode).toBe(ERROR_CODES[code]);
  expect(sandbox.store.listOrders()).toHaveLength(before);
  return body.error;
}

/** Sends a body over real HTTP as a stream of chunks, with no Content-Length, so only counting can stop it. */
async function streamed(body: Uint8Array, contentType: string, chunk = 64 * 1024) {
  let offset = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.length) return controller.close();
      controller.enqueue(body.subarray(offset, offset + chunk));
      offset += chunk;
    },
  });
  const res = await fetch(`${url}${CREATE}`, { method: "POST", body: stream, headers: { "content-type": contentType }, duplex: "half" } as RequestInit);
  return { status: res.status, json: (await res.json()) as { success: boolean; error: { errorCode: number } } };
}

describe("the merchant API's body size limit (1 MiB)", () => {
  const padding = "x".repeat(MIB + 10);
  const valid = () => exampleCreateParams(sandbox.catalog.routes[0]!) as Record<string, unknown>;

  it.each<[string, () => RequestInit]>([
    ["JSON", () => ({ body: JSON.stringify({ ...valid(), partner: padding }), headers: { "content-type": "application/json" } })],
    ["urlencoded", () => ({ body: form([["routeId", "x"], ["partner", padding]]), headers: { "content-type": "application/x-www-form-urlencoded" } })],
    ["multipart", () => ({ body: multipart([["routeId", "x"], ["partner", padding]]) })],
    ["a body without a Content-Type", () => ({ body: padding })],
  ])("refuses a %s body over the limit as too large", async (_name, init) => {
    await refused(init(), "bodyTooLarge", /larger than 1048576 bytes/);
  });

  it("accepts a body just under the limit", async () => {
    const body = JSON.stringify({ ...valid(), comment: "x".repeat(MIB - 2048) });
    expect(body.length).toBeLessThan(MIB);
    const res = await sandbox.app.request(CREATE, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(((await res.json()) as { success: boolean }).success).toBe(true);
  });

  it.each([
    ["urlencoded", "application/x-www-form-urlencoded", new TextEncoder().encode(form([["partner", "y".repeat(2 * MIB)]]))],
    ["multipart", "multipart/form-data; boundary=B", new TextEncoder().encode(`--B\r\nContent-Disposition: form-data; name="partner"\r\n\r\n${"y".repeat(2 * MIB)}\r\n--B--\r\n`)],
  ])("refuses a %s body over the limit sent in chunks without a length, over real HTTP", async (_name, type, bytes) => {
    const before = sandbox.store.listOrders().length;
    const { status, json } = await streamed(bytes, type);
    expect(status).toBe(200);
    expect(json.error.errorCode).toBe(ERROR_CODES.bodyTooLarge);
    expect(sandbox.store.listOrders()).toHaveLength(before);
  });

  it("tells the client to close the connection it cannot reuse", async () => {
    const res = await fetch(`${url}${CREATE}`, { method: "POST", body: "x".repeat(2 * MIB), headers: { "content-type": "application/json" } });
    expect(res.headers.get("connection")).toBe("close");
    expect(((await res.json()) as { error: { errorCode: number } }).error.errorCode).toBe(ERROR_CODES.bodyTooLarge);
  });
});

describe("the merchant API's limits on fields and lists", () => {
  const many = (n: number, key: (i: number) => string): [string, string][] => Array.from({ length: n }, (_, i) => [key(i), "1"]);

  it.each<[string, (entries: [string, string][]) => RequestInit, string]>([
    ["urlencoded", (e) => ({ body: form(e), headers: { "content-type": "application/x-www-form-urlencoded" } }), "POST"],
    ["multipart", (e) => ({ body: multipart(e) }), "POST"],
    ["a query string", () => ({}), "GET"],
  ])("refuses more fields than the limit in a %s request", async (_name, init, method) => {
    const entries = many(maxFields + 1, (i) => `f${i}`);
    const path = method === "GET" ? `${GET}?${form(entries)}` : CREATE;
    await refused(init(entries), "malformedBody", new RegExp(`Too many fields: at most ${maxFields}`), path, method);
  });

  it("accepts exactly the most fields", async () => {
    const entries = many(maxFields, (i) => `f${i}`);
    const res = await sandbox.app.request(CREATE, { method: "POST", body: form(entries), headers: { "content-type": "application/x-www-form-urlencoded" } });
    // Past the decoder: the refusal is about the missing routeId, not the number of fields.
    expect(((await res.json()) as { error: { errorCode: number } }).error.errorCode).toBe(ERROR_CODES.validation);
  });

  it("refuses more JSON values than a form may have fields", async () => {
    const body = JSON.stringify({ extra: Object.fromEntries(many(maxFields + 1, (i) => `k${i}`)) });
    await refused({ body, headers: { "content-type": "application/json" } }, "malformedBody", new RegExp(`Too many values: at most ${maxFields}`));
  });

  it("refuses a JSON list longer than a form list may be", async () => {
    const body = JSON.stringify({ toValues: Array.from({ length: maxIndex + 2 }, () => 1) });
    await refused({ body, headers: { "content-type": "application/json" } }, "malformedBody", new RegExp(`toValues has ${maxIndex + 2} items; a list holds at most ${maxIndex + 1}`));
  });

  it("refuses a form list grown past the highest index by appending with []", async () => {
    const entries = many(maxIndex + 2, () => "toValues[]");
    await refused({ body: form(entries), headers: { "content-type": "application/x-www-form-urlencoded" } }, "malformedBody", /a list holds at most 100 items/);
  });

  it("refuses a form list index past the highest", async () => {
    await refused({ body: form([[`toValues[${maxIndex + 1}][key]`, "a"]]), headers: { "content-type": "application/x-www-form-urlencoded" } }, "malformedBody", /indexes go from 0 to 99/);
  });

  it("refuses a form key nested deeper than allowed, but not one at the limit", async () => {
    const key = (depth: number) => `a${"[b]".repeat(depth)}`;
    await refused({ body: form([[key(maxDepth + 1), "1"]]), headers: { "content-type": "application/x-www-form-urlencoded" } }, "malformedBody", /levels deep/);
    const res = await sandbox.app.request(CREATE, { method: "POST", body: form([[key(maxDepth), "1"]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(((await res.json()) as { error: { errorCode: number } }).error.errorCode).toBe(ERROR_CODES.validation);
  });

  it("refuses JSON nested deeper than allowed", async () => {
    const body = `{"a":${"[".repeat(maxJsonDepth + 1)}${"]".repeat(maxJsonDepth + 1)}}`;
    await refused({ body, headers: { "content-type": "application/json" } }, "malformedBody", /nested more than 16 levels/);
  });

  it.each([10_000, 100_000])("refuses JSON nested %i deep with the same error, over HTTP too, never a 500", async (depth) => {
    const deep = (open: string, leaf: string, close: string) => `{"routeId":${open.repeat(depth)}${leaf}${close.repeat(depth)}}`;
    for (const body of [deep("[", "", "]"), deep('{"a":', "1", "}")]) {
      await refused({ body, headers: { "content-type": "application/json" } }, "malformedBody", /nested more than 16 levels/);
      const res = await fetch(`${url}${CREATE}`, { method: "POST", body, headers: { "content-type": "application/json" } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { error: { errorCode: number } }).error.errorCode).toBe(ERROR_CODES.malformedBody);
    }
  });
});

describe("the control API's bodies", () => {
  it("answers JSON nested 10,000 deep with 400, never a 500", async () => {
    const body = `{"status":"waitPayment","fault":${'{"type":'.repeat(10_000)}"x"${"}".repeat(10_000)}}`;
    const res = await fetch(`${url}/_sandbox/ipn`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("bad_request");
  });
});

describe("the control API's body size limit", () => {
  it("answers a body over the limit with 413 JSON and moves nothing", async () => {
    const created = await sandbox.app.request(CREATE, {
      method: "POST",
      body: JSON.stringify(exampleCreateParams(sandbox.catalog.routes[0]!)),
      headers: { "content-type": "application/json" },
    });
    const { uid } = ((await created.json()) as { data: { uid: number } }).data;
    const body = JSON.stringify({ status: "waitPayment", padding: "x".repeat(2 * MIB) });
    const res = await sandbox.app.request(`/_sandbox/orders/${uid}/status`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("too_large");
    expect(sandbox.store.getOrder(uid)!.status).toBe("new");
  });

  it("answers a body over the limit to an extension's route (the scenario engine's) with 413 too", async () => {
    const body = JSON.stringify({ name: "happy-path", padding: "x".repeat(2 * MIB) });
    const res = await sandbox.app.request("/_sandbox/orders/1001/scenario", { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
  });
});
