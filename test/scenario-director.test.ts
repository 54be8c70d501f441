// Scenarios inside a running sandbox: start --scenario, the magic email, the control API, and expiry.

import { afterEach, describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS, findBuiltinScenario, scenarioDirector } from "../scenarios/index.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";
import { startMerchant, type Merchant } from "./support/merchant.js";
import { until } from "./support/wait.js";

const SECRET = "director-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function setup(defaultName?: string, clock = "instant"): Promise<{ sb: RunningSandbox; m: Merchant }> {
  const defaultScenario = defaultName ? findBuiltinScenario(defaultName) : undefined;
  const sb = await startSandbox({
    clock,
    extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 2000, ...(defaultScenario ? { defaultScenario } : {}) })],
  });
  const m = await startMerchant(SECRET);
  open.push(sb, m);
  return { sb, m };
}

async function create(sb: RunningSandbox, m: Merchant, email?: string) {
  const route = routeByXml(sb.sandbox, "ETH", "WMZ");
  const body = validCreateBody(route, { ipnUrl: m.url, ipnSecret: SECRET }) as any;
  if (email) body.routeValues = body.routeValues.map((v: any) => (v.key === route.routeFields[0]!._id ? { ...v, value: email } : v));
  const res = await sb.api("POST", "public/exchanger/order/create", body);
  if (!res.success) throw new Error(res.error!.message);
  return res.data as { uid: number; secret: string };
}

const statusOf = (sb: RunningSandbox, uid: number) => sb.sandbox.store.getOrder(uid)!.status;
/** The step a play has begun, as it keeps it in the store for a restart. */
const stepOf = (sb: RunningSandbox, uid: number) =>
  (sb.sandbox.store.getMeta(`play:${sb.sandbox.store.getOrder(uid)!._id}`) as { progress: { step: number } | null } | undefined)?.progress?.step;

describe("scenarios in a running sandbox", () => {
  it("plays the default scenario on every new order, waiting for the client to pay", async () => {
    const { sb, m } = await setup("happy-path");
    const order = await create(sb, m);
    // The play has begun its second step, the client's payment, and waits there: nothing moves on its own.
    await until(() => stepOf(sb, order.uid) === 1, "the play to reach the payment");
    expect(statusOf(sb, order.uid)).toBe("waitPayment");
    expect((await sb.control("GET", `/orders/${order.uid}/scenario`)).json).toMatchObject({ scenario: "happy-path", mode: "interactive", state: "running" });
    await sb.control("POST", `/orders/${order.uid}/pay`);
    await until(() => statusOf(sb, order.uid) === "done", "done");
    await until(async () => (await sb.control("GET", `/orders/${order.uid}/scenario`)).json.state === "passed", "the play to pass");
    expect(m.verdicts.map((v) => v.fields?.newStatus)).toEqual(["waitPayment", "inProgress", "inProgressPayout", "done"]);
  });

  it("lets one order pick its scenario with a magic email, without any change to the merchant's code", async () => {
    const { sb, m } = await setup();
    const plain = await create(sb, m);
    const magic = await create(sb, m, "buyer+payout-error@example.com");
    await sb.control("POST", `/orders/${magic.uid}/pay`).catch(() => undefined);
    await until(() => statusOf(sb, magic.uid) === "errorPayout", "errorPayout");
    expect(statusOf(sb, plain.uid)).toBe("new");
    expect((await sb.control("GET", `/orders/${plain.uid}/scenario`)).status).toBe(404);
    expect((await sb.control("GET", `/orders/${magic.uid}/scenario`)).json).toMatchObject({ scenario: "payout-error", mode: "interactive" });
  });

  it("starts a scenario on an existing order through the control API", async () => {
    const { sb, m } = await setup();
    const order = await create(sb, m);
    const started = await sb.control("POST", `/orders/${order.uid}/scenario`, { name: "returned" });
    expect(started.status).toBe(202);
    await until(async () => (await sb.control("GET", `/orders/${order.uid}/scenario`)).json.state === "passed", "the play to pass");
    expect(statusOf(sb, order.uid)).toBe("returned");
    const bad = await sb.control("POST", `/orders/${order.uid}/scenario`, { name: "nope" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("happy-path");
  });

  it("lists the built-in scenarios", async () => {
    const { sb } = await setup("happy-path");
    const { json } = await sb.control("GET", "/scenarios");
    expect(json.default).toBe("happy-path");
    expect(json.scenarios.map((s: any) => s.name)).toEqual(BUILTIN_SCENARIOS.map((s) => s.name));
  });
});

describe("expiry", () => {
  it("deletes an order left unpaid past its payment window when the clock is advanced", async () => {
    const { sb, m } = await setup(undefined, "manual");
    const order = await create(sb, m);
    await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
    await sb.control("POST", "/clock/advance", { ms: 29 * 60_000 });
    expect(statusOf(sb, order.uid)).toBe("waitPayment");
    await sb.control("POST", "/clock/advance", { ms: 2 * 60_000 });
    expect(statusOf(sb, order.uid)).toBe("deleted");
    const history = sb.sandbox.store.getOrder(order.uid)!.history;
    expect(history.at(-1)).toMatchObject({ from: "waitPayment", to: "deleted", cause: "expiry", at: sb.sandbox.store.getOrder(order.uid)!.expiresAt });
    await until(() => m.verdicts.some((v) => v.fields?.newStatus === "deleted"), "the deleted IPN");
  });

  it("leaves a paid order alone when its window ends", async () => {
    const { sb, m } = await setup(undefined, "manual");
    const order = await create(sb, m);
    await sb.control("POST", `/orders/${order.uid}/pay`);
    await sb.control("POST", "/clock/advance", { ms: 3_600_000 });
    expect(statusOf(sb, order.uid)).toBe("inProgress");
  });
});
