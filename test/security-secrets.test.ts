// Secrets are compared in constant time and masked in logs, the dashboard, control API listings and the event stream.

import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as crypto from "node:crypto";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createSandbox, exampleCreateParams, requestHash, verifyIpnHash, type Sandbox } from "../sandbox/index.js";
import { safeEqual } from "../sandbox/secure.js";
import { streamText } from "./support/wait.js";

vi.mock("../sandbox/secure.js", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../sandbox/secure.js")>();
  return { ...actual, safeEqual: vi.fn(actual.safeEqual) };
});
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});
const safeEqualSpy = vi.mocked(safeEqual);
const timingSafeEqualSpy = vi.mocked(crypto.timingSafeEqual);

const API = "/service/api/v1/public/exchanger/";
const ADMIN_TOKEN = "admin-token-0123456789abcdef";
const API_KEY = "merchant-key-4242";
const API_SECRET = "merchant-api-secret-4242";
const IPN_SECRET = "ipn-secret-value-777";
const URL_PASSWORD = "pa55word-xyz";
const URL_TOKEN = "merchant-token-123";

let sink: Server;
let sinkPort: number;
beforeAll(async () => {
  sink = createServer((_req, res) => res.end("OK"));
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  sinkPort = (sink.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

let sandbox: Sandbox;
afterEach(() => sandbox?.close());

/** A sandbox whose log lines are kept, with an extension route that fails, to see what an error line logs. */
function start(format: "json" | "pretty", options: { adminToken?: string } = {}) {
  const lines: string[] = [];
  sandbox = createSandbox({
    seed: 4,
    logger: { format, write: (line) => void lines.push(line) },
    credentials: [{ apiKey: API_KEY, apiSecret: API_SECRET }],
    extensions: [
      () => {
        const routes = new Hono();
        routes.get("/en/order/:uid/:secret/boom", () => {
          throw new Error("boom");
        });
        return { routes };
      },
    ],
    ...options,
  });
  return lines;
}

const auth = (token = ADMIN_TOKEN) => ({ authorization: `Bearer ${token}` });

/** Creates an order with the API key's authorization, an IPN URL with a password and a token in it. */
async function createSignedOrder(): Promise<{ uid: number; secret: string; hash: string }> {
  const params = { ...exampleCreateParams(sandbox.catalog.routes[0]!), ipnUrl: `http://user:${URL_PASSWORD}@127.0.0.1:${sinkPort}/ipn?token=${URL_TOKEN}`, ipnSecret: IPN_SECRET, time: sandbox.clock.now() };
  const body = JSON.stringify(params);
  const hash = requestHash(body, API_SECRET);
  const res = await sandbox.app.request(`${API}order/create/`, { method: "POST", body, headers: { "content-type": "application/json", apikey: API_KEY, hash } });
  const json = (await res.json()) as { success: boolean; data: { uid: number; secret: string }; error?: unknown };
  if (!json.success) throw new Error(JSON.stringify(json.error));
  return { ...json.data, hash };
}

describe("secrets are compared in constant time", () => {
  it("the order secret, in order/get, update-status, both pages, their streams and the I paid form", async () => {
    start("json");
    const { uid, secret } = await createSignedOrder();
    const wrong = `${secret.slice(0, -1)}_`;
    const requests: [string, string][] = [
      ["GET", `${API}order/get/?orderUID=${uid}&orderSecret=${wrong}`],
      ["PUT", `${API}order/update-status/?_=1`],
      ["GET", `/en/payment/${uid}/${wrong}/`],
      ["GET", `/en/order/${uid}/${wrong}/`],
      ["GET", `/en/order/${uid}/${wrong}/events`],
      ["POST", `/en/payment/${uid}/${wrong}/pay`],
    ];
    for (const [method, path] of requests) {
      safeEqualSpy.mockClear();
      const init = method === "PUT" ? { body: JSON.stringify({ orderUID: uid, orderSecret: wrong, status: "deleted" }), headers: { "content-type": "application/json" } } : {};
      await (await sandbox.app.request(path, { method, ...init })).text();
      expect(safeEqualSpy, `${method} ${path}`).toHaveBeenCalledWith(wrong, secret);
    }
    expect(sandbox.store.getOrder(uid)!.status).toBe("new");
  });

  it("an unknown order's secret too, against a stand-in, so that both take the same time", async () => {
    start("json");
    safeEqualSpy.mockClear();
    await sandbox.app.request(`${API}order/get/?orderUID=99999&orderSecret=guess`);
    expect(safeEqualSpy).toHaveBeenCalledWith("guess", expect.any(String));
  });

  it("the API key and the request hash", async () => {
    start("json");
    safeEqualSpy.mockClear();
    await createSignedOrder();
    expect(safeEqualSpy).toHaveBeenCalledWith(API_KEY, API_KEY);
    const hashCalls = safeEqualSpy.mock.calls.filter(([given]) => /^[0-9a-f]{64}$/.test(given));
    expect(hashCalls.length).toBeGreaterThan(0);
    safeEqualSpy.mockClear();
    await sandbox.app.request(`${API}route/get/?time=${sandbox.clock.now()}`, { headers: { apikey: "guessed-key", hash: "0".repeat(64) } });
    expect(safeEqualSpy).toHaveBeenCalledWith("guessed-key", API_KEY);
  });

  it("the admin token, as a Bearer header, a dashboard cookie and the dashboard's ?token=", async () => {
    start("json", { adminToken: ADMIN_TOKEN });
    safeEqualSpy.mockClear();
    await sandbox.app.request("/_sandbox/health", { headers: auth("wrong-token-0000") });
    expect(safeEqualSpy).toHaveBeenCalledWith("wrong-token-0000", ADMIN_TOKEN);
    safeEqualSpy.mockClear();
    await sandbox.app.request("/_sandbox/health", { headers: { cookie: "sandbox_admin=forged" } });
    expect(safeEqualSpy).toHaveBeenCalledWith("forged", expect.stringMatching(/^[0-9a-f]{64}$/));
    safeEqualSpy.mockClear();
    await sandbox.app.request("/_sandbox/?token=guess");
    expect(safeEqualSpy).toHaveBeenCalledWith("guess", ADMIN_TOKEN);
  });

  it("the IPN checksum, in verifyIpnHash", () => {
    const fields = { orderId: "5d8e6002b80b7b4cd75a6424", newStatus: "inProgress", inAmount: "2", outAmount: "317.42", xml_from: "ETH", xml_to: "WMZ", timestamp: "1571328406072" };
    timingSafeEqualSpy.mockClear();
    expect(verifyIpnHash(fields, "SECRET123", "af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48")).toBe(true);
    expect(verifyIpnHash(fields, "SECRET123", "0".repeat(64))).toBe(false);
    expect(timingSafeEqualSpy).toHaveBeenCalledTimes(2);
  });

  it("nowhere in the sandbox's source with === or !==", () => {
    // A heuristic safety net for the spies above: a secret compared to anything but a literal is a finding.
    const secretish = /(secret|token|apikey|apiSecret|^hash$|\.hash$)/i;
    const literal = /^(undefined|null|""|''|"[^"]*"|'[^']*'|-?\d+|true|false)$/;
    const findings: string[] = [];
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(`${dir}/${e.name}`) : /\.tsx?$/.test(e.name) ? [`${dir}/${e.name}`] : []));
    for (const file of walk(new URL("../sandbox", import.meta.url).pathname)) {
      readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        for (const m of line.matchAll(/([\w.?!\])]+)\s*[!=]==?\s*([\w."'?!(-]+)/g)) {
          const [left, right] = [m[1]!, m[2]!];
          if ((secretish.test(left) && !literal.test(right)) || (secretish.test(right) && !literal.test(left))) findings.push(`${file}:${i + 1}: ${line.trim()}`);
        }
      });
    }
    expect(findings).toEqual([]);
  });
});

