// The node server's way into the merchant API (sandbox/api/node-adapter.ts) answers exactly as the Hono app does,
// through the same core: every path, every body encoding, a client that hangs up, and what it leaves to the app.

import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeCall } from "../sandbox/api/node-adapter.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";

let sb: RunningSandbox;
beforeAll(async () => {
  sb = await startSandbox({ seed: 11, maxBodyBytes: 4096 });
});
afterAll(() => sb.close());

async function createOrder() {
  const res = await sb.api("POST", "public/exchanger/order/create", validCreateBody(routeByXml(sb.sandbox, "ETH", "WMZ")));
  expect(res.success).toBe(true);
  return res.data as { uid: number; secret: string };
}

/** An answer's text with the two parts that differ from call to call replaced. */
const stable = (text: string) => text.replace(/"latency_ms":\d+/, '"latency_ms":0').replace(/"requestId":"[^"]*"/, '"requestId":"x"');

/** Sends raw bytes to the server and resolves with everything it answers before closing. */
function raw(text: string): Promise<string> {
  const { port } = new URL(sb.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => socket.write(text));
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => (answer += chunk));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

const CREATE = "/service/api/v1/public/exchanger/order/create/";

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
    // The head and a piece of the body reach the server, then the connection ends: the rest never comes.
    await new Promise<void>((resolve) =>
      socket.write(`POST ${CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"routeId":`, () => resolve()),
    );
    await new Promise<void>((resolve) => socket.end(() => resolve()));
    // The server has the end of that connection before this request, which it answers as ever.
    const { uid } = await createOrder();
    expect(sb.sandbox.store.listOrders()).toHaveLength(before + 1);
    expect(sb.sandbox.store.getOrder(uid)).toBeDefined();
    socket.destroy();
  });
});

describe("what the node way leaves to the app, and what it refuses", () => {
  it("leaves a chunked body (no declared length) to the app, which answers it the same", async () => {
    const body = JSON.stringify(validCreateBody(routeByXml(sb.sandbox, "ETH", "WMZ")));
    const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const answer = await raw(`POST ${CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunked}`);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"success":true');
  });

  it("refuses a declared length over the limit with the API's error and asks the client to close, as the app does", async () => {
    const answer = await raw(`POST ${CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{`);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.toLowerCase()).toContain("connection: close");
    const viaApp = await sb.sandbox.app.request(CREATE, { method: "POST", body: "x".repeat(5000), headers: { "content-type": "application/json" } });
    const appJson = (await viaApp.json()) as { error: { errorCode: number; message: string } };
    expect(viaApp.headers.get("connection")).toBe("close");
    expect(answer).toContain(`"errorCode":${appJson.error.errorCode}`);
    expect(answer).toContain(appJson.error.message);
  });
});

describe("a call read from node's request", () => {
  it("reads a header sent twice as Headers.get does: the values joined", () => {
    const request = new Request("http://127.0.0.1/service/api/v1/public/exchanger/route/get/?x=1", { headers: [["apikey", "a"], ["apikey", "b"]] });
    const incoming = { headers: { apikey: ["a", "b"], lang: "en" } } as never;
    const call = nodeCall(request, incoming, false);
    expect(call.header("apikey")).toBe("a, b");
    expect(call.header("Lang")).toBe("en");
    expect(call.header("hash")).toBeUndefined();
    expect(call.path).toBe("/service/api/v1/public/exchanger/route/get/");
    expect(call.method).toBe("GET");
  });
});
