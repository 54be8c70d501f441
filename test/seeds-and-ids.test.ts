// Order ids do not repeat across runs: each sandbox draws its own seed unless given one, _id is a real ObjectId, and
// a uid is never issued twice; with a seed, a run repeats byte for byte, and the catalogue stays data.

import { afterEach, describe, expect, it } from "vitest";
import {
  catalogSeedFor,
  createDefaultCatalog,
  createSandbox,
  drawSeed,
  exampleCreateParams,
  MAX_CATALOG_SEED,
  type Sandbox,
  type SandboxOptions,
} from "../sandbox/index.js";

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const EPOCH = Date.UTC(2026, 0, 1);

function start(options: SandboxOptions = {}): Sandbox {
  const sandbox = createSandbox({ clock: "manual", startAt: EPOCH, ...options });
  open.push(sandbox);
  return sandbox;
}

async function createOrder(sandbox: Sandbox) {
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(exampleCreateParams(route)),
  });
  const { data } = (await res.json()) as { data: { uid: number } };
  return sandbox.store.getOrder(data.uid)!;
}

describe("a sandbox without a seed", () => {
  it("draws its own, so two fresh sandboxes give uid 1001 different ids, secrets and deposit addresses", async () => {
    const [a, b] = [start(), start()];
    const [x, y] = [await createOrder(a), await createOrder(b)];
    expect([x.uid, y.uid]).toEqual([1001, 1001]);
    expect(a.seed).not.toBe(b.seed);
    expect(y._id).not.toBe(x._id);
    expect(y.rid).not.toBe(x.rid);
    expect(y.secret).not.toBe(x.secret);
    expect(y.depositAddress).not.toBe(x.depositAddress);
  });

  it("keeps the default catalogue: route and field ids are the same in every run", () => {
    const [a, b] = [start(), start()];
    expect(a.catalog).toEqual(createDefaultCatalog(1));
    expect(b.catalog).toEqual(a.catalog);
  });

  it("says its seed in /_sandbox/health, and that seed repeats its ids", async () => {
    const first = start();
    const health = (await (await first.app.request("/_sandbox/health")).json()) as { seed: number };
    expect(health.seed).toBe(first.seed);
    expect(health.seed).toBeGreaterThan(MAX_CATALOG_SEED);
    const again = start({ seed: health.seed });
    const [x, y] = [await createOrder(first), await createOrder(again)];
    expect(y).toEqual(x);
  });
});

describe("a sandbox with a seed", () => {
  it("gives the ids, secrets and addresses it always gave (seed 1, uid 1001, ETH → WMZ)", async () => {
    const order = await createOrder(start({ seed: 1 }));
    expect(order).toMatchObject({
      uid: 1001,
      rid: "ZTWW35K4STB",
      secret: "UG26sF6cB9hLeZxUaVyfxKlY",
      depositAddress: "0xf3d32c3aba1aecc74da68cdeb460f8d0ef560f32",
      route: { routeId: "de2de07f4229e0f94dbf6424" },
    });
    // The same draws as before ObjectIds carried their time: only the first 4 bytes changed.
    expect(order._id.slice(8)).toBe("a67dd9f2768b914e");
    expect([...order.toValues, ...order.routeValues].map((v) => v._id.slice(8))).toEqual(["9860ae4505b69c09", "43857ed4cc0e9119"]);
  });

  it.each([0, 42, MAX_CATALOG_SEED])("seeds the catalogue too, as it always did (seed %d)", (seed) => {
    expect(start({ seed }).catalog).toEqual(createDefaultCatalog(seed));
  });

  it("above 4294967295 (a drawn seed given back) seeds the ids only and keeps the default catalogue", async () => {
    const seed = MAX_CATALOG_SEED + 12_345;
    const sandbox = start({ seed });
    expect(sandbox.catalog).toEqual(createDefaultCatalog(1));
    // All of the seed counts: it is not cut to 32 bits, which would give seed 12345's ids.
    const [big, small] = [await createOrder(sandbox), await createOrder(start({ seed: 12_345 }))];
    expect(big.secret).not.toBe(small.secret);
  });
});

describe("drawSeed and catalogSeedFor", () => {
  it("draws above the catalogue's seeds and below 2^48", () => {
    expect(drawSeed((min) => min)).toBe(MAX_CATALOG_SEED + 1);
    expect(drawSeed((_min, max) => max - 1)).toBe(2 ** 48 - 1);
    const seen = new Set(Array.from({ length: 20 }, () => drawSeed()));
    expect(seen.size).toBe(20);
  });

  it.each([
    [0, 0],
    [1, 1],
    [MAX_CATALOG_SEED, MAX_CATALOG_SEED],
    [MAX_CATALOG_SEED + 1, 1],
    [Number.MAX_SAFE_INTEGER, 1],
  ])("makes the catalogue of seed %d from seed %d", (seed, catalogSeed) => {
    expect(catalogSeedFor(seed)).toBe(catalogSeed);
  });
});

describe("_id", () => {
  it("is an ObjectId whose first 4 bytes are the creation second on the sandbox clock", async () => {
    const sandbox = start({ seed: 3 });
    sandbox.clock.advance(90_500);
    const order = await createOrder(sandbox);
    const second = Math.floor((EPOCH + 90_500) / 1000);
    expect(order._id).toMatch(/^[0-9a-f]{24}$/);
    expect(parseInt(order._id.slice(0, 8), 16)).toBe(second);
    for (const value of [...order.fromValues, ...order.toValues, ...order.routeValues]) expect(parseInt(value._id.slice(0, 8), 16)).toBe(second);
    expect(order.createdAt).toBe(EPOCH + 90_500);
  });
});

describe("uids", () => {
  it("are never issued twice by one sandbox: POST /_sandbox/reset forgets the orders and goes on counting", async () => {
    const sandbox = start();
    const first = await createOrder(sandbox);
    expect((await sandbox.app.request("/_sandbox/reset", { method: "POST" })).status).toBe(200);
    expect(sandbox.store.listOrders()).toEqual([]);
    const second = await createOrder(sandbox);
    expect(second.uid).toBe(first.uid + 1);
    expect(second._id).not.toBe(first._id);
  });
});
