// Bad input to the merchant API: always the engine's error envelope, never a 500, a crash or a stored order.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "../sandbox/index.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 3 });
});
afterAll(() => sb.close());

const CREATE = "/service/api/v1/public/exchanger/order/create/";

async function raw(body: BodyInit | undefined, contentType: string | null, path = CREATE, method = "POST") {
  const headers: Record<string, string> = contentType === null ? {} : { "content-type": contentType };
  const res = await fetch(`${sb.url}${path}`, { method, body, headers });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) };
}

/** Sends one broken request; checks the envelope, the error code and that nothing was stored. */
async function expectRefused(body: BodyInit | undefined, contentType: string | null, code: keyof typeof ERROR_CODES, message: string | RegExp) {
  const before = sb.sandbox.store.listOrders().length;
  const { status, json } = await raw(body, contentType);
  expect(status).toBe(200);
  expect(json).toMatchObject({ success: false, error: { apiError: true, errorType: "api", level: 0, errorCode: ERROR_CODES[code] } });
  expect(json.error.message).toMatch(message);
  expect(json.requestId).toMatch(/^\d+-[a-z0-9]{7}$/);
  expect(sb.sandbox.store.listOrders()).toHaveLength(before);
  return json;
}

const eth = () => routeByXml(sb.sandbox, "ETH", "WMZ");
const valid = () => validCreateBody(eth()) as Record<string, any>;
const json = (body: unknown) => JSON.stringify(body);

