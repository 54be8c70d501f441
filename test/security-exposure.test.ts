// An exposed sandbox: loopback by default, admin token on /_sandbox, --ipn-allow, cross-site writes refused, CLI checks.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliIo } from "../cli/index.js";
import { createClock } from "../sandbox/clock/index.js";
import { createDispatcher } from "../sandbox/ipn/index.js";
import { createLogger } from "../sandbox/log/index.js";
import { createMemoryStore } from "../sandbox/store/index.js";
import { createSandbox, ERROR_CODES, exampleCreateParams, type Sandbox } from "../sandbox/index.js";
import { isLoopbackHost } from "../sandbox/secure.js";
import { startMerchant } from "./support/merchant.js";
import { BUILTIN_SCENARIOS, scenarioDirector } from "../scenarios/index.js";

const TOKEN = "s3cret-admin-token-42";
const API = "/service/api/v1/public/exchanger/";

let sink: Server;
let sinkUrl: string;
let received = 0;
beforeAll(async () => {
  sink = createServer((req, res) => {
    received++;
    req.resume();
    res.end("OK");
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/ipn`;
});
afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});
function start(options: Parameters<typeof createSandbox>[0] = {}): Sandbox {
  const sandbox = createSandbox({ extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 500 })], ...options });
  sandboxes.push(sandbox);
  return sandbox;
}

async function createOrder(sandbox: Sandbox, extra: Record<string, unknown> = {}) {
  const res = await sandbox.app.request(`${API}order/create/`, {
    method: "POST",
    body: JSON.stringify(exampleCreateParams(sandbox.catalog.routes[0]!, extra)),
    headers: { "content-type": "application/json" },
  });
  return (await res.json()) as { success: boolean; data: { uid: number; secret: string }; error: { errorCode: number; message: string; object: Record<string, unknown>; sandboxHint?: string } };
}

describe("binding", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.8.9.10", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.20", false],
    ["qa.example.com", false],
    ["127.0.0.1.nip.io", false],
  ])("counts %s as loopback: %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it("listens on 127.0.0.1 by default", async () => {
    const { host } = await start().listen(0);
    expect(host).toBe("127.0.0.1");
  });

  it("refuses to listen on a non-loopback address without an admin token, and listens with one", async () => {
    await expect(start().listen(0, "0.0.0.0")).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without an adminToken/);
    const { host } = await start({ adminToken: TOKEN }).listen(0, "0.0.0.0");
    expect(host).toBe("0.0.0.0");
  });

  it("refuses an admin token too short to resist guessing", () => {
    expect(() => createSandbox({ adminToken: "short" })).toThrow(/12 to 512 characters/);
    expect(() => createSandbox({ adminToken: "has a space in it" })).toThrow(/printable ASCII without spaces/);
  });
});

describe("the admin token", () => {
  const CONTROL_PATHS: [string, string][] = [
    ["GET", "/_sandbox"],
    ["GET", "/_sandbox/"],
    ["GET", "/_sandbox/health"],
    ["GET", "/_sandbox/orders"],
    ["GET", "/_sandbox/orders/1001"],
    ["GET", "/_sandbox/deliveries"],
    ["GET", "/_sandbox/events"],
    ["GET", "/_sandbox/clock"],
    ["GET", "/_sandbox/scenarios"],
    ["GET", "/_sandbox/dashboard/dashboard.js"],
    ["GET", "/_sandbox/dashboard/orders/1001"],
    ["GET", "/_sandbox/no-such-endpoint"],
    ["GET", "/%5Fsandbox/orders"],
    ["POST", "/_sandbox/reset"],
    ["POST", "/_sandbox/orders/1001/status"],
    ["POST", "/_sandbox/ipn"],
    ["POST", "/_sandbox/maintenance"],
  ];

  it.each(CONTROL_PATHS)("is required for %s %s: 401 JSON without it, or with a wrong one", async (method, path) => {
    const sandbox = start({ adminToken: TOKEN });
    await createOrder(sandbox);
    for (const headers of [{} as Record<string, string>, { authorization: "Bearer wrong-token-1234567" }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
      const res = await sandbox.app.request(path, { method, headers, ...(method === "POST" ? { body: "{}" } : {}) });
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
      const json = (await res.json()) as { error: { type: string; message: string } };
      expect(json.error.type).toBe("unauthorized");
      expect(json.error.message).toContain("Authorization: Bearer");
    }
    expect(sandbox.store.listOrders()).toHaveLength(1);
  });

  it("lets every /_sandbox request through with Authorization: Bearer TOKEN", async () => {
    const sandbox = start({ adminToken: TOKEN });
    const { data } = await createOrder(sandbox);
    for (const [method, path] of CONTROL_PATHS.filter(([, p]) => !p.includes("events") && !p.includes("reset"))) {
      const res = await sandbox.app.request(path, { method, headers: { authorization: `bearer ${TOKEN}` }, ...(method === "POST" ? { body: "{}" } : {}) });
      expect(res.status, `${method} ${path}`).not.toBe(401);
      await res.body?.cancel();
    }
    const moved = await sandbox.app.request(`/_sandbox/orders/${data.uid}/status`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ status: "waitPayment" }),
    });
    expect(moved.status).toBe(200);
  });

  it("is not needed for the merchant API or the pages", async () => {
    const sandbox = start({ adminToken: TOKEN });
    const { success, data } = await createOrder(sandbox);
    expect(success).toBe(true);
    expect((await sandbox.app.request(`/en/payment/${data.uid}/${data.secret}/`)).status).toBe(200);
    expect((await sandbox.app.request(`${API}route/get/`)).status).toBe(200);
  });

  it("is asked for on no path without the option: a loopback sandbox stays open to local scripts", async () => {
    const sandbox = start();
    expect((await sandbox.app.request("/_sandbox/health")).status).toBe(200);
  });

  it("opens the dashboard in a browser with ?token= once: an HttpOnly SameSite=Strict cookie, then the page without the token", async () => {
    const sandbox = start({ adminToken: TOKEN });
    const signIn = await sandbox.app.request(`/_sandbox/?token=${TOKEN}`);
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get("referrer-policy")).toBe("no-referrer");
    expect(signIn.headers.get("cache-control")).toBe("no-store");
    const cookie = signIn.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^sandbox_admin=[0-9a-f]{64}; /);
    expect(cookie).toContain("Path=/_sandbox");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain(TOKEN);
    const html = await signIn.text();
    expect(html).toContain('http-equiv="refresh" content="0;url=/_sandbox/"');
    expect(html).not.toContain(TOKEN);

    const session = cookie.split(";")[0]!;
    for (const path of ["/_sandbox/", "/_sandbox/orders", "/_sandbox/dashboard/dashboard.js"]) {
      expect((await sandbox.app.request(path, { headers: { cookie: session } })).status, path).toBe(200);
    }
    // The dashboard's own actions carry the cookie too.
    const { data } = await createOrder(sandbox);
    const pay = await sandbox.app.request(`/_sandbox/orders/${data.uid}/pay`, { method: "POST", headers: { cookie: session, "sec-fetch-site": "same-origin" } });
    expect(pay.status).toBe(200);
    expect((await sandbox.app.request("/_sandbox/orders", { headers: { cookie: "sandbox_admin=" + "0".repeat(64) } })).status).toBe(401);
  });

  it("takes ?token= only to open the dashboard: not on other paths, not on a POST, not a wrong one", async () => {
    const sandbox = start({ adminToken: TOKEN });
    expect((await sandbox.app.request(`/_sandbox/orders?token=${TOKEN}`)).status).toBe(401);
    expect((await sandbox.app.request(`/_sandbox/?token=${TOKEN}`, { method: "POST" })).status).toBe(401);
    const wrong = await sandbox.app.request("/_sandbox/?token=wrong-token-123456");
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
  });

  it("guards a real server's /_sandbox, and a dashboard cookie made for another token does not open it", async () => {
    const sandbox = start({ adminToken: TOKEN });
    const { url } = await sandbox.listen(0);
    expect((await fetch(`${url}/_sandbox/health`)).status).toBe(401);
    expect((await fetch(`${url}/_sandbox/health`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const other = start({ adminToken: "another-admin-token-99" });
    const cookie = (await other.app.request("/_sandbox/?token=another-admin-token-99")).headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(`${url}/_sandbox/health`, { headers: { cookie } })).status).toBe(401);
  });
});

describe("cross-site writes to the control API", () => {
  it.each(["cross-site", "same-site"])("are refused with 403 when the browser says Sec-Fetch-Site: %s", async (site) => {
    const sandbox = start();
    const { data } = await createOrder(sandbox);
    const res = await sandbox.app.request("/_sandbox/reset", { method: "POST", headers: { "sec-fetch-site": site } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe("forbidden");
    const move = await sandbox.app.request(`/_sandbox/orders/${data.uid}/status`, { method: "POST", headers: { "sec-fetch-site": site }, body: '{"status":"done","force":true}' });
    expect(move.status).toBe(403);
    expect(sandbox.store.getOrder(data.uid)!.status).toBe("new");
  });

  it("are allowed from the dashboard itself (same-origin) and from scripts (no such header); reads are never refused", async () => {
    const sandbox = start();
    expect((await sandbox.app.request("/_sandbox/reset", { method: "POST", headers: { "sec-fetch-site": "same-origin" } })).status).toBe(200);
    expect((await sandbox.app.request("/_sandbox/reset", { method: "POST" })).status).toBe(200);
    expect((await sandbox.app.request("/_sandbox/health", { headers: { "sec-fetch-site": "cross-site" } })).status).toBe(200);
  });
});

describe("--ipn-allow", () => {
  it("makes order/create refuse an ipnUrl on another host with the validation envelope, storing nothing", async () => {
    const sandbox = start({ ipnAllow: ["shop.example", "127.0.0.1"] });
    const refused = await createOrder(sandbox, { ipnUrl: "http://169.254.169.254/latest/meta-data", ipnSecret: "s" });
    expect(refused.success).toBe(false);
    expect(refused.error.errorCode).toBe(ERROR_CODES.validation);
    expect(refused.error.object).toEqual({ fieldId: null, nameField: "ipnUrl", err: "url", type: "ipnUrl" });
    expect(refused.error.message).toBe("Param ipnUrl isn't valid: ipnUrl");
    expect(refused.error.sandboxHint).toBe("IPN host 169.254.169.254 is not in --ipn-allow; this sandbox sends IPNs only to shop.example, 127.0.0.1");
    expect(sandbox.store.listOrders()).toHaveLength(0);
    expect((await createOrder(sandbox, { ipnUrl: "https://SHOP.example./ipn", ipnSecret: "s" })).success).toBe(true);
    expect((await createOrder(sandbox, { ipnUrl: sinkUrl, ipnSecret: "s" })).success).toBe(true);
  });

  it("compares hosts the way URLs are parsed: 127.1 and 2130706433 are 127.0.0.1", async () => {
    const sandbox = start({ ipnAllow: ["127.1"] });
    expect((await createOrder(sandbox, { ipnUrl: "http://2130706433:1/ipn", ipnSecret: "s" })).success).toBe(true);
    expect((await createOrder(sandbox, { ipnUrl: "http://127.0.0.2:1/ipn", ipnSecret: "s" })).success).toBe(false);
    expect((await createOrder(sandbox, { ipnUrl: "http://localhost:1/ipn", ipnSecret: "s" })).success).toBe(false);
  });

  it("makes a test IPN to another host a 400 that sends nothing", async () => {
    const sandbox = start({ ipnAllow: ["shop.example"] });
    const before = received;
    const res = await sandbox.app.request("/_sandbox/ipn", { method: "POST", body: JSON.stringify({ ipnUrl: sinkUrl, ipnSecret: "s", status: "done" }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("IPN host 127.0.0.1 is not in --ipn-allow");
    await sandbox.dispatcher.idle();
    expect(sandbox.store.listDeliveries()).toHaveLength(0);
    expect(received).toBe(before);
  });

  it("makes the dispatcher record an IPN to another host as an error and never send it", async () => {
    const store = createMemoryStore();
    const dispatcher = createDispatcher({ store, clock: createClock("real"), logger: createLogger({ quiet: true }), allowedHosts: ["shop.example"] });
    const before = received;
    const fields = { orderUID: "1", orderId: "5d8e6002b80b7b4cd75a6424", newStatus: "done", inAmount: "2", outAmount: "317.42", xml_from: "ETH", xml_to: "WMZ", timestamp: "1", toValues: [] };
    const { records, settled } = dispatcher.dispatch({ orderUID: 1, url: sinkUrl, secret: "s", fields });
    expect(records).toHaveLength(1);
    expect((await settled)[0]).toMatchObject({ outcome: "error", error: "IPN host 127.0.0.1 is not in --ipn-allow", response: null });
    expect(received).toBe(before);
    await dispatcher.close();
  });

  it("applies to IPNs fired by moves and resends too, which reach only allowed hosts", async () => {
    const sandbox = start({ ipnAllow: ["127.0.0.1"] });
    const { data } = await createOrder(sandbox, { ipnUrl: sinkUrl, ipnSecret: "s" });
    const before = received;
    sandbox.orders.move(data.uid, "waitPayment", { cause: "test" });
    await sandbox.dispatcher.idle();
    expect(received).toBe(before + 1);
    expect(sandbox.store.listDeliveries()[0]).toMatchObject({ outcome: "accepted" });
  });

  it.each([["http://shop.example"], ["shop.example:8080"], ["shop.example/ipn"], [""]])("refuses the entry %j, which is not a bare host", (entry) => {
    expect(() => createSandbox({ ipnAllow: [entry] })).toThrow(/ipnAllow: expected a host name or IP address/);
  });
});

describe("start on an exposed address", () => {
  function capture(signal: AbortSignal, onListening?: (url: string) => void): CliIo & { out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), signal, ...(onListening ? { onListening } : {}) };
  }

  /** Runs `start` until it listens, then stops it; returns what it printed. */
  async function startAndStop(args: string[]) {
    const controller = new AbortController();
    let listening!: (url: string) => void;
    const url = new Promise<string>((resolve) => (listening = resolve));
    const io = capture(controller.signal, listening);
    const exit = runCli(["start", "--port", "0", ...args], io);
    const shown = await Promise.race([url, exit.then((code) => Promise.reject(new Error(`exit ${code}: ${io.err.join("")}`)))]);
    const health = await fetch(`${shown}/_sandbox/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    controller.abort();
    expect(await exit).toBe(0);
    return { stdout: io.out.join(""), stderr: io.err.join(""), healthStatus: health.status };
  }

  it.each([
    ["--host 0.0.0.0 without --admin-token", ["--host", "0.0.0.0"], /^exchanger-sandbox: --host 0\.0\.0\.0 is reachable from other machines, .*add --admin-token TOKEN/],
    ["a short --admin-token", ["--host", "0.0.0.0", "--admin-token", "abc"], /^exchanger-sandbox: --admin-token: must be 12 to 512 characters long, got 3/],
    ["an --ipn-allow entry with a port", ["--ipn-allow", "shop.example:8080"], /^exchanger-sandbox: --ipn-allow: expected a host name or IP address .*"shop\.example:8080"/],
    ["an empty --ipn-allow", ["--ipn-allow", ","], /^exchanger-sandbox: --ipn-allow cannot be empty/],
  ])("refuses %s: one line on stderr, exit 2", async (_name, args, message) => {
    const io = capture(AbortSignal.abort());
    expect(await runCli(["start", "--port", "0", ...args], io)).toBe(2);
    expect(io.out.join("")).toBe("");
    expect(io.err.join("")).toMatch(/^[^\n]+\n$/);
    expect(io.err.join("")).toMatch(message);
  });

  it("starts with --admin-token, warns in one line that without --ipn-allow it is a request relay, and never prints the token", async () => {
    const { stdout, stderr, healthStatus } = await startAndStop(["--host", "0.0.0.0", "--admin-token", TOKEN]);
    expect(healthStatus).toBe(200);
    expect(stderr).toMatch(/^exchanger-sandbox: warning: listening on 0\.0\.0\.0 without --ipn-allow: .*request relay.*\n$/);
    expect(stderr.split("\n")).toHaveLength(2);
    expect(stdout).toContain("/_sandbox/?token=<admin token>");
    expect(stdout).toContain('-H "Authorization: Bearer $ADMIN_TOKEN"');
    expect(stdout + stderr).not.toContain(TOKEN);
  });

  it("does not warn with --ipn-allow, nor on loopback", async () => {
    expect((await startAndStop(["--host", "0.0.0.0", "--admin-token", TOKEN, "--ipn-allow", "shop.example"])).stderr).toBe("");
    expect((await startAndStop(["--host", "127.0.0.1"])).stderr).toBe("");
  });
});

describe("only http and https IPN URLs", () => {
  it.each(["file:///etc/passwd", "ftp://shop.example/ipn", "gopher://127.0.0.1:70/", "javascript:alert(1)"])("refuses %s in order/create and records it as an error in the dispatcher", async (url) => {
    const sandbox = start();
    expect((await createOrder(sandbox, { ipnUrl: url, ipnSecret: "s" })).success).toBe(false);
    const { settled } = sandbox.dispatcher.dispatch({ orderUID: null, url, secret: "s", fields: { orderUID: "1", orderId: "x", newStatus: "done", inAmount: "1", outAmount: "1", xml_from: "ETH", xml_to: "WMZ", timestamp: "1", toValues: [] } });
    expect((await settled)[0]).toMatchObject({ outcome: "error", error: expect.stringMatching(/only http and https|invalid URL/) });
  });
});

describe("the CLI's HTTP clients on a token-protected sandbox", () => {
  it("run --sandbox and verify --sandbox-url send --admin-token", async () => {
    const token = "a-long-enough-admin-token";
    const sandbox = createSandbox({ adminToken: token, clock: "manual" });
    const { url } = await sandbox.listen(0);
    const merchant = await startMerchant("S");
    try {
      const io = () => {
        const out = { stdout: "", stderr: "" };
        return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
      };
      const without = io();
      expect(await runCli(["run", "returned", "--sandbox", url, "--ipn-url", merchant.url, "--ipn-secret", "S"], without.io)).toBe(2);
      expect(without.out.stderr).toMatch(/401/);
      const withToken = io();
      expect(await runCli(["run", "returned", "--sandbox", url, "--admin-token", token, "--ipn-url", merchant.url, "--ipn-secret", "S"], withToken.io), withToken.out.stdout).toBe(0);
      const verify = io();
      const code = await runCli(["verify", "--sandbox-url", url, "--admin-token", token, "--ipn-url", merchant.url, "--ipn-secret", "S", "--only", "encoding", "--no-browser"], verify.io);
      expect(verify.out.stderr).toBe("");
      expect(code, verify.out.stdout).toBe(0);
      expect(verify.out.stdout).toContain("pass  encoding/malformed-body");
    } finally {
      await merchant.close();
      await sandbox.close();
    }
  }, 30_000);
});
