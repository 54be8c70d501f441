// The OpenAPI description against real sandboxes: every control API call, the inbox, scenarios, events, the dashboard
// and the pages answer each status they document, each as its schema says, and no other.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createParser } from "eventsource-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams, type Sandbox, type SandboxOptions } from "../sandbox/index.js";
import { buildOpenApi } from "../sandbox/openapi/index.js";
import { BUILTIN_SCENARIOS, scenarioDirector } from "../scenarios/index.js";
import { faultyFs } from "./support/faulty-fs.js";
import { specChecker, type Seen } from "./support/openapi.js";
import { startSink, type Sink } from "./support/sink.js";

type Json = Record<string, any>;

const MAX_BODY = 4096;
const TOKEN = "openapi-live-admin-token";
// The shipped description: its schemas and responses are every sandbox's (a served copy differs in servers and security).
const checker = specChecker(buildOpenApi());
const opened: { close(): Promise<void> }[] = [];
const folders: string[] = [];
let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
  opened.push(sink);
});

afterAll(async () => {
  for (const item of opened.reverse()) await item.close();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function start(options: SandboxOptions = {}): Promise<{ sandbox: Sandbox; url: string }> {
  const sandbox = createSandbox({
    maxBodyBytes: MAX_BODY,
    extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 5000 })],
    ...options,
  });
  opened.push(sandbox);
  return { sandbox, url: (await sandbox.listen(0)).url };
}

/** A control call, checked against the description. */
function control(base: string, method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Seen> {
  return checker.fetch(`${base}/_sandbox${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
}

async function createOrder(url: string, extra: Record<string, unknown> = {}, sandbox?: Sandbox): Promise<Json> {
  const route = sandbox?.catalog.routes[0];
  const res = await fetch(`${url}/service/api/v1/public/exchanger/order/create/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(exampleCreateParams(route!, extra)),
  });
  const envelope = (await res.json()) as Json;
  expect(envelope.success, JSON.stringify(envelope)).toBe(true);
  return envelope.data;
}

/** A concrete path for a documented template. */
const concrete = (template: string, uid: number) => template.replace("{uid}", String(uid)).replace("{id}", "d1").replace("{name}", "qa");

/** Every documented control operation: its template and method. */
const operations = () =>
  Object.entries(checker.doc.paths)
    .filter(([path]) => path.startsWith("/_sandbox"))
    .flatMap(([path, item]) => Object.entries(item as Json).map(([method, operation]) => ({ path, method: method.toUpperCase() as "GET" | "POST", operation: operation as Json })));

