// Under load and after a kill: every status change leaves one delivery record, and nothing confirmed is lost.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSink } from "./support/sink.js";
import { within } from "./support/wait.js";

const REPO = new URL("..", import.meta.url).pathname;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function runWorker(dataDir?: string) {
  const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", "test/durability/load-worker.ts", ...(dataDir ? [dataDir] : [])], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 90_000,
  });
  if (result.status !== 0) throw new Error(`the load worker failed (${result.status ?? result.signal}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as {
    records: number;
    outcomes: Record<string, number>;
    answered: { ok: number; failed: number };
    unhandled: number;
    tracked: number;
    reachableAfterReset: number;
  };
}

describe("1,000 orders × 6 status changes through a merchant that fails 20% of requests", () => {
  it.each([["in memory", false], ["with --data", true]])("%s: exactly 6,000 records with the right outcomes, and none of them kept after reset", (_name, durable) => {
    const result = runWorker(durable ? mkdtempSync(join(tmpdir(), "sandbox-load-")) : undefined);
    expect(result.records).toBe(6000);
    expect(result.outcomes).toEqual({ accepted: result.answered.ok, rejected: result.answered.failed });
    expect(result.answered.ok + result.answered.failed).toBe(6000);
    expect(result.answered.failed / 6000).toBeGreaterThan(0.15);
    expect(result.answered.failed / 6000).toBeLessThan(0.25);
    expect(result.unhandled).toBe(0);
    // Every order and delivery record is garbage once the store forgot them: nothing else holds on to one.
    expect(result.tracked).toBe(7000);
    expect(result.reachableAfterReset).toBe(0);
  }, 120_000);
});

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

interface Running {
  child: ChildProcess;
  url: Promise<string>;
  stderr: () => string;
}

function startBinary(dataDir: string): Running {
  const child = spawn(process.execPath, ["dist/cli/main.js", "start", "--port", "0", "--data", dataDir, "--log-format", "json"], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const match = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the sandbox exited (${code}) before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`the sandbox did not start: ${stderr}`)), 60_000);
  });
  return { child, url, stderr: () => stderr };
}

describe("a sandbox killed with SIGKILL in the middle of a load", () => {
  it("restarts on the same --data with every order whose create was answered and every delivery it reported", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sandbox-kill-"));
    const merchant = await startSink();
    try {
      const first = startBinary(dataDir);
      const url = await first.url;
      const routes = (await (await fetch(`${url}/service/api/v1/public/exchanger/route/get/`)).json()) as { data: any[] };
      const route = routes.data.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ");
      const body = JSON.stringify({
        routeId: route._id,
        amount: route.min,
        toValues: route.toFields.filter((f: any) => f.required).map((f: any) => ({ key: f._id, value: f.placeholder })),
        routeValues: route.routeFields.filter((f: any) => f.required).map((f: any) => ({ key: f._id, value: f.placeholder })),
        agreement: true,
        ipnUrl: merchant.url,
        ipnSecret: "S",
      });
      const answeredUids: number[] = [];
      const reportedDeliveries = new Set<string>();
      let stop = false;
      // Killed in the middle of the load, once this many orders were created and moved: 16 clients are still at it.
      const KILL_AFTER = 40;
      let enough = () => {};
      const loaded = new Promise<void>((resolve) => (enough = resolve));
      const worker = async () => {
        while (!stop) {
          try {
            const res = await fetch(`${url}/service/api/v1/public/exchanger/order/create/`, { method: "POST", body, headers: { "content-type": "application/json" } });
            const json = (await res.json()) as { data: { uid: number } };
            answeredUids.push(json.data.uid);
            const moved = await fetch(`${url}/_sandbox/orders/${json.data.uid}/status`, { method: "POST", body: JSON.stringify({ status: "waitPayment" }), headers: { "content-type": "application/json" } });
            for (const d of ((await moved.json()) as { deliveries: { id: string }[] }).deliveries) reportedDeliveries.add(d.id);
            if (reportedDeliveries.size >= KILL_AFTER) enough();
          } catch {
            return; // the sandbox was killed under this request
          }
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      await within(loaded, undefined, `${KILL_AFTER} orders created and moved`);
      first.child.kill("SIGKILL");
      stop = true;
      await Promise.all(workers);
      await exited(first.child);
      expect(reportedDeliveries.size).toBeGreaterThanOrEqual(KILL_AFTER);

      const second = startBinary(dataDir);
      const again = await second.url;
      const { orders } = (await (await fetch(`${again}/_sandbox/orders`)).json()) as { orders: { uid: number }[] };
      const restored = new Set(orders.map((o) => o.uid));
      expect(answeredUids.filter((uid) => !restored.has(uid))).toEqual([]);
      const { deliveries } = (await (await fetch(`${again}/_sandbox/deliveries`)).json()) as { deliveries: { id: string; outcome: string }[] };
      const kept = new Set(deliveries.map((d) => d.id));
      expect([...reportedDeliveries].filter((id) => !kept.has(id))).toEqual([]);
      // Nothing is left in flight: what was interrupted says so.
      expect(deliveries.filter((d) => d.outcome === "pending")).toEqual([]);
      second.child.kill("SIGTERM");
      await exited(second.child);
    } finally {
      await merchant.close();
    }
  }, 60_000);
});
