// The typed control client: each call reaches the real control API, waits follow the event stream, errors explain.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ControlClientError, createControlClient, createSandbox, exampleCreateParams, type ControlClient, type Sandbox } from "../sandbox/index.js";
import { findBuiltinScenario, runScenarios } from "../scenarios/index.js";
import { readDoc } from "./support/docs.js";
import { startMerchant, type Merchant } from "./support/merchant.js";
import { startSink, type Sink } from "./support/sink.js";

const SECRET = "client-secret";
const REPO = fileURLToPath(new URL("../", import.meta.url));

let sandbox: Sandbox;
let url: string;
let merchant: Merchant;
let client: ControlClient;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  sandbox = createSandbox({ ipnTimeoutMs: 5000 });
  url = (await sandbox.listen(0)).url;
  merchant = await startMerchant(SECRET);
  client = createControlClient(url);
});
afterAll(async () => {
  await merchant.close();
  await sandbox.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function newOrder(ipnUrl = merchant.url) {
  const [route] = await client.routes();
  return client.createOrder(exampleCreateParams(route!, { ipnUrl, ipnSecret: SECRET }));
}

describe("the control client", () => {
  it("reads the sandbox's health, orders and deliveries as the control API answers them", async () => {
    expect(await client.health()).toMatchObject({ ok: true, version: expect.any(String) });
    const created = await newOrder();
    const order = await client.order(created.uid);
    expect(order).toMatchObject({ uid: created.uid, _id: created._id, secret: created.secret, status: "new", ipnUrl: merchant.url, deliveries: [] });
    expect((await client.orders()).map((o) => o.uid)).toContain(created.uid);
    const moved = await client.move(created.uid, "waitPayment");
    expect(moved.status).toBe("waitPayment");
    const [record] = await client.settle(moved.deliveries.map((d) => d.id), { timeoutMs: 10_000 });
    expect(record).toMatchObject({ orderUID: created.uid, status: "waitPayment", outcome: "accepted", response: { status: 200 } });
    expect(await client.deliveries({ orderUID: created.uid })).toEqual([record]);
  });

  it("settles a delivery when the merchant answers, following the event stream", async () => {
    let release!: () => void;
    const answered = new Promise<void>((resolve) => (release = resolve));
    const slow = await startSink(async (_req, res) => {
      await answered;
      res.writeHead(200).end("OK");
    });
    open.push(slow);
    const created = await newOrder(slow.url);
    const moved = await client.move(created.uid, "waitPayment");
    const ids = moved.deliveries.map((d) => d.id);
    const settled = client.settle(ids, { timeoutMs: 10_000 });
    expect((await client.delivery(ids[0]!)).outcome).toBe("pending");
    release();
    expect((await settled).map((r) => r.outcome)).toEqual(["accepted"]);
  });

  it("finds the order created while `during` runs, and only the one `match` accepts", async () => {
    const other = await startSink((_req, res) => res.writeHead(200).end());
    open.push(other);
    const found = await client.waitForNewOrder({
      timeoutMs: 10_000,
      during: async () => {
        await newOrder(other.url);
        await newOrder();
      },
      match: (order) => order.ipnUrl === merchant.url,
    });
    expect(found).toMatchObject({ ipnUrl: merchant.url, status: "new" });
    expect(await client.waitForNewOrder({ timeoutMs: 50 })).toBeNull();
  });

  it.each<[string, () => Promise<unknown>, number | null, RegExp]>([
    ["an unknown order", () => client.order(999_999), 404, /the sandbox answered 404 to GET \/_sandbox\/orders\/999999: No order 999999/],
    ["a move the table forbids", async () => client.move((await newOrder()).uid, "done"), 409, /send "force": true/],
    ["an invalid order/create", () => client.createOrder({}), 200, /order\/create failed: /],
    ["a sandbox that is not there", () => createControlClient("http://127.0.0.1:9").health(), null, /cannot reach the sandbox at http:\/\/127\.0\.0\.1:9 \(GET \/_sandbox\/health\)/],
  ])("throws a ControlClientError for %s", async (_name, call, status, message) => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ControlClientError);
    expect(error).toMatchObject({ status });
    expect((error as Error).message).toMatch(message);
  });

  it("refuses a base URL that is not http or https", () => {
    expect(() => createControlClient("127.0.0.1:7070")).toThrow(/absolute http or https URL/);
  });

  it("sends the admin token, on every call and on the event stream", async () => {
    const guarded = createSandbox({ adminToken: "t".repeat(32), ipnTimeoutMs: 5000 });
    open.push(guarded);
    const base = (await guarded.listen(0)).url;
    await expect(createControlClient(base).health()).rejects.toMatchObject({ status: 401 });
    const admin = createControlClient(base, { adminToken: "t".repeat(32) });
    const [route] = await admin.routes();
    const order = await admin.waitForNewOrder({ timeoutMs: 10_000, during: () => admin.createOrder(exampleCreateParams(route!, { ipnUrl: merchant.url, ipnSecret: SECRET })) });
    expect(order?.ipnUrl).toBe(merchant.url);
  });
});

describe("scenarios over HTTP, through the control client", () => {
  it("play held, reordered and delayed IPNs on a running manual-clock sandbox as they play in-process", async () => {
    const running = createSandbox({ clock: "manual", startAt: Date.UTC(2026, 0, 1), ipnTimeoutMs: 5000 });
    open.push(running);
    const base = (await running.listen(0)).url;
    const scenarios = ["drop-once", "out-of-order", "delayed-ipn"].map((name) => findBuiltinScenario(name)!);
    const overHttp = await runScenarios({ scenarios, ipnUrl: merchant.url, ipnSecret: SECRET, sandboxUrl: base, ipnTimeoutMs: 5000 });
    const inProcess = await runScenarios({ scenarios, ipnUrl: merchant.url, ipnSecret: SECRET, ipnTimeoutMs: 5000 });
    const shape = (t: (typeof overHttp)[number]) => ({ passed: t.passed, ipns: t.events.filter((e) => e.kind === "ipn").map((e) => (e.kind === "ipn" ? `${e.status} ${e.outcome}` : "")) });
    expect(overHttp.map(shape)).toEqual(inProcess.map(shape));
    expect(overHttp.every((t) => t.passed)).toBe(true);
  });
});

describe("docs/control-api.md", () => {
  it("runs its control-client example against a sandbox and a merchant", async () => {
    const code = readDoc("docs/control-api.md").match(/```ts\n(\/\/ control-client example[\s\S]*?)```/)?.[1];
    expect(code, "the example is in docs/control-api.md").toBeTruthy();
    const file = join(mkdtempSync(join(tmpdir(), "control-client-")), "follow.mts");
    writeFileSync(file, code!.replace(`from "exchanger-sandbox"`, `from ${JSON.stringify(join(REPO, "sandbox/index.ts"))}`));
    const ipn = await startMerchant("S");
    open.push(ipn);
    const child = spawn(process.execPath, ["--import", "tsx", file], {
      cwd: REPO,
      env: { ...process.env, SANDBOX_URL: url, IPN_URL: ipn.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exitCode = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(exitCode, stderr).toBe(0);
    expect(stdout).toMatch(/^d\d+ waitPayment accepted 200\nd\d+ waitPayment accepted 200\n$/);
  }, 30_000);
});
