// run --checkout-url: each scenario plays on the order the merchant's own checkout created, so a merchant that only
// knows its own orders is judged on its IPN handling, not on orders it never saw.

import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createControlClient, decodeIpnBody, exampleCreateParams, verifyIpnHash } from "../sandbox/index.js";
import { checkoutOrderProblem, findBuiltinScenario, type CheckoutOrder, type Scenario } from "../scenarios/index.js";
import { cli } from "./support/cli.js";
import { startReferenceMerchant, type ReferenceMerchant } from "./support/reference-merchant.js";
import { startSandbox } from "./support/sandbox.js";
import { freePort, startSink, type Sink } from "./support/sink.js";

const SECRET = "shop-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** The reference merchant, talking to the sandbox that `run` will start on a free port. */
async function merchantForRun(): Promise<{ merchant: ReferenceMerchant; port: number }> {
  const port = await freePort();
  const merchant = await startReferenceMerchant({ sandboxUrl: `http://127.0.0.1:${port}`, secret: SECRET });
  open.push(merchant);
  return { merchant, port };
}

interface Shop extends Sink {
  checkoutUrl: string;
  /** The answers its IPN endpoint gave, e.g. "200 waitPayment". */
  answers: string[];
}

/**
 * A small shop: its checkout creates an order on the route (and amount) its JSON body asks for, ETH>WMZ by default,
 * with its own ipnUrl and ipnSecret; its IPN endpoint checks the hash and answers 404 for an order it did not create.
 * `cancel` makes its checkout cancel each order straight away.
 */
async function startShop(sandboxUrl: string, options: { cancel?: boolean } = {}): Promise<Shop> {
  const sandbox = createControlClient(sandboxUrl);
  const known = new Set<string>();
  const answers: string[] = [];
  const sink = await startSink((req, res) => {
    if (req.path === "/checkout") {
      void (async () => {
        const asked = JSON.parse(req.body || "{}") as { route?: string; amount?: string };
        const route = (await sandbox.routes()).find((r) => `${r.from.xml}>${r.to.xml}` === (asked.route ?? "ETH>WMZ"));
        if (!route) return res.writeHead(400).end(`no route ${asked.route}`);
        const created = await sandbox.createOrder(exampleCreateParams(route, { ipnUrl: sink.url, ipnSecret: SECRET, ...(asked.amount ? { amount: asked.amount } : {}) }));
        known.add(created._id);
        if (options.cancel) {
          await fetch(`${sandboxUrl}/service/api/v1/public/exchanger/order/update-status/`, {
            method: "PUT",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ orderUID: created.uid, orderSecret: created.secret, status: "deleted" }),
          });
        }
        res.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ orderId: created._id }));
      })().catch((error: unknown) => res.writeHead(500).end(String(error)));
      return;
    }
    const { fields, hash } = decodeIpnBody(req.body, "hash");
    const status = hash === null || !verifyIpnHash(fields, SECRET, hash) ? 403 : known.has(fields.orderId) ? 200 : 404;
    answers.push(`${status} ${fields.newStatus}`);
    res.writeHead(status).end(status === 200 ? "OK" : "no");
  });
  open.push(sink);
  return Object.assign(sink, { checkoutUrl: sink.url.replace(/\/ipn$/, "/checkout"), answers });
}

/** A scenario file that names its amount, 0.5 (the ETH>WMZ minimum is 0.13). */
function bigScenario(): string {
  const path = join(mkdtempSync(join(tmpdir(), "run-checkout-")), "big.yaml");
  writeFileSync(path, "name: big\ndescription: A larger order.\namount: '0.5'\nsteps:\n  - move: waitPayment\n    expect: accepted\n");
  return path;
}