describe("order/create refuses", () => {
  // [case, body, the parameter the engine's message names, its nameField, err, the sandbox's hint]
  it.each<[string, () => Record<string, unknown>, string, string, string, RegExp]>([
    ["a missing routeId", () => ({ ...valid(), routeId: undefined }), "routeId", "routeId", "required", /required; GET public\/exchanger\/route\/get lists/],
    ["a routeId that is not an ObjectId", () => ({ ...valid(), routeId: "ETH-WMZ" }), "routeId", "routeId", "type", /expected a 24-hex/],
    ["an unknown route", () => ({ ...valid(), routeId: "0123456789abcdef01234567" }), "routeId", "routeId", "notFound", /no route/],
    ["a missing amount", () => ({ ...valid(), amount: undefined }), "amount", "amount", "required", /required: how much ETH/],
    ["an amount below the minimum", () => ({ ...valid(), amount: "0.00000001" }), "amount", "amount", "min", /below the route's minimum/],
    ["an amount above the maximum", () => ({ ...valid(), amount: "100000" }), "amount", "amount", "max", /above the route's maximum/],
    ["a negative amount", () => ({ ...valid(), amount: -1 }), "amount", "amount", "type", /expected a positive decimal number/],
    ["an amount of the wrong type", () => ({ ...valid(), amount: { value: 1 } }), "amount", "amount", "type", /expected a positive decimal number/],
    ["an amount with a float artefact", () => ({ ...valid(), amount: 0.1 + 0.2 }), "amount", "amount", "decimal", /more than 8 decimal places/],
    ["a huge amount", () => ({ ...valid(), amount: "1".repeat(400) }), "amount", "amount", "max", /above the route's maximum/],
    ["agreement not given", () => ({ ...valid(), agreement: undefined }), "agreement", "agreement", "required", /must accept the exchange rules/],
    ["agreement false", () => ({ ...valid(), agreement: false }), "agreement", "agreement", "required", /must accept the exchange rules/],
    ["agreement off", () => ({ ...valid(), agreement: "off" }), "agreement", "agreement", "type", /expected true or false/],
    ["a missing required requisite", () => ({ ...valid(), toValues: [] }), "toValues", "WMZ purse", "required", /WMZ purse is required/],
    ["a requisite that fails its regexp", () => ({ ...valid(), toValues: [{ key: eth().toFields[0]!._id, value: "Z12" }] }), "toValues", "WMZ purse", "regexp", /^Enter a WMZ purse: Z followed by 12 digits \(the field's regexp: \^Z\[0-9\]\{12\}\$\)$/],
    ["a requisite with an unknown key", () => ({ ...valid(), toValues: [...valid().toValues, { key: "0".repeat(24), value: "x" }] }), "toValues", "0".repeat(24), "unknown", /unknown key 0{24}/],
    ["a requisite given twice", () => ({ ...valid(), toValues: [...valid().toValues, ...valid().toValues] }), "toValues", "WMZ purse", "duplicate", /given twice/],
    ["requisites that are not a list", () => ({ ...valid(), toValues: "Z123456789012" }), "toValues", "toValues", "type", /expected a list of \{key, value\}/],
    ["a requisite value of the wrong type", () => ({ ...valid(), toValues: [{ key: eth().toFields[0]!._id, value: ["x"] }] }), "toValues", "WMZ purse", "type", /must be a string/],
    ["an unknown lang", () => ({ ...valid(), lang: "de" }), "lang", "lang", "type", /expected one of en, ru/],
    ["an ipnUrl that is not a URL", () => ({ ...valid(), ipnUrl: "shop/ipn", ipnSecret: "s" }), "ipnUrl", "ipnUrl", "url", /expected an absolute http or https URL/],
    ["an ipnUrl that is not http", () => ({ ...valid(), ipnUrl: "ftp://shop.example/ipn", ipnSecret: "s" }), "ipnUrl", "ipnUrl", "url", /only http and https/],
    ["an ipnUrl without an ipnSecret", () => ({ ...valid(), ipnUrl: "http://127.0.0.1:1/ipn" }), "ipnSecret", "ipnSecret", "required", /required when ipnUrl/],
    ["a clientCallbackUrl that is not a URL", () => ({ ...valid(), clientCallbackUrl: "javascript:alert(1)" }), "clientCallbackUrl", "clientCallbackUrl", "url", /only http and https/],
    ["hideOutData that is not a boolean", () => ({ ...valid(), hideOutData: "maybe" }), "hideOutData", "hideOutData", "type", /expected true or false/],
    ["a partner that is not a string", () => ({ ...valid(), partner: 12 }), "partner", "partner", "type", /expected a string/],
  ])("%s, with the engine's validation error and the sandbox's hint beside it", async (_name, body, type, nameField, err, hint) => {
    const res = await expectRefused(json(body()), "application/json", "validation", new RegExp(`^Param ${type} isn't valid: ${nameField}$`));
    expect(Object.keys(res.error.object)).toEqual(["fieldId", "nameField", "err", "type"]);
    expect(res.error.object).toMatchObject({ nameField, err, type });
    expect(res.error.sandboxHint).toMatch(hint);
  });

  it("words a requisite error exactly as the engine does, with nothing of the sandbox's in the message or the object", async () => {
    const field = eth().toFields[0]!;
    const res = await expectRefused(json({ ...valid(), toValues: [{ key: field._id, value: "nope" }] }), "application/json", "validation", /WMZ purse/);
    expect(res.error.message).toBe(`Param toValues isn't valid: ${field.name}`);
    expect(res.error.object).toStrictEqual({ fieldId: field._id, nameField: field.name, err: "regexp", type: "toValues" });
    // The sandbox's advice is in one field the engine never sends, and only there.
    const { sandboxHint, ...engine } = res.error;
    expect(Object.keys(engine).sort()).toEqual(["apiError", "errorCode", "errorType", "level", "message", "object"]);
    expect(sandboxHint).toContain(field.regexp_error);
  });

  it.each(["on", "1", "true"])("accepts agreement=%s as a form sends a ticked box", async (agreement) => {
    const form = new URLSearchParams({ routeId: eth()._id, amount: eth().min, agreement });
    for (const [list, values] of [["toValues", valid().toValues], ["routeValues", valid().routeValues]] as const) {
      values.forEach((v: { key: string; value: string }, i: number) => {
        form.append(`${list}[${i}][key]`, v.key);
        form.append(`${list}[${i}][value]`, v.value);
      });
    }
    const { json: res } = await raw(form.toString(), "application/x-www-form-urlencoded");
    expect(res.error).toBeUndefined();
    expect(res.success).toBe(true);
  });

  it.each<[string, BodyInit | undefined, string | null, RegExp]>([
    ["malformed JSON", '{"routeId": ', "application/json", /not valid JSON/],
    ["a JSON array", "[1,2,3]", "application/json", /must be an object/],
    ["a __proto__ key in JSON", '{"__proto__": {"polluted": true}, "amount": "1"}', "application/json", /forbidden key __proto__/],
    ["a __proto__ key in a form", "__proto__[polluted]=1&amount=1", "application/x-www-form-urlencoded", /forbidden key __proto__/],
    ["a constructor key in a form", "toValues[0][constructor][prototype]=1", "application/x-www-form-urlencoded", /forbidden key constructor/],
    ["an absurd list index", "toValues[1000000][key]=a", "application/x-www-form-urlencoded", /index 1000000/],
    ["an absurdly deep key", "a[b][c][d][e][f][g]=1", "application/x-www-form-urlencoded", /nested 6 levels/],
    ["an unsupported content type", "<xml/>", "application/xml", /Content-Type application\/xml is not supported/],
    ["a text/plain body", "amount=1", "text/plain", /Content-Type text\/plain is not supported/],
    ["a body with no content type that is not JSON", new TextEncoder().encode("amount=1"), null, /no Content-Type/],
    ["a JSON body with no content type", new TextEncoder().encode(json({ routeId: "x" })), null, /^The request has no Content-Type header/],
    ["an empty body with no content type", undefined, null, /^The request has no Content-Type header/],
  ])("%s, as a malformed body", async (_name, body, contentType, message) => {
    await expectRefused(body, contentType, "malformedBody", message);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("an oversized body, as too large", async () => {
    const huge = json({ ...valid(), partner: "x".repeat(2 * 1024 * 1024) });
    await expectRefused(huge, "application/json", "bodyTooLarge", /larger than 1048576 bytes/);
  });

  it("an oversized body sent in chunks without a length, as too large", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ >= 40) return controller.close();
        controller.enqueue(chunk);
      },
    });
    const res = await fetch(`${sb.url}${CREATE}`, { method: "POST", body: stream, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    const body = await res.json();
    expect(body.error.errorCode).toBe(ERROR_CODES.bodyTooLarge);
  });
});

describe("the API refuses", () => {
  it("an unknown method with the list of methods", async () => {
    const { json: res } = await raw(undefined, null, "/service/api/v1/public/exchanger/order/delete/", "GET");
    expect(res.error.errorCode).toBe(ERROR_CODES.unknownMethod);
    expect(res.error.message).toContain("public/exchanger/order/create");
  });

  it("a known method called with the wrong verb", async () => {
    const { json: res } = await raw(json({}), "application/json", "/service/api/v1/public/exchanger/order/get/", "POST");
    expect(res.error.message).toBe("public/exchanger/order/get is called with GET, not POST");
  });

  it.each([
    ["no orderUID", "", /^Param orderUID isn't valid: orderUID$/, /required/],
    ["a non-numeric orderUID", "orderUID=abc&orderSecret=x", /^Param orderUID isn't valid: orderUID$/, /expected a positive integer/],
    ["no orderSecret", "orderUID=1001", /^Param orderSecret isn't valid: orderSecret$/, /required/],
    ["an unknown type", "orderUID=1001&orderSecret=x&type=pdf", /No order|Param type/, /.?/],
  ])("order/get with %s", async (_name, query, message, hint) => {
    const { json: res } = await raw(undefined, null, `/service/api/v1/public/exchanger/order/get/?${query}`, "GET");
    expect(res.success).toBe(false);
    expect(res.error.message).toMatch(message);
    expect(res.error.sandboxHint ?? "").toMatch(hint);
  });

  it("every call with the engine's maintenance error while maintenance is on", async () => {
    await sb.control("POST", "/maintenance", { on: true });
    try {
      const res = await sb.api("GET", "public/exchanger/route/get");
      expect(res.error!.errorCode).toBe(ERROR_CODES.maintenance);
    } finally {
      await sb.control("POST", "/maintenance", { on: false });
    }
    expect((await sb.api("GET", "public/exchanger/route/get")).success).toBe(true);
  });
});
