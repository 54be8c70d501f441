// The listings page: GET /_sandbox/orders and /deliveries take limit, cursor, order and filters; without limit they
// stream everything in the old shape; the dashboard shows one page at a time, searchable by uid and status.

import { afterEach, describe, expect, it } from "vitest";
import { createMemoryStore, createSandbox, type Order, type Sandbox } from "../sandbox/index.js";
import { routeByXml, validCreateBody } from "./support/sandbox.js";

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function start(options: Parameters<typeof createSandbox>[0] = {}): Sandbox {
  const sandbox = createSandbox({ clock: "manual", startAt: Date.UTC(2026, 0, 1), ...options });
  open.push(sandbox);
  return sandbox;
}

async function createOrders(sandbox: Sandbox, count: number, extra: Record<string, unknown> = {}): Promise<number[]> {
  const uids: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
      method: "POST",
      body: JSON.stringify(validCreateBody(routeByXml(sandbox, "ETH", "WMZ"), extra)),
      headers: { "content-type": "application/json" },
    });
    uids.push(((await res.json()) as { data: { uid: number } }).data.uid);
  }
  return uids;
}

async function get(sandbox: Sandbox, path: string): Promise<{ status: number; json: any }> {
  const res = await sandbox.app.request(`/_sandbox${path}`);
  return { status: res.status, json: await res.json() };
}

/** Follows `next` from the first page to the last; returns every page's uids. */
async function walk(sandbox: Sandbox, query: string, key: "orders" | "deliveries", id: (item: any) => unknown): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let cursor: string | null = null;
  do {
    const { status, json } = await get(sandbox, `/${key}?${query}${cursor === null ? "" : `&cursor=${cursor}`}`);
    expect(status).toBe(200);
    pages.push(json[key].map(id));
    cursor = json.next;
  } while (cursor !== null && pages.length < 100);
  return pages;
}

describe("GET /_sandbox/orders", () => {
  it("pages through every order once, oldest or newest first, with limit and the next cursor", async () => {
    const sandbox = start();
    const uids = await createOrders(sandbox, 23);
    const oldest = await walk(sandbox, "limit=5", "orders", (o) => o.uid);
    expect(oldest.map((p) => p.length)).toEqual([5, 5, 5, 5, 3]);
    expect(oldest.flat()).toEqual(uids);
    const newest = await walk(sandbox, "limit=10&order=newest", "orders", (o) => o.uid);
    expect(newest.flat()).toEqual([...uids].reverse());
    // The last page says there is no next one, also when it is exactly full.
    expect((await walk(sandbox, "limit=23", "orders", (o) => o.uid)).length).toBe(1);
  });

  it("filters by status and by uid", async () => {
    const sandbox = start();
    const uids = await createOrders(sandbox, 12);
    for (const uid of uids.filter((_, i) => i % 3 === 0)) sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    const waiting = await walk(sandbox, "limit=2&status=waitPayment", "orders", (o) => o.uid);
    expect(waiting.flat()).toEqual(uids.filter((_, i) => i % 3 === 0));
    expect(waiting.every((page) => page.length > 0)).toBe(true);
    expect((await get(sandbox, `/orders?limit=5&uid=${uids[4]}`)).json).toMatchObject({ orders: [{ uid: uids[4] }], next: null });
    expect((await get(sandbox, "/orders?limit=5&uid=99999")).json).toEqual({ orders: [], next: null });
    expect((await get(sandbox, `/orders?limit=5&uid=${uids[1]}&status=waitPayment`)).json.orders).toEqual([]);
  });

  it("answers every order without limit, in the shape it always had, masked as before", async () => {
    const sandbox = start();
    const uids = await createOrders(sandbox, 1203, { ipnUrl: "http://127.0.0.1:9/ipn?token=top-secret-token", ipnSecret: "S" });
    const res = await sandbox.app.request("/_sandbox/orders");
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    const json = JSON.parse(text) as { orders: { uid: number; secret: string; ipnUrl: string }[]; next: null };
    expect(json.orders.map((o) => o.uid)).toEqual(uids);
    expect(json.next).toBeNull();
    expect(text).not.toContain("top-secret-token");
    expect(json.orders[0]!.secret).toMatch(/^..•+..$/);
    // A filter without limit streams the matching ones.
    expect((await get(sandbox, "/orders?status=done")).json).toEqual({ orders: [], next: null });
  });

  it.each([
    ["limit=0", "limit is a whole number from 1 to 1000"],
    ["limit=1001", "limit is a whole number from 1 to 1000"],
    ["limit=ten", "limit is a whole number"],
    ["cursor=abc", "cursor (the next of an earlier page) is a whole number"],
    ["status=paid", "status is one of new, waitPayment"],
    ["order=random", "order is one of oldest, newest"],
    ["uid=-1", "uid is a whole number"],
    ["page=2", 'Unknown query parameter "page"; this listing takes limit, cursor, order, status, uid'],
    ["limit=1&limit=2", "The query parameter limit is given 2 times"],
  ])("refuses %s with 400 and a message saying what it takes", async (query, message) => {
    const sandbox = start();
    const { status, json } = await get(sandbox, `/orders?${query}`);
    expect(status).toBe(400);
    expect(json.error.type).toBe("bad_request");
    expect(json.error.message).toContain(message);
  });
});

