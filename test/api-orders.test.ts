// The merchant API over real HTTP: creating, reading and moving orders, and the routes behind them.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, requestHash, TEST_CREDENTIALS } from "../sandbox/index.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 7 });
});
afterAll(() => sb.close());

/** The order/get view with everything that differs between two orders of the same content removed. */
function comparable(order: Record<string, any>) {
  const { _id, uid, rid, createdAt, expiresAt, ...rest } = order;
  const strip = (values: any[]) => values.map(({ _id: _ignored, ...v }) => v);
  return { ...rest, fromValues: strip(rest.fromValues), toValues: strip(rest.toValues), routeValues: strip(rest.routeValues) };
}

async function getOrder(uid: number, secret: string, type?: string) {
  return sb.api("GET", "public/exchanger/order/get", { orderUID: uid, orderSecret: secret, ...(type ? { type } : {}) });
}

describe("order/create", () => {
  it("creates an order in status new with the engine's ids and the route's price", async () => {
    const route = routeByXml(sb.sandbox, "ETH", "WMZ");
    const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { amount: "2" }));
    expect(res.success).toBe(true);
    expect(res.requestId).toMatch(/^\d+-[a-z0-9]{7}$/);
    expect(res.latency_ms).toEqual(expect.any(Number));
    const data = res.data;
    expect(data._id).toMatch(/^[0-9a-f]{24}$/);
    expect(data.uid).toEqual(expect.any(Number));
    expect(data.rid).toMatch(/^[A-Z0-9]{11}$/);
    expect(data.secret).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(data.route).toEqual({ from: { name: route.from.name, symbol: "ETH" }, to: { name: route.to.name, symbol: "WMZ" } });
    expect(data.inAmount).toBe("2");
    expect(data.outAmount).toBe("317.42");
    const got = await getOrder(data.uid, data.secret);
    expect(got.data.order.status).toBe("new");
  });

  it("creates the same order from a PHP-style form body as from JSON", async () => {
    const route = routeByXml(sb.sandbox, "BTC", "USDTTRC20");
    const params = validCreateBody(route, { lang: "ru", hideOutData: true, clientCallbackUrl: "https://shop.example/return?x=1", partner: "p1" }) as any;
    const json = await sb.api("POST", "public/exchanger/order/create", params);

    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (Array.isArray(value)) {
        value.forEach((item: any, i) => {
          form.append(`${key}[${i}][key]`, item.key);
          form.append(`${key}[${i}][value]`, item.value);
        });
      } else {
        form.append(key, String(value));
      }
    }
    const viaForm = await (
      await fetch(`${sb.url}/service/api/v1/public/exchanger/order/create/`, { method: "POST", body: form })
    ).json();
    const multipart = new FormData();
    for (const [key, value] of form) multipart.append(key, value);
    const viaMultipart = await (
      await fetch(`${sb.url}/service/api/v1/public/exchanger/order/create`, { method: "POST", body: multipart })
    ).json();

    expect(json.success && viaForm.success && viaMultipart.success).toBe(true);
    const [a, b, c] = await Promise.all([json, viaForm, viaMultipart].map((r: any) => getOrder(r.data.uid, r.data.secret)));
    expect(comparable(b!.data.order)).toEqual(comparable(a!.data.order));
    expect(comparable(c!.data.order)).toEqual(comparable(a!.data.order));
  });

  it("accepts the method path with and without the trailing slash", async () => {
    const plain = await fetch(`${sb.url}/service/api/v1/public/exchanger/route/get`);
    const slashed = await fetch(`${sb.url}/service/api/v1/public/exchanger/route/get/`);
    expect((await plain.json()).success).toBe(true);
    expect((await slashed.json()).success).toBe(true);
  });

  it("computes payouts exactly, without float artefacts", async () => {
    for (const route of sb.sandbox.catalog.routes) {
      const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route));
      expect(res.success, JSON.stringify(res.error)).toBe(true);
      expect(res.data.outAmount).toMatch(/^\d+(\.\d+)?$/);
      const decimals = res.data.outAmount.split(".")[1]?.length ?? 0;
      expect(decimals).toBeLessThanOrEqual(route.to.decimal);
    }
  });
});