describe("secrets stay out of the log", () => {
  it.each(["json", "pretty"] as const)("in %s lines: order secrets in queries and paths, IPN URL credentials, API keys and hashes", async (format) => {
    const lines = start(format);
    const { uid, secret, hash } = await createSignedOrder();
    const queries = [
      `orderUID=${uid}&orderSecret=${secret}`,
      `orderUID=${uid}&order%53ecret=${secret}`,
      `orderUID=${uid}&orderSecret[0]=${secret}`,
      `orderUID=${uid}&ORDERSECRET=${secret}&type=payment`,
      // Under another name, a decoder still finds it.
      `orderUID=${uid}&orderSecret=x&x[orderSecret]=${secret}`,
      `orderUID=${uid}&orderSecret=x&a[0][%6FrderSecret]=${secret}`,
    ];
    for (const query of queries) await (await sandbox.app.request(`${API}order/get/?${query}`)).text();
    await sandbox.app.request(`${API}route/get/?apikey=${API_KEY}&hash=${hash}`);
    await sandbox.app.request(`/_sandbox/en/order/${uid}/${secret}/boom`);
    sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    await sandbox.dispatcher.idle();

    const log = lines.join("\n");
    expect(lines.filter((line) => line.includes("order/get/?")).length).toBe(queries.length);
    expect(log).toContain("error GET /_sandbox/en/order/");
    expect(log).toMatch(/ipn .*waitPayment|"type":"ipn"/);
    for (const value of [secret, IPN_SECRET, API_SECRET, hash, URL_PASSWORD, URL_TOKEN]) expect(log, `the log shows ${value}`).not.toContain(value);
  });
});