describe("exchanger-sandbox run --checkout-url", () => {
  it("plays happy-path on the order the merchant's checkout created, where an order of run's own meets 404", async () => {
    const { merchant, port } = await merchantForRun();
    // Without a checkout, run's order is one the merchant never saw: every IPN is answered 404.
    const own = await cli("run", "happy-path", "--ipn-url", merchant.ipnUrl, "--ipn-secret", SECRET);
    expect(own.code).toBe(1);
    expect(own.stdout).toMatch(/ipn\s+d1 waitPayment → answered 404/);

    const { code, stdout, stderr } = await cli("run", "happy-path", "--checkout-url", merchant.checkoutUrl, "--sandbox-port", String(port));
    expect(stderr).toBe("");
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/^order 1001 ETH → WMZ, 0\.13 → 20\.63, created by your checkout$/m);
    expect([...stdout.matchAll(/ipn\s+d\d+ (\w+) → answered (\d+)/g)].map((m) => `${m[2]} ${m[1]}`)).toEqual([
      "200 waitPayment",
      "200 inProgress",
      "200 inProgressPayout",
      "200 done",
    ]);
    expect(stdout).toContain("passed: happy-path");
    // The order is the merchant's own: it created it at checkout, and every IPN reached it.
    const [order] = [...merchant.orders.values()];
    expect(order!.uid).toBe(1001);
    expect(order!.history.filter((line) => line.startsWith("ipn "))).toHaveLength(4);
    // Sandbox time starts now with a checkout, so a merchant that ignores day-old IPNs applies every one of them.
    expect(order!.history.filter((line) => line.includes("more than a day old"))).toEqual([]);
    expect(order!.status).toBe("paid");
  });

  it("starts sandbox time where --start-at says, and refuses a start it cannot read", async () => {
    const { merchant, port } = await merchantForRun();
    const { code, stdout } = await cli("run", "happy-path", "--checkout-url", merchant.checkoutUrl, "--sandbox-port", String(port), "--start-at", "2026-01-01T00:00:00Z", "--json");
    expect(code, stdout).toBe(0);
    const [order] = [...merchant.orders.values()];
    expect(order!.history.filter((line) => line.includes("more than a day old"))).toHaveLength(4);
    for (const bad of ["yesterday", "2026-01-01", "2026-01-01T00:00:00"]) {
      const refused = await cli("run", "happy-path", "--checkout-url", merchant.checkoutUrl, "--start-at", bad);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--start-at takes now or a date and time with its zone/);
    }
    const withSandbox = await cli("run", "happy-path", "--sandbox", "http://127.0.0.1:9", "--ipn-url", merchant.ipnUrl, "--ipn-secret", SECRET, "--start-at", "now");
    expect(withSandbox.stderr).toMatch(/--clock, --start-at and --seed apply to the in-process sandbox/);
  });

  it("prints byte-identical JSON for the same seed against a deterministic merchant", async () => {
    const play = async () => {
      const { merchant, port } = await merchantForRun();
      const args = ["happy-path", "duplicate-ipn", "tampered-hash", "--checkout-url", merchant.checkoutUrl, "--sandbox-port", String(port), "--start-at", "2026-01-01T00:00:00Z"];
      return cli("run", ...args, "--json", "--seed", "12");
    };
    const first = await play();
    const second = await play();
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const json = JSON.parse(first.stdout) as { seed: number; scenarios: { order: { uid: number; via?: string } }[] };
    expect(json.seed).toBe(12);
    expect(json.scenarios.map((s) => s.order)).toEqual([1001, 1002, 1003].map((uid) => expect.objectContaining({ uid, via: "checkout" })));
  });

  it("plays on a running sandbox (--sandbox), on the order with the --ipn-url given, and the merchant's state follows", async () => {
    const sb = await startSandbox({ clock: "manual" });
    open.push(sb);
    const merchant = await startReferenceMerchant({ sandboxUrl: sb.url, secret: SECRET });
    open.push(merchant);
    const { code, stdout } = await cli("run", "hold-then-done", "--sandbox", sb.url, "--checkout-url", merchant.checkoutUrl, "--ipn-url", merchant.ipnUrl);
    expect(code, stdout).toBe(0);
    const [order] = [...merchant.orders.values()];
    expect(sb.sandbox.store.getOrder(order!.uid)!.status).toBe("done");
    // On a sandbox clock that starts now, the merchant applies every IPN, and credits the order once.
    expect(order).toMatchObject({ status: "paid", credits: 1, lastStatus: "done" });
  });

  it("asks the checkout for the route a scenario plays on with --checkout-body", async () => {
    const port = await freePort();
    const shop = await startShop(`http://127.0.0.1:${port}`);
    const { code, stdout } = await cli("run", "manual-payment", "--checkout-url", shop.checkoutUrl, "--checkout-body", '{"route":"CARDUAH>USDTTRC20"}', "--sandbox-port", String(port));
    expect(code, stdout).toBe(0);
    expect(stdout).toMatch(/^order 1001 CARDUAH → USDTTRC20, .*, created by your checkout$/m);
    expect(shop.answers.every((a) => a.startsWith("200 "))).toBe(true);
  });

  it.each<[string, string, RegExp]>([
    ["a route", "manual-payment", /^exchanger-sandbox: scenario manual-payment plays on a CARDUAH>USDTTRC20 order, but your checkout created order 1001 on ETH>WMZ; ask your checkout for it in --checkout-body, or leave manual-payment out of this run\n$/],
    ["an amount", "big", /^exchanger-sandbox: scenario big plays on an order of 0\.5, but your checkout created order 1001 of 0\.13; ask your checkout for it in --checkout-body, or leave big out of this run\n$/],
  ])("stops with exit 2 when the checkout's order has another %s than the scenario names", async (_what, scenario, message) => {
    const port = await freePort();
    const shop = await startShop(`http://127.0.0.1:${port}`);
    const { code, stdout, stderr } = await cli("run", scenario === "big" ? bigScenario() : scenario, "--checkout-url", shop.checkoutUrl, "--sandbox-port", String(port));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(message);
  });

  it("takes the amount a scenario names however the order writes it (0.50 is 0.5)", async () => {
    const port = await freePort();
    const shop = await startShop(`http://127.0.0.1:${port}`);
    const { code, stdout, stderr } = await cli("run", bigScenario(), "--checkout-url", shop.checkoutUrl, "--checkout-body", '{"amount":"0.50"}', "--sandbox-port", String(port));
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^order 1001 ETH → WMZ, 0\.5 → .*, created by your checkout$/m);
  });

  it("stops with exit 2 when the checkout's order has left new before the scenario begins", async () => {
    const port = await freePort();
    const shop = await startShop(`http://127.0.0.1:${port}`, { cancel: true });
    const { code, stderr } = await cli("run", "happy-path", "--checkout-url", shop.checkoutUrl, "--sandbox-port", String(port));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^exchanger-sandbox: your checkout's order 1001 was already deleted \(.+\) when scenario happy-path began; a scenario plays on a new order/);
  });

  it("exits 2 naming --checkout-url and the network error when the checkout cannot be reached", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/checkout`;
    const { code, stdout, stderr } = await cli("run", "happy-path", "--checkout-url", dead, "--sandbox-port", String(await freePort()));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe(`exchanger-sandbox: cannot reach --checkout-url ${dead}: connect ECONNREFUSED ${new URL(dead).host}\n`);
  });

  it("exits 2 with the checkout's answer when it fails", async () => {
    const failing = await startSink((_req, res) => res.writeHead(500).end("boom: no database"));
    open.push(failing);
    const url = failing.url.replace(/\/ipn$/, "/checkout");
    const { code, stderr } = await cli("run", "happy-path", "--checkout-url", url, "--sandbox-port", String(await freePort()));
    expect(code).toBe(2);
    expect(stderr).toBe(`exchanger-sandbox: POST ${url} answered 500: boom: no database\n`);
  });

  it("exits 2 when --sandbox-port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    open.push({ close: () => new Promise<void>((resolve) => taken.close(() => resolve())) });
    const port = (taken.address() as { port: number }).port;
    const { code, stderr } = await cli("run", "happy-path", "--checkout-url", "http://127.0.0.1:1/checkout", "--sandbox-port", String(port));
    expect(code).toBe(2);
    expect(stderr).toBe(`exchanger-sandbox: port ${port} is in use; pick another --sandbox-port, or give --sandbox for a sandbox that runs there\n`);
  });

  it.each<[string, string[], RegExp]>([
    ["neither --ipn-url nor --checkout-url", ["--ipn-secret", "S"], /run needs --ipn-url: .* \(or --checkout-url, to have your backend create the orders\)/],
    ["--ipn-secret with --checkout-url", ["--checkout-url", "http://127.0.0.1:1/c", "--ipn-secret", "S"], /--ipn-secret goes with the orders run creates itself; with --checkout-url your backend passes its own ipnSecret/],
    ["--checkout-body without --checkout-url", ["--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--checkout-body", "{}"], /--checkout-body goes with --checkout-url/],
    ["a --checkout-body that is not JSON", ["--checkout-url", "http://127.0.0.1:1/c", "--checkout-body", "{route:"], /--checkout-body is not valid JSON/],
    ["a --checkout-url that is not a URL", ["--checkout-url", "localhost:3000/checkout"], /--checkout-url takes an http or https URL, got "localhost:3000\/checkout"/],
    ["--sandbox-port without --checkout-url", ["--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--sandbox-port", "7070"], /--sandbox-port goes with --checkout-url/],
    ["--sandbox-port with --sandbox", ["--checkout-url", "http://127.0.0.1:1/c", "--sandbox", "http://127.0.0.1:1", "--sandbox-port", "7070"], /give --sandbox-port .* or --sandbox .*, not both/],
    ["a --sandbox-port out of range", ["--checkout-url", "http://127.0.0.1:1/c", "--sandbox-port", "70000"], /--sandbox-port takes a whole number from 0 to 65535/],
  ])("exits 2 with one line for %s", async (_name, args, message) => {
    const { code, stdout, stderr } = await cli("run", "happy-path", ...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe("what run asks of a checkout's order", () => {
  const order: CheckoutOrder = { uid: 1001, status: "new", history: [{ at: 0, from: null, to: "new", cause: "create", forced: false }], inAmount: "0.13", route: { from: { xml: "ETH" }, to: { xml: "WMZ" } } };
  const scenario = (extra: Partial<Scenario>): Scenario => ({ ...findBuiltinScenario("happy-path")!, ...extra });

  it.each<[string, Scenario, Partial<CheckoutOrder>, RegExp | null]>([
    ["a scenario that names no route nor amount plays on any order", scenario({}), { inAmount: "7", route: { from: { xml: "BTC" }, to: { xml: "USDTTRC20" } } }, null],
    ["the route it names", scenario({ route: "ETH>WMZ" }), {}, null],
    ["the amount it names, written otherwise", scenario({ amount: "0.130" }), {}, null],
    ["another route", scenario({ route: "CARDUAH>USDTTRC20" }), {}, /^scenario happy-path plays on a CARDUAH>USDTTRC20 order, but your checkout created order 1001 on ETH>WMZ; ask your checkout for it in --checkout-body, or leave happy-path out of this run$/],
    ["another amount", scenario({ amount: "2" }), {}, /^scenario happy-path plays on an order of 2, but your checkout created order 1001 of 0\.13; /],
    ["another route and amount", scenario({ route: "BTC>USDTTRC20", amount: "2" }), {}, /plays on a BTC>USDTTRC20 order of 2, but your checkout created order 1001 on ETH>WMZ of 0\.13; /],
    [
      "an order that has left new",
      scenario({}),
      { status: "deleted", history: [...order.history, { at: 1, from: "new", to: "deleted", cause: "update-status", forced: false }] },
      /^your checkout's order 1001 was already deleted \(update-status\) when scenario happy-path began; a scenario plays on a new order/,
    ],
  ])("%s", (_name, played, change, problem) => {
    const found = checkoutOrderProblem(played, { ...order, ...change });
    if (problem === null) expect(found).toBeNull();
    else expect(found).toMatch(problem);
  });
});