describe("order/get", () => {
  it("answers a wrong secret exactly as it answers an unknown uid", async () => {
    const route = routeByXml(sb.sandbox, "ETH", "WMZ");
    const created = (await sb.api("POST", "public/exchanger/order/create", validCreateBody(route))).data;
    const wrongSecret = await getOrder(created.uid, "A".repeat(24));
    const unknownUid = await getOrder(999_999, "A".repeat(24));
    const strip = ({ latency_ms, requestId, ...rest }: any) => rest;
    expect(wrongSecret.success).toBe(false);
    expect(wrongSecret.error!.errorCode).toBe(ERROR_CODES.notFound);
    expect(JSON.stringify(strip(wrongSecret)).replaceAll(String(created.uid), "UID")).toBe(
      JSON.stringify(strip(unknownUid)).replaceAll("999999", "UID"),
    );
  });

  it("shows the order with its requisites, route and rate", async () => {
    const route = routeByXml(sb.sandbox, "USDTTRC20", "CARDUAH");
    const params = validCreateBody(route) as any;
    const created = (await sb.api("POST", "public/exchanger/order/create", params)).data;
    const { order, verifications } = (await getOrder(created.uid, created.secret)).data;
    expect(verifications).toEqual([]);
    expect(order).toMatchObject({
      _id: created._id,
      uid: created.uid,
      rid: created.rid,
      inAmount: created.inAmount,
      outAmount: created.outAmount,
      status: "new",
      rate: route.rate,
      route: { routeId: route._id, from: { _id: route.from._id, xml: "USDTTRC20", decimal: route.from.decimal }, to: { xml: "CARDUAH" } },
    });
    expect(order.toValues).toEqual(
      params.toValues.map((v: any) => ({ field: v.key, name: route.toFields.find((f) => f._id === v.key)!.name, value: v.value, _id: expect.stringMatching(/^[0-9a-f]{24}$/) })),
    );
    expect(Date.parse(order.expiresAt) - Date.parse(order.createdAt)).toBe(route.paymentWindowMinutes * 60_000);
  });

  it("masks the recipient's requisites when the order asked for hideOutData", async () => {
    const route = routeByXml(sb.sandbox, "USDTTRC20", "CARDUAH");
    const params = validCreateBody(route, { hideOutData: true }) as any;
    const created = (await sb.api("POST", "public/exchanger/order/create", params)).data;
    const { order } = (await getOrder(created.uid, created.secret)).data;
    for (const value of order.toValues) {
      const sent = params.toValues.find((v: any) => v.key === value.field).value as string;
      expect(value.value).not.toBe(sent);
      expect(value.value).toMatch(/^\*+/);
      expect(value.value).toHaveLength(sent.length);
    }
  });

  it("adds where and how much to pay with type=payment", async () => {
    const route = routeByXml(sb.sandbox, "BTC", "USDTTRC20");
    const created = (await sb.api("POST", "public/exchanger/order/create", validCreateBody(route))).data;
    const { order } = (await getOrder(created.uid, created.secret, "payment")).data;
    expect(order.payment).toMatchObject({ amount: created.inAmount, currency: { xml: "BTC" }, manual: false });
    expect(order.payment.address).toMatch(/^(bc1[a-z0-9]{25,62}|[13][a-km-zA-HJ-NP-Z1-9]{25,34})$/);
  });
});

describe("order/update-status", () => {
  async function created(from: string, to: string) {
    const route = routeByXml(sb.sandbox, from, to);
    return (await sb.api("POST", "public/exchanger/order/create", validCreateBody(route))).data;
  }

  it("lets the merchant confirm a manual payment: waitPayment → inProgress", async () => {
    const order = await created("CARDUAH", "USDTTRC20");
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "inProgress" });
    expect(res.data).toEqual({ ok: true, oldStatus: "waitPayment", newStatus: "inProgress" });
  });

  it("refuses to confirm a payment on an automatic route with the engine's validation error, and leaves the order waiting", async () => {
    const order = await created("ETH", "WMZ");
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "inProgress" });
    expect(res.success).toBe(false);
    expect(res.error).toMatchObject({
      errorCode: ERROR_CODES.validation,
      message: "Param status isn't valid: status",
      object: { fieldId: null, nameField: "status", err: "notManual", type: "status" },
    });
    expect((res.error as any).sandboxHint).toContain("paid automatically");
    const { data } = await sb.api("GET", "public/exchanger/order/get", { orderUID: order.uid, orderSecret: order.secret });
    expect(data.order.status).toBe("waitPayment");
    expect(sb.sandbox.orders.get(order.uid)!.history.map((h) => h.to)).toEqual(["new", "waitPayment"]);
  });

  it("still lets the merchant cancel an automatic route's waiting order", async () => {
    const order = await created("ETH", "WMZ");
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "deleted" });
    expect(res.data).toEqual({ ok: true, oldStatus: "waitPayment", newStatus: "deleted" });
  });

  it("lets the merchant cancel a new order", async () => {
    const order = await created("ETH", "WMZ");
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "deleted" });
    expect(res.data).toEqual({ ok: true, oldStatus: "new", newStatus: "deleted" });
  });

  it.each(["done", "inProgressPayout", "hold", "waitPayment"])("refuses a merchant's move from new to %s", async (status) => {
    const order = await created("ETH", "WMZ");
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status });
    expect(res.success).toBe(false);
    expect(res.error!.errorCode).toBe(ERROR_CODES.badTransition);
    expect(res.error!.message).toContain("cannot move from new");
    const { data } = await sb.api("GET", "public/exchanger/order/get", { orderUID: order.uid, orderSecret: order.secret });
    expect(data.order.status).toBe("new");
  });

  it("refuses an unknown status with the list of statuses", async () => {
    const order = await created("ETH", "WMZ");
    const res = await sb.api("PUT", "public/exchanger/order/update-status", { orderUID: order.uid, orderSecret: order.secret, status: "paid" });
    expect(res.error!.errorCode).toBe(ERROR_CODES.validation);
    expect(res.error!.message).toBe("Param status isn't valid: status");
    expect((res.error as any).sandboxHint).toContain("waitPayment");
  });
});