describe("secrets are masked where people look", () => {
  it("the orders listing and the event stream mask the order secret; one order shows it in full", async () => {
    start("json");
    const controller = new AbortController();
    const events = await sandbox.app.request("/_sandbox/events", { signal: controller.signal });
    const reader = streamText(events);
    const { uid, secret } = await createSignedOrder();
    const stream = await reader.until((text) => text.includes(`"uid":${uid}`), `order ${uid} on the event stream`);
    controller.abort();

    const listing = await (await sandbox.app.request("/_sandbox/orders")).text();
    const one = (await (await sandbox.app.request(`/_sandbox/orders/${uid}`)).json()) as { secret: string };
    expect(one.secret).toBe(secret);
    for (const [name, text] of [["listing", listing], ["event stream", stream]]) {
      expect(text, name).not.toContain(secret);
      expect(text, name).toContain(`${secret.slice(0, 2)}••••••••${secret.slice(-2)}`);
      expect(text, name).not.toContain(IPN_SECRET);
      expect(text, name).not.toContain(API_KEY);
    }
  });

  it("no control API answer or dashboard view shows the IPN secret, the API key or the admin token", async () => {
    start("json", { adminToken: ADMIN_TOKEN });
    const { uid } = await createSignedOrder();
    sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    await sandbox.dispatcher.idle();
    const listings = ["/_sandbox/orders", "/_sandbox/deliveries", "/_sandbox/", `/_sandbox/dashboard/orders/${uid}`];
    const single = [`/_sandbox/orders/${uid}`, "/_sandbox/deliveries/d1"];
    for (const path of [...listings, ...single]) {
      const res = await sandbox.app.request(path, { headers: auth() });
      expect(res.status, path).toBe(200);
      const text = await res.text();
      for (const value of [IPN_SECRET, API_KEY, API_SECRET, ADMIN_TOKEN]) expect(text, `${path} shows ${value}`).not.toContain(value);
      // The ipnUrl's own credentials are masked in listings and on the dashboard; one order or delivery shows them.
      for (const value of [URL_PASSWORD, URL_TOKEN]) expect(text.includes(value), `${path} and ${value}`).toBe(single.includes(path));
    }
  });
});