describe("GET /_sandbox/deliveries", () => {
  it("pages every delivery once and filters by order, IPN status and outcome", async () => {
    const sandbox = start();
    const uids = await createOrders(sandbox, 4, { ipnUrl: "http://127.0.0.1:9/ipn", ipnSecret: "S" });
    for (const uid of uids) sandbox.orders.move(uid, "waitPayment", { cause: "test", fault: "drop" });
    sandbox.orders.move(uids[0]!, "deleted", { cause: "test", fault: "drop" });
    const all = sandbox.store.listDeliveries().map((d) => d.id);
    expect(all).toHaveLength(5);
    expect((await walk(sandbox, "limit=2", "deliveries", (d) => d.id)).flat()).toEqual(all);
    expect((await walk(sandbox, "limit=2&order=newest", "deliveries", (d) => d.id)).flat()).toEqual([...all].reverse());
    expect((await walk(sandbox, `limit=10&orderUID=${uids[0]}`, "deliveries", (d) => d.status)).flat()).toEqual(["waitPayment", "deleted"]);
    expect((await walk(sandbox, "limit=10&status=deleted", "deliveries", (d) => d.orderUID)).flat()).toEqual([uids[0]]);
    expect((await walk(sandbox, "limit=10&outcome=dropped", "deliveries", (d) => d.id)).flat()).toEqual(all);
    expect((await get(sandbox, "/deliveries")).json).toEqual({ deliveries: expect.any(Array), next: null });
    expect((await get(sandbox, "/deliveries?cursor=x1")).status).toBe(400);
    expect((await get(sandbox, "/deliveries?outcome=lost")).status).toBe(400);
  });
});

/** A store of `count` orders made from one real order, much faster than creating each. */
function storeOf(count: number, template: Order) {
  const store = createMemoryStore();
  for (let uid = 1001; uid < 1001 + count; uid++) {
    store.insertOrder({ ...template, uid, history: [...template.history] });
    store.nextUid();
  }
  return store;
}

async function templateOrder(): Promise<Order> {
  const sandbox = start();
  const [uid] = await createOrders(sandbox, 1, { ipnUrl: "http://127.0.0.1:9/ipn", ipnSecret: "S" });
  return sandbox.store.getOrder(uid!)!;
}

describe("the dashboard with many orders", () => {
  it("answers its first page under 1 MB with 100,000 orders: the newest 25, and a link to older ones", async () => {
    const sandbox = start({ store: storeOf(100_000, await templateOrder()) });
    const res = await sandbox.app.request("/_sandbox/");
    const html = await res.text();
    expect(Buffer.byteLength(html)).toBeLessThan(1_000_000);
    const cards = [...html.matchAll(/<tbody class="order" id="order-(\d+)"/g)].map((m) => Number(m[1]));
    expect(cards).toEqual(Array.from({ length: 25 }, (_, i) => 101_000 - i));
    expect(html).toContain('<span id="order-count">100000</span>');
    expect(html).toContain(`href="/_sandbox/?cursor=${cards.at(-1)}"`);
  });

  it("goes to older pages, finds an order by uid and filters by status", async () => {
    const sandbox = start();
    const uids = await createOrders(sandbox, 30);
    sandbox.orders.move(uids[2]!, "waitPayment", { cause: "test" });
    const cardsOf = async (query: string) => {
      const html = await (await sandbox.app.request(`/_sandbox/${query}`)).text();
      return [...html.matchAll(/<tbody class="order" id="order-(\d+)"/g)].map((m) => Number(m[1]));
    };
    expect(await cardsOf(`?cursor=${uids[5]}`)).toEqual(uids.slice(0, 5).reverse());
    expect(await cardsOf(`?uid=${uids[7]}`)).toEqual([uids[7]]);
    expect(await cardsOf("?uid=%23" + uids[7])).toEqual([uids[7]]);
    expect(await cardsOf("?status=waitPayment")).toEqual([uids[2]]);
    expect(await cardsOf("?limit=3")).toEqual(uids.slice(-3).reverse());
    const filtered = await (await sandbox.app.request("/_sandbox/?status=waitPayment")).text();
    expect(filtered).toContain('<option value="waitPayment" selected="">');
    expect(filtered).toContain('data-status="waitPayment"');
  });
});