describe("routes", () => {
  it("lists every route with its currencies, limits and field definitions", async () => {
    const res = await sb.api("GET", "public/exchanger/route/get");
    expect(res.data).toHaveLength(sb.sandbox.catalog.routes.length);
    for (const route of res.data) {
      expect(route).toMatchObject({ _id: expect.stringMatching(/^[0-9a-f]{24}$/), rate: expect.any(String), min: expect.any(String), max: expect.any(String), reserve: expect.any(String) });
      for (const field of [...route.fromFields, ...route.toFields, ...route.routeFields]) {
        expect(Object.keys(field).sort()).toEqual(["_id", "name", "placeholder", "regexp", "regexp_error", "required"]);
      }
    }
  });

  it("filters by currency", async () => {
    const eth = routeByXml(sb.sandbox, "ETH", "WMZ").from._id;
    const res = await sb.api("GET", "public/exchanger/route/get", { fromCurrencyId: eth });
    expect(res.data.length).toBeGreaterThan(0);
    expect(res.data.every((r: any) => r.from._id === eth)).toBe(true);
  });

  it("finds one route by id and answers not-found for an unknown id", async () => {
    const route = sb.sandbox.catalog.routes[3]!;
    expect((await sb.api("GET", "public/exchanger/route/get/one", { id: route._id })).data._id).toBe(route._id);
    const missing = await sb.api("GET", "public/exchanger/route/get/one", { id: "0".repeat(24) });
    expect(missing.error!.errorCode).toBe(ERROR_CODES.notFound);
  });
});

describe("authorization", () => {
  const route = () => routeByXml(sb.sandbox, "ETH", "WMZ");

  function signed(params: Record<string, unknown>, secret = TEST_CREDENTIALS.apiSecret) {
    const body = { ...params, time: Date.now() };
    const json = JSON.stringify(body);
    return { body: json, headers: { apikey: TEST_CREDENTIALS.apiKey, hash: requestHash(json, secret), "content-type": "application/json" } };
  }

  async function post(request: { body: string; headers: Record<string, string> }) {
    const res = await fetch(`${sb.url}/service/api/v1/public/exchanger/order/create/`, { method: "POST", ...request });
    return res.json();
  }

  it("puts an order created with a valid key in that merchant's cabinet", async () => {
    const res = await post(signed(validCreateBody(route())));
    expect(res.success).toBe(true);
    expect(sb.sandbox.store.getOrder(res.data.uid)!.merchant).toBe(TEST_CREDENTIALS.apiKey);
  });

  it("creates a public order without a key", async () => {
    const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route()));
    expect(sb.sandbox.store.getOrder(res.data.uid)!.merchant).toBeNull();
  });

  it.each([
    ["a hash made with another secret", (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, hash: requestHash(r.body, "other") } }), "does not match"],
    ["an unknown key", (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, apikey: "nope" } }), "Unknown apikey"],
    ["no hash", (r: ReturnType<typeof signed>) => ({ ...r, headers: { ...r.headers, hash: "" } }), "needs a hash"],
    ["a body changed after hashing", (r: ReturnType<typeof signed>) => ({ ...r, body: r.body.replace('"agreement":true', '"agreement":true,"partner":"x"') }), "does not match"],
  ])("refuses %s", async (_name, breakIt, message) => {
    const before = sb.sandbox.store.listOrders().length;
    const res = await post(breakIt(signed(validCreateBody(route()))));
    expect(res.success).toBe(false);
    expect(res.error.errorCode).toBe(ERROR_CODES.unauthorized);
    expect(res.error.message).toContain(message);
    expect(sb.sandbox.store.listOrders()).toHaveLength(before);
  });

  it("refuses a stale time", async () => {
    const body = JSON.stringify({ ...validCreateBody(route()), time: Date.now() - 3_600_000 });
    const res = await post({ body, headers: { apikey: TEST_CREDENTIALS.apiKey, hash: requestHash(body, TEST_CREDENTIALS.apiSecret), "content-type": "application/json" } });
    expect(res.error.message).toContain("minutes from the server's time");
  });
});
