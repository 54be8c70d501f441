// 1,000 orders at once through the happy-path scenario on the instant clock, in-process, IPNs to a sink process.

import { parseArgs } from "node:util";
import { loadSandbox, loadScenarios, runChild } from "./lib.js";

const { values } = parseArgs({
  options: { url: { type: "string" }, orders: { type: "string", default: "1000" }, warmup: { type: "string", default: "500" } },
});
const ipnUrl = values.url!;
const orders = Number(values.orders);
const warmup = Number(values.warmup);

runChild(async () => {
  const { createSandbox, exampleCreateParams } = await loadSandbox();
  const { createLocalDriver, findBuiltinScenario, playScenario, RUN_EPOCH } = await loadScenarios();
  const scenario = findBuiltinScenario("happy-path");
  if (!scenario) throw new Error("the built-in scenario happy-path is missing");
  const ipnTimeoutMs = 10_000;

  /** Creates `count` orders through the API, plays happy-path on all of them at once, and waits for every IPN. */
  const play = async (count: number, url: string) => {
    const sandbox = createSandbox({ clock: "instant", startAt: RUN_EPOCH, ipnTimeoutMs });
    const driver = createLocalDriver(sandbox);
    // happy-path names no route, so `run` plays it on ETH → WMZ: so does this.
    const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ");
    if (!route) throw new Error("the default catalogue has no ETH → WMZ route");
    const body = JSON.stringify(exampleCreateParams(route, { ipnUrl: url, ipnSecret: "bench-ipn-secret" }));
    // Through the API in-process, as `exchanger-sandbox run` creates its orders, with the headers an HTTP client sends.
    const headers = { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) };
    const createOrder = async (): Promise<number> => {
      const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", { method: "POST", body, headers });
      const json = (await res.json()) as { success: boolean; data?: { uid: number }; error?: { message: string } };
      if (!json.success || !json.data) throw new Error(`order/create failed: ${json.error?.message}`);
      return json.data.uid;
    };

    const started = performance.now();
    const uids = await Promise.all(Array.from({ length: count }, createOrder));
    const created = performance.now();
    const transcripts = await Promise.all(uids.map((uid) => playScenario(scenario, uid, driver, { mode: "auto", ipnTimeoutMs })));
    await sandbox.dispatcher.idle();
    const finished = performance.now();

    const records = uids.flatMap((uid) => sandbox.store.listDeliveries({ orderUID: uid }));
    const outcomes: Record<string, number> = {};
    for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    await sandbox.close();
    return {
      seconds: (finished - started) / 1000,
      createSeconds: (created - started) / 1000,
      orders: uids.length,
      passed: transcripts.filter((t) => t.passed).length,
      recorded: records.length,
      outcomes,
      acceptedKeys: records.filter((r) => r.outcome === "accepted").map((r) => `${r.orderUID}:${r.status}`),
    };
  };

  // A smaller play first, to another path of the sink, so that the measured one runs warm code as the other cases do.
  await play(warmup, new URL("/warmup", ipnUrl).href);
  return play(orders, ipnUrl);
});
