// The shortcuts that make order/get cheap give exactly what the plain way gives: the envelope written as text, the
// cached order view, the server's direct route to the API, the secret comparison.

import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { successBody, successJson } from "../sandbox/api/envelope.js";
import { publicOrderJson, publicOrderView } from "../sandbox/orders/view.js";
import { safeEqual } from "../sandbox/secure.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 11 });
});
afterAll(() => sb.close());

async function createOrder() {
  const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(routeByXml(sb.sandbox, "ETH", "WMZ")));
  expect(res.success).toBe(true);
  return res.data as { uid: number; secret: string };
}

/** An answer's text with the two parts that differ from call to call replaced. */
const stable = (text: string) => text.replace(/"latency_ms":\d+/, '"latency_ms":0').replace(/"requestId":"[^"]*"/, '"requestId":"x"');

describe("the success envelope as text", () => {
  it("is byte for byte what JSON.stringify makes of the envelope object", () => {
    const meta = { latencyMs: 12, requestId: '1795621768878-yz9"s7f' };
    for (const data of [{ order: { a: 1, b: ["x", null] }, verifications: [] }, [], "text with \"quotes\" and é", 0, null]) {
      expect(successJson(JSON.stringify(data), meta)).toBe(JSON.stringify(successBody(data, meta)));
    }
  });
});

describe("the cached order view", () => {
  it("is the JSON of the view, and follows the order when it moves", async () => {
    const { uid, secret } = await createOrder();
    const before = sb.sandbox.orders.get(uid)!;
    expect(publicOrderJson(before)).toBe(JSON.stringify(publicOrderView(before)));
    sb.sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    const after = sb.sandbox.orders.get(uid)!;
    expect(JSON.parse(publicOrderJson(after)).status).toBe("waitPayment");
    const got = await sb.api("GET", "public/exchanger/order/get", { orderUID: uid, orderSecret: secret });
    expect(got.data.order.status).toBe("waitPayment");
  });
});

describe("the server's direct route to the API", () => {
  it("answers every API path as app.request() does", async () => {
    const { uid, secret } = await createOrder();
    const paths = [
      `/service/api/v1/public/exchanger/order/get/?orderUID=${uid}&orderSecret=${secret}`,
      `/service/api/v1/public/exchanger/order/get?orderUID=${uid}&orderSecret=${secret}&type=payment`,
      `/service/api/v1/public/exchanger/order/get/?orderUID=${uid}&orderSecret=wrong`,
      "/service/api/v1/public/exchanger/route/get/",
      "/service/api/v1/public/exchanger/nope",
      "/service/api/v1",
      "/service/api/v1?x=1",
      "/service/api/v1x/public/exchanger/route/get/",
    ];
    for (const path of paths) {
      const viaServer = await fetch(`${sb.url}${path}`);
      const viaApp = await sb.sandbox.app.request(path);
      expect(viaServer.status, path).toBe(viaApp.status);
      expect(viaServer.headers.get("content-type"), path).toBe(viaApp.headers.get("content-type"));
      expect(stable(await viaServer.text()), path).toBe(stable(await viaApp.text()));
    }
  });
});

describe("a body read straight from the connection", () => {
  const CREATE = "/service/api/v1/public/exchanger/order/create/";
  const partner = "Иван Петров 😀 & co";

  it("is the text app.request() reads: UTF-8, a leading BOM dropped, any content type", async () => {
    const params = { ...validCreateBody(routeByXml(sb.sandbox, "ETH", "WMZ")), partner } as Record<string, unknown>;
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (Array.isArray(value)) {
        value.forEach((item: { key: string; value: string }, i) => {
          form.append(`${key}[${i}][key]`, item.key);
          form.append(`${key}[${i}][value]`, item.value);
        });
      } else form.append(key, String(value));
    }
    const bodies: [string, string | URLSearchParams, Record<string, string>][] = [
      ["JSON", JSON.stringify(params), { "content-type": "application/json" }],
      ["JSON after a byte-order mark", `\uFEFF${JSON.stringify(params)}`, { "content-type": "application/json; charset=utf-8" }],
      ["urlencoded", form, {}],
    ];
    for (const [name, body, headers] of bodies) {
      const viaServer = (await (await fetch(`${sb.url}${CREATE}`, { method: "POST", body, headers })).json()) as { success: boolean; data: { uid: number } };
      const viaApp = (await (await sb.sandbox.app.request(CREATE, { method: "POST", body, headers })).json()) as { success: boolean; data: { uid: number } };
      expect(viaServer.success, name).toBe(viaApp.success);
      expect(viaServer.success, name).toBe(true);
      expect(sb.sandbox.orders.get(viaServer.data.uid)?.partner, name).toBe(partner);
    }
  });

  it("survives a client that hangs up halfway through its body, and makes no order of it", async () => {
    const before = sb.sandbox.store.listOrders().length;
    const { port } = new URL(sb.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(`POST ${CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"routeId":`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { uid } = await createOrder();
    expect(uid).toBeGreaterThan(0);
    expect(sb.sandbox.store.listOrders()).toHaveLength(before + 1);
  });
});

describe("safeEqual", () => {
  it("is true only for the same text, whatever the lengths", () => {
    expect(safeEqual("jGP1KZKhM6rUih81Gdgu3z9A", "jGP1KZKhM6rUih81Gdgu3z9A")).toBe(true);
    expect(safeEqual("jGP1KZKhM6rUih81Gdgu3z9B", "jGP1KZKhM6rUih81Gdgu3z9A")).toBe(false);
    expect(safeEqual("jGP1KZKhM6rUih81Gdgu3z9", "jGP1KZKhM6rUih81Gdgu3z9A")).toBe(false);
    expect(safeEqual("jGP1KZKhM6rUih81Gdgu3z9AA", "jGP1KZKhM6rUih81Gdgu3z9A")).toBe(false);
    expect(safeEqual("", "jGP1KZKhM6rUih81Gdgu3z9A")).toBe(false);
    // Same length in characters, not in bytes.
    expect(safeEqual("é", "ab")).toBe(false);
    expect(safeEqual("é", "é")).toBe(true);
  });
});
