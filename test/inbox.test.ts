// The built-in IPN inbox: it answers 200 to any IPN, judges each with the order's ipnSecret on its own code path,
// and lists what came, as JSON and on the dashboard.

import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams, type FaultSpec, type Sandbox, type SandboxOptions } from "../sandbox/index.js";
import { createInbox, MAX_ENTRIES, MAX_ENTRIES_PER_INBOX, MAX_KEPT_BODY } from "../sandbox/inbox/index.js";
import { decodeFormStrictly, docsChecksum } from "../sandbox/inbox/verify.js";
import { createClock, createMemoryStore } from "../sandbox/index.js";

const SECRET = "inbox-secret";
const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options: SandboxOptions = {}): Promise<{ sandbox: Sandbox; url: string }> {
  const sandbox = createSandbox({ seed: 1, ...options });
  open.push(sandbox);
  const { url } = await sandbox.listen(0);
  return { sandbox, url };
}

async function createOrder(url: string, ipnUrl: string, headers: Record<string, string> = {}): Promise<{ uid: number; _id: string }> {
  const routes = (await (await fetch(`${url}/service/api/v1/public/exchanger/route/get/`)).json()).data;
  const route = routes.find((r: { from: { xml: string } }) => r.from.xml === "ETH");
  const res = await fetch(`${url}/service/api/v1/public/exchanger/order/create/`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(exampleCreateParams(route, { ipnUrl, ipnSecret: SECRET })),
  });
  return (await res.json()).data;
}

async function listing(url: string, name: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/_sandbox/inbox/${name}`, { headers });
  return { status: res.status, json: (await res.json()) as { inbox: string; received: { verdict: string; newStatus: string; orderUID: string; detail: string; id: number }[] } };
}

describe("the IPN inbox", () => {
  it.each<[string, FaultSpec, string[]]>([
    ["deliver", "deliver", ["valid"]],
    ["duplicate", { type: "duplicate", copies: 3 }, ["valid", "valid", "valid"]],
    ["tamperHash", "tamperHash", ["badHash"]],
    ["wrongSecret", "wrongSecret", ["badHash"]],
    ["tamperField outAmount", { type: "tamperField", field: "outAmount" }, ["badHash"]],
    ["tamperField orderId", { type: "tamperField", field: "orderId" }, ["badHash"]],
    ["tamperField newStatus", { type: "tamperField", field: "newStatus" }, ["badHash"]],
    ["staleTimestamp (validly signed)", "staleTimestamp", ["valid"]],
    ["secondsTimestamp (validly signed)", "secondsTimestamp", ["valid"]],
    ["missingHash", "missingHash", ["missingHash"]],
    ["malformedBody", "malformedBody", ["malformed"]],
    ["drop", "drop", []],
  ])("judges an order's IPN sent with fault %s as the fault means it", async (_name, fault, verdicts) => {
    const { sandbox, url } = await start();
    const order = await createOrder(url, `${url}/_sandbox/inbox/faults`);
    sandbox.orders.move(order.uid, "waitPayment", { cause: "test", fault });
    await sandbox.dispatcher.idle();
    const { json } = await listing(url, "faults");
    expect(json.received.map((e) => e.verdict)).toEqual(verdicts);
    // Every IPN the inbox got was answered 200, whatever its verdict.
    const sent = sandbox.store.listDeliveries({ orderUID: order.uid }).filter((d) => d.outcome !== "dropped");
    expect(sent.map((d) => d.response?.status)).toEqual(verdicts.map(() => 200));
  });

  it("lists what it received in order, with the fields a reader needs and a verdict that says why", async () => {
    const { sandbox, url } = await start();
    const order = await createOrder(url, `${url}/_sandbox/inbox/story`);
    sandbox.orders.pay(order.uid, "test");
    sandbox.orders.move(order.uid, "done", { cause: "test", fault: "tamperHash" });
    await sandbox.dispatcher.idle();
    const { status, json } = await listing(url, "story");
    expect(status).toBe(200);
    expect(json.inbox).toBe("story");
    expect(json.received).toMatchObject([
      { id: 1, orderUID: String(order.uid), newStatus: "waitPayment", verdict: "valid", detail: `hash matches, with order ${order.uid}'s ipnSecret` },
      { id: 2, orderUID: String(order.uid), newStatus: "inProgress", verdict: "valid" },
      { id: 3, orderUID: String(order.uid), newStatus: "done", verdict: "badHash" },
    ]);
    expect(json.received[2]!.detail).toContain(`with order ${order.uid}'s ipnSecret`);
  });

  it("answers 200 to anything, and says what it could not judge", async () => {
    const { url } = await start();
    const post = (body: string) => fetch(`${url}/_sandbox/inbox/junk`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
    const fields = "orderId=5d8e6002b80b7b4cd75a6424&newStatus=done&inAmount=2&outAmount=317.42&xml_from=ETH&xml_to=WMZ&timestamp=1";
    for (const body of ["", "a=%E0%A4%A", `orderUID=4242&${fields}&hash=abc`, `orderUID=4242&${fields}`, "orderUID=1&newStatus=done"]) {
      const res = await post(body);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("OK");
    }
    const { json } = await listing(url, "junk");
    expect(json.received.map((e) => e.verdict)).toEqual(["malformed", "malformed", "unknownOrder", "missingHash", "malformed"]);
    expect(json.received[4]!.detail).toBe("not an IPN the checksum can cover: no orderId, no inAmount, no outAmount, no xml_from, no xml_to, no timestamp");
  });

  it("reads the checksum from the sandbox's --ipn-hash-field", async () => {
    const { sandbox, url } = await start({ ipnHashField: "signature" });
    const order = await createOrder(url, `${url}/_sandbox/inbox/renamed`);
    sandbox.orders.move(order.uid, "waitPayment", { cause: "test" });
    sandbox.orders.move(order.uid, "deleted", { cause: "test", fault: "missingHash" });
    await sandbox.dispatcher.idle();
    const { json } = await listing(url, "renamed");
    expect(json.received.map((e) => e.verdict)).toEqual(["valid", "missingHash"]);
    expect(json.received[1]!.detail).toContain("no signature field");
  });

  it("takes the sandbox's own IPNs without the admin token, but shows them only with it", async () => {
    const token = "inbox-admin-token-123";
    const { sandbox, url } = await start({ adminToken: token });
    const order = await createOrder(url, `${url}/_sandbox/inbox/guarded`);
    sandbox.orders.move(order.uid, "waitPayment", { cause: "test" });
    await sandbox.dispatcher.idle();
    expect((await listing(url, "guarded")).status).toBe(401);
    const { status, json } = await listing(url, "guarded", { authorization: `Bearer ${token}` });
    expect(status).toBe(200);
    expect(json.received.map((e) => e.verdict)).toEqual(["valid"]);
  });

  it("forgets everything on reset, lists its inboxes, and refuses a name it cannot hold", async () => {
    const { url } = await start();
    await fetch(`${url}/_sandbox/inbox/a`, { method: "POST", body: "x=1" });
    await fetch(`${url}/_sandbox/inbox/b`, { method: "POST", body: "x=1" });
    expect(await (await fetch(`${url}/_sandbox/inbox`)).json()).toEqual({ inboxes: [{ name: "a", received: 1 }, { name: "b", received: 1 }] });
    await fetch(`${url}/_sandbox/reset`, { method: "POST" });
    expect((await listing(url, "a")).json.received).toEqual([]);
    const bad = await fetch(`${url}/_sandbox/inbox/${"x".repeat(65)}`, { method: "POST", body: "x=1" });
    expect(bad.status).toBe(404);
  });

  it("shows each inbox with its verdicts on the dashboard", async () => {
    const { sandbox, url } = await start();
    const order = await createOrder(url, `${url}/_sandbox/inbox/shown`);
    sandbox.orders.move(order.uid, "waitPayment", { cause: "test", fault: "wrongSecret" });
    await sandbox.dispatcher.idle();
    for (const path of ["/_sandbox/", "/_sandbox/dashboard/inbox"]) {
      const html = await (await fetch(`${url}${path}`)).text();
      expect(html).toMatch(/<section data-inbox="shown">/);
      expect(html).toMatch(new RegExp(`<li data-kind="inbox" data-verdict="badHash">.*order ${order.uid}.*waitPayment.*badHash`, "s"));
    }
  });
});

