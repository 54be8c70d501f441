// Getting an order through a merchant's checkout: the control client's checkout, which verify and run share.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CheckoutError, createControlClient, createSandbox, exampleCreateParams, type ControlClient, type Sandbox } from "../sandbox/index.js";
import { freePort, startSink, type ReceivedRequest } from "./support/sink.js";
import { HANG_GUARD_MS, within } from "./support/wait.js";

let sandbox: Sandbox;
let client: ControlClient;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  sandbox = createSandbox({ ipnTimeoutMs: 5000 });
  client = createControlClient((await sandbox.listen(0)).url);
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/**
 * A checkout that creates one ETH>WMZ order with `ipnUrl` (none when null) before it answers, or after it with
 * `create: "afterAnswer"`, or none at all with `create: false`.
 */
async function startCheckout(options: { ipnUrl: string | null; create?: boolean | "afterAnswer" }) {
  const bodies: ReceivedRequest[] = [];
  const create = async () => {
    const route = (await client.routes()).find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
    await client.createOrder(exampleCreateParams(route, options.ipnUrl === null ? {} : { ipnUrl: options.ipnUrl, ipnSecret: "S" }));
  };
  const sink = await startSink((req, res) => {
    bodies.push(req);
    void (async () => {
      if (options.create === undefined || options.create === true) await create();
      res.writeHead(201, { "content-type": "application/json" }).end('{"ok":true}');
      if (options.create === "afterAnswer") await create();
    })();
  });
  open.push(sink);
  return { url: sink.url.replace(/\/ipn$/, "/checkout"), bodies };
}

describe("the control client's checkout", () => {
  it("POSTs the body as JSON and returns the order the checkout created, with its answer", async () => {
    const checkout = await startCheckout({ ipnUrl: "http://127.0.0.1:1/shop/ipn" });
    const { order, answer } = await client.checkout({ url: checkout.url, body: { route: "ETH>WMZ" }, answerTimeoutMs: 5000, ipnUrl: "http://127.0.0.1:1/shop/ipn" });
    expect(order).toMatchObject({ status: "new", ipnUrl: "http://127.0.0.1:1/shop/ipn", route: { from: { xml: "ETH" }, to: { xml: "WMZ" } } });
    expect(answer).toEqual({ status: 201, body: '{"ok":true}' });
    expect(checkout.bodies.map((b) => [b.headers["content-type"], b.body])).toEqual([["application/json", '{"route":"ETH>WMZ"}']]);
  });

  it("takes any order with an ipnUrl when none is asked for, and sends a null body as null", async () => {
    const checkout = await startCheckout({ ipnUrl: "http://127.0.0.1:1/other/ipn" });
    const { order } = await client.checkout({ url: checkout.url, body: null, answerTimeoutMs: 5000, ipnUrl: null });
    expect(order.ipnUrl).toBe("http://127.0.0.1:1/other/ipn");
    expect(checkout.bodies[0]!.body).toBe("null");
  });

  it("finds the order a checkout creates after it has answered", async () => {
    const checkout = await startCheckout({ ipnUrl: "http://127.0.0.1:1/late/ipn", create: "afterAnswer" });
    const { order } = await client.checkout({ url: checkout.url, answerTimeoutMs: 5000, ipnUrl: "http://127.0.0.1:1/late/ipn" });
    expect(order).toMatchObject({ status: "new", ipnUrl: "http://127.0.0.1:1/late/ipn" });
  });

  it.each<[string, string | null, string | null, CheckoutError["kind"], RegExp]>([
    ["without an ipnUrl", null, null, "noIpnUrl", /^your checkout created order \d+ without an ipnUrl; pass ipnUrl and ipnSecret to order\/create$/],
    ["with another ipnUrl", "http://127.0.0.1:1/a", "http://127.0.0.1:1/b", "otherIpnUrl", /^your checkout created order \d+ with ipnUrl http:\/\/127\.0\.0\.1:1\/a, not http:\/\/127\.0\.0\.1:1\/b$/],
  ])("names the order it passed over when the checkout creates one %s", async (_name, created, wanted, kind, message) => {
    const checkout = await startCheckout({ ipnUrl: created });
    const error = await client.checkout({ url: checkout.url, answerTimeoutMs: 3000, orderTimeoutMs: 500, ipnUrl: wanted }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckoutError);
    expect(error).toMatchObject({ kind, order: { ipnUrl: created } });
    expect((error as Error).message).toMatch(message);
  });

  it("says where the backend should point when the checkout answers but no order appears", async () => {
    const checkout = await startCheckout({ ipnUrl: null, create: false });
    const error = await client.checkout({ url: checkout.url, answerTimeoutMs: 3000, orderTimeoutMs: 500, ipnUrl: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "noOrder" });
    expect((error as Error).message).toBe(
      `POST ${checkout.url} answered 201, but no order appeared in the sandbox at ${client.baseUrl} within 0.5 s; is your backend pointed at ${client.baseUrl}/service/api/v1/?`,
    );
  });

  it("counts the wait for the order from the checkout's answer, not from the POST: the answer's allowance is not added", async () => {
    const checkout = await startCheckout({ ipnUrl: null, create: false });
    // The checkout answers at once; were its hour-long allowance added to the half-second wait, this would hang.
    const checking = client.checkout({ url: checkout.url, answerTimeoutMs: 3_600_000, orderTimeoutMs: 500, ipnUrl: null }).catch((e: unknown) => e);
    const error = await within(checking, HANG_GUARD_MS, "the checkout to give up on the order");
    expect(error).toMatchObject({ kind: "noOrder", message: expect.stringContaining("no order appeared in the sandbox") });
    expect((error as Error).message).toContain("within 0.5 s");
  });

  it.each<[string, () => Promise<string>, CheckoutError["kind"], RegExp]>([
    ["cannot be reached", async () => `http://127.0.0.1:${await freePort()}/checkout`, "unreachable", /^POST http:\/\/127\.0\.0\.1:\d+\/checkout failed: connect ECONNREFUSED/],
    [
      "answers 4xx or 5xx",
      async () => {
        const sink = await startSink((_req, res) => res.writeHead(422).end("amount too small"));
        open.push(sink);
        return sink.url;
      },
      "refused",
      /^POST http:\/\/127\.0\.0\.1:\d+\/ipn answered 422: amount too small$/,
    ],
  ])("throws a CheckoutError when the checkout %s", async (_name, url, kind, message) => {
    const error = await client.checkout({ url: await url(), answerTimeoutMs: 5000, ipnUrl: null }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind });
    expect((error as Error).message).toMatch(message);
  });
});
