// Run in its own process (node --expose-gc --import tsx): 1,000 orders × 6 status changes through a merchant that
// fails 20% of requests at random; prints what the store and the merchant saw, and whether any order or delivery
// record is still reachable after a reset.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClock, createSandbox, exampleCreateParams } from "../../sandbox/index.js";

const ORDERS = 1000;
const PATH = ["waitPayment", "inProgress", "inProgressPayout", "errorPayout", "inProgressPayout", "done"] as const;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

let unhandled = 0;
process.on("unhandledRejection", () => unhandled++);

// A seeded generator, so the 20% that fail are random but the same every run.
let state = 42;
const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const answered = { ok: 0, failed: 0 };
const merchant = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    if (random() < 0.2) {
      answered.failed++;
      res.writeHead(500).end("boom");
    } else {
      answered.ok++;
      res.writeHead(200).end("OK");
    }
  });
});
await new Promise<void>((resolve) => merchant.listen(0, "127.0.0.1", resolve));
const ipnUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}/ipn`;

const dataDir = process.argv[2];
// No IPN to the local merchant times out, however busy the machine: the timeout runs on a wall clock nobody moves.
const sandbox = createSandbox({ ipnWallClock: createClock("manual"), ...(dataDir ? { dataDir } : {}) });

const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
const uids: number[] = [];
for (let i = 0; i < ORDERS; i++) {
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    body: JSON.stringify(exampleCreateParams(route, { ipnUrl, ipnSecret: "S" })),
    headers: { "content-type": "application/json" },
  });
  uids.push(((await res.json()) as { data: { uid: number } }).data.uid);
}
for (const status of PATH) {
  for (const uid of uids) sandbox.orders.move(uid, status, { cause: "load", force: true });
  await sandbox.dispatcher.idle();
}
/**
 * Counts the records by outcome, and keeps a weak reference to every order and record, in a function of its own: a
 * list of them held by this module's top level (which runs as an async function, whose suspended frame keeps its
 * locals) would keep every record alive after the reset.
 */
function tally(): { recordCount: number; outcomes: Record<string, number>; weak: WeakRef<object>[] } {
  const outcomes: Record<string, number> = {};
  const records = sandbox.store.listDeliveries();
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const weak = [...records, ...sandbox.store.listOrders()].map((item) => new WeakRef(item));
  return { recordCount: records.length, outcomes, weak };
}
const { recordCount, outcomes, weak } = tally();

sandbox.store.reset();
// A weak reference keeps its object until the job that made it has ended; a full collection after that frees every
// object nothing else holds.
await new Promise((resolve) => setImmediate(resolve));
gc();
const reachableAfterReset = weak.filter((ref) => ref.deref() !== undefined).length;
await sandbox.close();
merchant.close();
process.stdout.write(JSON.stringify({ records: recordCount, outcomes, answered, unhandled, tracked: weak.length, reachableAfterReset }) + "\n");
