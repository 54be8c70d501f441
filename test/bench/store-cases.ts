// The bench's --data cases: replaying a journal of 100,000 orders at start, and the dashboard and listings of such a
// sandbox while orders keep coming.

import http from "node:http";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { distModule, firstOk, freePort, HOST, loadSandbox, median, spawnChild, type Child } from "./lib.js";

export const STORE_ORDERS = 100_000;
const MB = 1_000_000;
const GC_CHILD = { execArgv: ["--expose-gc", "--import", "tsx"] };

/** The shape run.ts reports (kept structurally the same as its CaseResult). */
export interface StoreCaseResult {
  id: "replay" | "dashboard";
  case: string;
  figure: { value: number; unit: string };
  baseline: { value: number; unit: string; what: string } | null;
  ratio: number | null;
  target: string;
  met: boolean;
  details: Record<string, unknown>;
}

let filled: Promise<{ dir: string; liveHeap: number; emptyHeap: number; journalBytes: number }> | null = null;

/** A --data folder of STORE_ORDERS orders, filled once per bench run. */
function filledFolder() {
  filled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-bench-data-"));
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    const child = spawnChild("journal-fill.ts", ["--dir", dir, "--orders", String(STORE_ORDERS)], { ...GC_CHILD, profile: "journal-fill" });
    try {
      const { result } = await child.next("result", 300_000);
      const r = result as { emptyHeap: number; liveHeap: number; stored: number };
      if (r.stored !== STORE_ORDERS) throw new Error(`${r.stored} orders were stored, not ${STORE_ORDERS}`);
      return { dir, liveHeap: r.liveHeap, emptyHeap: r.emptyHeap, journalBytes: statSync(join(dir, "journal.jsonl")).size };
    } finally {
      await child.stop();
    }
  })();
  return filled;
}