/** Waits for what a positive condition says, bounded: a scenario's play ends on its own timers. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the control API, as the OpenAPI description says", () => {
  let sandbox: Sandbox;
  let url: string;
  let order: Json;

  beforeAll(async () => {
    // A manual clock: a scenario's waits hold until the test moves time.
    ({ sandbox, url } = await start({ clock: "manual" }));
    order = await createOrder(url, { ipnUrl: sink.url, ipnSecret: "S" }, sandbox);
  });

  it("reads health, orders in pages and filters, and one order", async () => {
    await createOrder(url, {}, sandbox);
    expect((await control(url, "GET", "/health")).body.ok).toBe(true);
    expect((await control(url, "GET", "/orders")).body.orders.length).toBe(2);
    const page = await control(url, "GET", "/orders?limit=1&order=oldest");
    expect(page.body.next).toBe(String(order.uid));
    expect((await control(url, "GET", `/orders?limit=1&cursor=${page.body.next}&status=new&order=oldest`)).body.orders.length).toBe(1);
    expect((await control(url, "GET", `/orders?uid=${order.uid}&order=newest`)).body.orders[0].uid).toBe(order.uid);
    expect((await control(url, "GET", "/orders?bogus=1")).status).toBe(400);
    expect((await control(url, "GET", `/orders/${order.uid}`)).body.secret).toBe(order.secret);
    expect((await control(url, "GET", "/orders/abc")).status).toBe(400);
    expect((await control(url, "GET", "/orders/999999")).status).toBe(404);
  });

  it("moves and pays orders, and refuses what the table forbids", async () => {
    expect((await control(url, "POST", `/orders/${order.uid}/status`, { status: "waitPayment", fault: { type: "duplicate", copies: 2 } })).status).toBe(200);
    expect((await control(url, "POST", `/orders/${order.uid}/status`, { status: "done" })).status).toBe(409);
    expect((await control(url, "POST", `/orders/${order.uid}/status`, { status: "nope" })).status).toBe(400);
    expect((await control(url, "POST", "/orders/999999/status", { status: "done" })).status).toBe(404);
    expect((await control(url, "POST", `/orders/${order.uid}/pay`, { fault: "missingHash" })).body.status).toBe("inProgress");
    expect((await control(url, "POST", `/orders/${order.uid}/pay`)).status).toBe(409);
    expect((await control(url, "POST", `/orders/${order.uid}/pay`, { fault: "bogus" })).status).toBe(400);
    expect((await control(url, "POST", "/orders/999999/pay")).status).toBe(404);
    // Dropped, and sent to nowhere: records in more of the states the description names.
    await control(url, "POST", `/orders/${order.uid}/status`, { status: "hold", fault: "drop" });
    await control(url, "POST", "/ipn", { ipnUrl: "http://127.0.0.1:9/ipn", ipnSecret: "S", status: "done" });
    await sandbox.dispatcher.idle();
  });

  it("lists deliveries, reads and resends one, and fires test IPNs", async () => {
    // Held until the manual clock passes a minute.
    await control(url, "POST", `/orders/${order.uid}/status`, { status: "hold", force: true, fault: { type: "delay", ms: 60_000 } });
    const all = await control(url, "GET", "/deliveries");
    expect(new Set(all.body.deliveries.map((d: Json) => d.outcome))).toEqual(new Set(["accepted", "held", "dropped", "error"]));
    expect((await control(url, "POST", "/clock/advance", { ms: 60_000 })).status).toBe(200);
    expect((await control(url, "GET", `/deliveries?limit=1&order=newest&orderUID=${order.uid}&status=waitPayment&outcome=accepted`)).body.deliveries.length).toBe(1);
    expect((await control(url, "GET", "/deliveries?cursor=nope")).status).toBe(400);
    expect((await control(url, "GET", "/deliveries/d1")).body.id).toBe("d1");
    expect((await control(url, "GET", "/deliveries/d999")).status).toBe(404);
    expect((await control(url, "POST", "/deliveries/d1/resend")).body.deliveries[0].resendOf).toBe("d1");
    expect((await control(url, "POST", "/deliveries/d999/resend")).status).toBe(404);
    expect((await control(url, "POST", "/ipn", { ipnUrl: sink.url, ipnSecret: "S", status: "done", orderUID: order.uid, fault: "tamperHash" })).status).toBe(201);
    expect((await control(url, "POST", "/ipn", { ipnUrl: "ftp://example.com/", ipnSecret: "S", status: "done" })).status).toBe(400);
    expect((await control(url, "POST", "/ipn", { ipnUrl: sink.url, ipnSecret: "S", status: "done", orderUID: 999999 })).status).toBe(404);
    await sandbox.dispatcher.idle();
  });

  it("takes IPNs into an inbox and lists them", async () => {
    const res = await checker.fetch(`${url}/_sandbox/inbox/qa`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: sink.received[0]!.body });
    expect(res.body).toBe("OK");
    expect((await checker.fetch(`${url}/_sandbox/inbox/bad!name`, { method: "POST", body: "x=1" })).status).toBe(404);
    expect((await control(url, "GET", "/inbox")).body.inboxes).toEqual([{ name: "qa", received: 1 }]);
    expect((await control(url, "GET", "/inbox/qa")).body.received[0].verdict).toBe("valid");
    expect((await control(url, "GET", "/inbox/bad!name")).status).toBe(404);
  });

  it("plays scenarios and shows their transcripts", async () => {
    expect((await control(url, "GET", "/scenarios")).body.scenarios.length).toBe(BUILTIN_SCENARIOS.length);
    const waiting = await createOrder(url, { ipnUrl: sink.url, ipnSecret: "S" }, sandbox);
    expect((await control(url, "GET", `/orders/${waiting.uid}/scenario`)).status).toBe(404);
    // happy-path waits two minutes of sandbox time, which a manual clock never passes by itself: it stays running.
    expect((await control(url, "POST", `/orders/${waiting.uid}/scenario`, { name: "happy-path" })).status).toBe(202);
    expect((await control(url, "POST", `/orders/${waiting.uid}/scenario`, { name: "happy-path" })).status).toBe(409);
    expect((await control(url, "POST", `/orders/${waiting.uid}/scenario`, { name: "nope" })).status).toBe(400);
    expect((await control(url, "POST", "/orders/999999/scenario", { name: "happy-path" })).status).toBe(404);
    expect((await control(url, "GET", `/orders/${waiting.uid}/scenario`)).body.state).toBe("running");
    // One without waits plays to its end, transcript and all.
    const played = await createOrder(url, { ipnUrl: sink.url, ipnSecret: "S" }, sandbox);
    await control(url, "POST", `/orders/${played.uid}/scenario`, { name: "duplicate-ipn", mode: "auto" });
    const ended = async () => (await fetch(`${url}/_sandbox/orders/${played.uid}/scenario`).then((r) => r.json()) as Json).state !== "running";
    await until(ended, "the duplicate-ipn play to end");
    const play = await control(url, "GET", `/orders/${played.uid}/scenario`);
    expect(play.body.transcript.events.length).toBeGreaterThan(3);
  }, 60_000);

  it("reads and moves the clock, and switches maintenance", async () => {
    const before = (await control(url, "GET", "/clock")).body.now;
    expect((await control(url, "POST", "/clock/advance", { ms: 1000 })).body.now).toBe(before + 1000);
    expect((await control(url, "POST", "/clock/advance", { ms: -1 })).status).toBe(400);
    expect((await control(url, "POST", "/maintenance", { on: true })).body.on).toBe(true);
    expect((await control(url, "GET", "/maintenance")).body.on).toBe(true);
    expect((await control(url, "POST", "/maintenance", { on: "yes" })).status).toBe(400);
    await control(url, "POST", "/maintenance", { on: false });
  });

  it("streams events whose change data are ControlEvents", async () => {
    const abort = new AbortController();
    const res = await fetch(`${url}/_sandbox/events`, { signal: abort.signal });
    checker.check("GET", `${url}/_sandbox/events`, res.status, res.headers.get("content-type"), "");
    const events: { event: string | undefined; data: string }[] = [];
    const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const { value, done: ended } = await reader.read();
        if (ended) throw new Error("the event stream ended");
        parser.feed(value);
      }
    };
    await readUntil(() => events.some((e) => e.event === "hello"));
    const created = await createOrder(url, {}, sandbox);
    await control(url, "POST", `/orders/${created.uid}/status`, { status: "deleted" });
    await readUntil(() => events.filter((e) => e.event === "change").length >= 2);
    for (const change of events.filter((e) => e.event === "change")) checker.checkSchema("ControlEvent", JSON.parse(change.data));
    abort.abort();
  });

  it("serves the description itself, the dashboard and the buyer's pages", async () => {
    expect((await control(url, "GET", "/openapi.json")).body.openapi).toBe("3.1.0");
    expect((await control(url, "GET", "/")).body).toContain("<html");
    for (const kind of ["payment", "order"]) {
      expect((await checker.fetch(`${url}/en/${kind}/${order.uid}/${order.secret}/`)).status).toBe(200);
      expect((await checker.fetch(`${url}/ru/${kind}/${order.uid}/wrong-secret/`)).status).toBe(404);
    }
    expect((await control(url, "POST", "/reset")).body).toEqual({ ok: true });
  });

  it("refuses every change from another site with 403, and every body over the limit with 413", async () => {
    const uid = (await createOrder(url, {}, sandbox)).uid;
    for (const { path, method } of operations().filter((op) => op.method === "POST")) {
      const target = concrete(path, uid).replace("/_sandbox", "");
      expect((await control(url, "POST", target, {}, { "sec-fetch-site": "cross-site" })).status, `${method} ${path}`).toBe(403);
      expect((await control(url, "POST", target, `{"x":"${"a".repeat(MAX_BODY * 2)}"}`)).status, `${method} ${path}`).toBe(413);
    }
  });
});

describe("a sandbox with an admin token or a data folder it cannot write, as the description says", () => {
  it("answers 401 on every guarded call without the token, and takes inbox posts without it", async () => {
    const { url } = await start({ adminToken: TOKEN });
    for (const { path, method, operation } of operations()) {
      const res = await control(url, method, concrete(path, 1001).replace("/_sandbox", ""), method === "POST" ? {} : undefined);
      const guarded = JSON.stringify(operation.security) !== JSON.stringify([{}]);
      expect(res.status === 401, `${method} ${path}: ${res.status}`).toBe(guarded);
    }
  });

  it("refuses every change with 409 while the data folder cannot be written", async () => {
    const folder = mkdtempSync(join(tmpdir(), "openapi-storage-"));
    folders.push(folder);
    const fs = faultyFs();
    const { sandbox, url } = await start({ dataDir: folder, journal: { fs, retryMs: 60_000 } });
    const uid = (await createOrder(url, {}, sandbox)).uid;
    fs.fillDisk();
    // A write that fails marks the store unavailable; the merchant API answers maintenance meanwhile.
    await fetch(`${url}/service/api/v1/public/exchanger/order/create/`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(exampleCreateParams(sandbox.catalog.routes[0]!)) });
    expect(sandbox.store.unavailable()).not.toBeNull();
    for (const { path, method, operation } of operations()) {
      if (method !== "POST" || !("409" in (operation.responses as Json))) continue;
      const res = await control(url, "POST", concrete(path, uid).replace("/_sandbox", ""), path.endsWith("/scenario") ? { name: "happy-path" } : {});
      expect(res.status, `${path}`).toBe(409);
      expect(res.body.error.type, path).toBe("storage_unavailable");
    }
    fs.freeDisk();
  });

  it("shows every documented control, inbox, scenario, dashboard and page response in these calls", () => {
    expect(checker.unseen("/_sandbox")).toEqual([]);
    expect(checker.unseen("/{lang}/")).toEqual([]);
  });
});
