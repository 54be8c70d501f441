// Fills a sandbox, set up as `exchanger-sandbox start` sets it up, with 100,000 orders and reports the heap after GC.

import { parseArgs } from "node:util";
import { distModule, loadSandbox, loadScenarios, runChild } from "./lib.js";

const { values } = parseArgs({ options: { orders: { type: "string", default: "100000" } } });
const orders = Number(values.orders);

runChild(async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  /** The heap once garbage is gone, FinalizationRegistry clean-ups included (they run in later turns). */
  const heapAfterGc = async () => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return process.memoryUsage().heapUsed;
  };
  const { createSandbox, exampleCreateParams } = await loadSandbox();
  const { BUILTIN_SCENARIOS, scenarioDirector } = await loadScenarios();
  const { validateCreate } = (await import(distModule("sandbox/orders/create.js"))) as typeof import("../../sandbox/orders/create.js");
  // The real clock and the scenario director, as `start` has them: each order waits for its payment deadline.
  const sandbox = createSandbox({ extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs: 10_000 })] });
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  // A merchant's order has an ipnUrl: it is kept with the order (no IPN goes out until a status changes).
  const body = JSON.stringify(exampleCreateParams(route, { ipnUrl: "http://127.0.0.1:9/ipn", ipnSecret: "bench-ipn-secret" }));
  const empty = await heapAfterGc();

  // What order/create does once the HTTP layer has read the body: parse, validate, create. Through app.request the
  // fill would take a minute, for about 50 more bytes an order (measured once, after GC and finalizers).
  const started = performance.now();
  for (let i = 0; i < orders; i++) sandbox.orders.create(validateCreate(JSON.parse(body) as Record<string, unknown>, sandbox.catalog), null);
  const seconds = (performance.now() - started) / 1000;
  const stored = sandbox.store.listOrders().length;
  const full = await heapAfterGc();
  const { rss } = process.memoryUsage();
  await sandbox.close();
  return { emptyHeap: empty, heap: full, rss, stored, seconds };
});