describe("the inbox's bounds", () => {
  it("keeps at most MAX_ENTRIES IPNs in all, taking from the inbox used least recently, and a body's first MAX_KEPT_BODY characters", () => {
    const inbox = createInbox({ store: createMemoryStore(), clock: createClock("manual"), hashField: "hash" });
    const boxes = MAX_ENTRIES / MAX_ENTRIES_PER_INBOX + 2;
    for (let b = 0; b < boxes; b++) for (let i = 0; i < MAX_ENTRIES_PER_INBOX; i++) inbox.receive(`box${b}`, "x=1");
    const all = inbox.all();
    expect(all.reduce((n, box) => n + box.entries.length, 0)).toBe(MAX_ENTRIES);
    // The two used first gave up everything; the one used last kept all it got.
    expect(all.find((box) => box.name === "box0")?.entries ?? []).toEqual([]);
    expect(all.find((box) => box.name === `box${boxes - 1}`)?.entries).toHaveLength(MAX_ENTRIES_PER_INBOX);
    const long = inbox.receive("long", "a=" + "b".repeat(MAX_KEPT_BODY * 4));
    expect(long.body).toHaveLength(MAX_KEPT_BODY + 1);
    expect(long.body.endsWith("…")).toBe(true);
    expect(long.verdict).toBe("malformed");
  });
});

describe("the inbox's own checksum", () => {
  it("gives the docs' golden hash for the docs' example, without the sandbox's signer", () => {
    const decoded = decodeFormStrictly("orderId=5d8e6002b80b7b4cd75a6424&newStatus=inProgress&inAmount=2&outAmount=317.42&xml_from=ETH&xml_to=WMZ&timestamp=1571328406072");
    expect(decoded.ok).toBe(true);
    const fields = decoded.ok ? decoded.fields : new Map<string, string[]>();
    expect(docsChecksum((name) => fields.get(name)![0]!, "SECRET123")).toBe("af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48");
  });
});
