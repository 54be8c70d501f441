// Fills a --data folder with orders, as `exchanger-sandbox start` keeps them, and reports the heap they took live.

import { parseArgs } from "node:util";
import { distModule, heapAfterGc, loadSandbox, runChild } from "./lib.js";

const { values } = parseArgs({ options: { dir: { type: "string" }, orders: { type: "string", default: "100000" } } });
const dir = values.dir!;
const orders = Number(values.orders);

runChild(async () => {
  const { createSandbox, exampleCreateParams } = await loadSandbox();
  const { validateCreate } = (await import(distModule("sandbox/orders/create.js"))) as typeof import("../../sandbox/orders/create.js");
  const empty = await heapAfterGc();
  const sandbox = createSandbox({ dataDir: dir });
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  const body = JSON.stringify(exampleCreateParams(route, { ipnUrl: "http://127.0.0.1:9/ipn", ipnSecret: "bench-ipn-secret" }));
  // What order/create does once the HTTP layer has read the body, each order written to the journal as it is made.
  for (let i = 0; i < orders; i++) sandbox.orders.create(validateCreate(JSON.parse(body) as Record<string, unknown>, sandbox.catalog), null);
  const live = await heapAfterGc();
  const stored = sandbox.store.countOrders();
  await sandbox.close();
  return { emptyHeap: empty, liveHeap: live, stored };
});