export async function replayCase(): Promise<StoreCaseResult> {
  const folder = await filledFolder();
  const runs: { replayMs: number; readMs: number; heap: number; emptyHeap: number; rss: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const child = spawnChild("journal-replay.ts", ["--dir", folder.dir], { ...GC_CHILD, profile: "journal-replay" });
    try {
      const { result } = await child.next("result", 300_000);
      const r = result as (typeof runs)[number] & { restored: number; lines: number };
      if (r.restored !== STORE_ORDERS) throw new Error(`${r.restored} orders were restored, not ${STORE_ORDERS}`);
      runs.push(r);
    } finally {
      await child.stop();
    }
  }
  const replayMs = median(runs.map((r) => r.replayMs));
  const readMs = median(runs.map((r) => r.readMs));
  const restoredHeap = median(runs.map((r) => r.heap - r.emptyHeap));
  const liveHeap = folder.liveHeap - folder.emptyHeap;
  const seconds = replayMs / 1000;
  return {
    id: "replay",
    case: `start on a --data journal of ${STORE_ORDERS.toLocaleString("en")} orders`,
    figure: { value: seconds, unit: "s" },
    baseline: { value: readMs / 1000, unit: "s", what: "readline + JSON.parse of the same file" },
    ratio: replayMs / readMs,
    target: "≤ 5 s, heap ≤ 1.2× live",
    met: seconds <= 5 && restoredHeap <= 1.2 * liveHeap,
    details: {
      statistic: "median of 3 starts, each in a fresh process",
      journalBytes: folder.journalBytes,
      restoredHeapBytes: restoredHeap,
      liveHeapBytes: liveHeap,
      heapRatio: restoredHeap / liveHeap,
      rssBytes: median(runs.map((r) => r.rss)),
      runs,
    },
  };
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One request on a kept-alive socket; resolves with the status, the body's size and the time to its last byte. */
function timed(url: string, method: "GET" | "POST", body?: string): Promise<{ status: number; bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, { method, agent: keepAlive, headers: body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (response) => {
      let bytes = 0;
      response.on("data", (chunk: Buffer) => (bytes += chunk.length));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, bytes, ms: performance.now() - started }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/** Sends `count` order/creates one after another (or until `until` resolves) and returns their latencies. */
async function creates(url: string, body: string, count: number, until?: Promise<unknown>): Promise<number[]> {
  let stop = false;
  void until?.then(() => (stop = true));
  const latencies: number[] = [];
  for (let i = 0; i < count && !stop; i++) {
    const { status, ms } = await timed(`${url}/service/api/v1/public/exchanger/order/create/`, "POST", body);
    if (status !== 200) throw new Error(`order/create answered ${status}`);
    latencies.push(ms);
  }
  return latencies;
}

export async function dashboardCase(): Promise<StoreCaseResult> {
  const folder = await filledFolder();
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const bin = fileURLToPath(distModule("cli/main.js"));
  const child: Child = spawnChild(bin, ["start", "--port", String(port), "--quiet", "--data", folder.dir], { profile: "sandbox-dashboard" });
  try {
    await firstOk(`${url}/_sandbox/health`, 120_000);
    const { createDefaultCatalog, exampleCreateParams } = await loadSandbox();
    const route = createDefaultCatalog(1).routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
    const body = JSON.stringify(exampleCreateParams(route, {}));
    await creates(url, body, 300);
    const alone = await creates(url, body, 300);
    /** An order/create sent right after a GET of `path`, while the sandbox answers that: its latency. */
    const createAfter = async (path: string) => {
      const other = timed(`${url}${path}`, "GET");
      const [created] = await creates(url, body, 1);
      await other;
      return created!;
    };
    const afterHealth: number[] = [];
    const whileRendering: number[] = [];
    for (let i = 0; i < 40; i++) {
      afterHealth.push(await createAfter("/_sandbox/health"));
      whileRendering.push(await createAfter("/_sandbox/"));
    }

    const pages: { bytes: number; ms: number }[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await timed(`${url}/_sandbox/`, "GET");
      if (page.status !== 200) throw new Error(`the dashboard answered ${page.status}`);
      pages.push(page);
    }
    // Two readers reload the dashboard over and over while orders keep coming.
    let reading = true;
    const reloads = async () => {
      let n = 0;
      while (reading) {
        await timed(`${url}/_sandbox/`, "GET");
        n++;
      }
      return n;
    };
    const readers = [reloads(), reloads()];
    const duringDashboard = await creates(url, body, 300);
    reading = false;
    const dashboardLoads = (await Promise.all(readers)).reduce((a, b) => a + b, 0);

    // The whole listing, unpaged: every order, streamed.
    const listing = timed(`${url}/_sandbox/orders`, "GET");
    const duringListing = await creates(url, body, 100_000, listing);
    const listed = await listing;

    const p50 = (values: number[]) => percentile(values, 50);
    const firstPageBytes = median(pages.map((p) => p.bytes));
    const ratio = p50(whileRendering) / p50(afterHealth);
    return {
      id: "dashboard",
      case: `dashboard's first page with ${STORE_ORDERS.toLocaleString("en")} orders`,
      figure: { value: firstPageBytes / 1000, unit: "kB" },
      baseline: { value: p50(afterHealth), unit: "ms", what: "order/create sent with a GET /_sandbox/health" },
      ratio,
      target: "< 1 MB; a create sent with it ≤ 2× baseline",
      met: firstPageBytes < MB && ratio <= 2,
      details: {
        firstPageMs: median(pages.map((p) => p.ms)),
        ratio: "p50 of an order/create sent right after GET /_sandbox/ ÷ the same after GET /_sandbox/health, 40 pairs",
        create: {
          alone: { p50: p50(alone), p99: percentile(alone, 99) },
          sentWithHealth: { p50: p50(afterHealth), p99: percentile(afterHealth, 99) },
          sentWithDashboard: { p50: p50(whileRendering), p99: percentile(whileRendering, 99) },
          whileDashboardReloads: { p50: p50(duringDashboard), p99: percentile(duringDashboard, 99), dashboardLoads },
          whileWholeListingStreams: { p50: p50(duringListing), p99: percentile(duringListing, 99), creates: duringListing.length },
        },
        wholeListing: { bytes: listed.bytes, ms: listed.ms },
      },
    };
  } finally {
    await child.stop();
  }
}
