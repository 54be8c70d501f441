// The shortcuts that make order/get cheap give exactly what the plain way gives: the envelope written as text, the
// cached order view, the secret comparison. The node server's own way in has its tests in api-node-adapter.test.ts.

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
