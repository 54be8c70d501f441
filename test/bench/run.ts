// npm run bench: measures the sandbox against baselines taken in the same run, prints the table, writes the JSON.
// Exits non-zero only when a case could not run; a missed target is reported, not failed (timings are noisy).

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compareWithHello, CONNECTIONS, floorDetails, getText, HTTP_ROUNDS, WARMUP_SECONDS } from "./http-load.js";
import { distModule, firstOk, freePort, get, HOST, loadSandbox, median, postJson, profileFlags, profileInto, REPO, spawnChild, type Child } from "./lib.js";
import { dashboardCase, replayCase } from "./store-cases.js";

const CASES = ["create", "get", "ipn", "happy", "heap", "start", "replay", "dashboard"] as const;
type CaseId = (typeof CASES)[number];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    duration: { type: "string", default: "2" },
    out: { type: "string", default: "bench-results.json" },
    profile: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(
    `Usage: npm run bench [-- --only ${CASES.join(",")}] [--duration SECONDS] [--out FILE] [--profile DIR]\n` +
      "  --only CASES    a comma-separated subset of the cases (default: all)\n" +
      "  --duration S    seconds of each measured autocannon run (default 2)\n" +
      "  --out FILE      where the JSON goes (default bench-results.json)\n" +
      "  --profile DIR   run the measured processes under node --cpu-prof and write their profiles into DIR\n",
  );
  process.exit(0);
}
const only = values.only === undefined ? [...CASES] : values.only.split(",").map((s) => s.trim());
for (const id of only) {
  if (!(CASES as readonly string[]).includes(id)) {
    process.stderr.write(`bench: unknown case ${JSON.stringify(id)}; the cases are ${CASES.join(", ")}\n`);
    process.exit(2);
  }
}
if (values.profile !== undefined) profileInto(resolve(values.profile));
const duration = Number(values.duration);
if (!Number.isFinite(duration) || duration < 1 || duration > 30) {
  process.stderr.write(`bench: --duration takes 1 to 30 seconds, got ${JSON.stringify(values.duration)}\n`);
  process.exit(2);
}
const IPN_COUNT = 20_000;
const IPN_SOCKETS = 32;
const IPN_WARMUP = 2_000;
const HAPPY_ORDERS = 1_000;
const HAPPY_RUNS = 3;
const HAPPY_WARMUP_ORDERS = 500;
const HEAP_ORDERS = 100_000;
const START_RUNS = 7;
const MB = 1_000_000;

interface Figure {
  value: number;
  unit: string;
}

interface CaseResult {
  id: CaseId;
  case: string;
  figure: Figure;
  /** What the figure is compared with, measured in this run (null when the target is absolute). */
  baseline: (Figure & { what: string }) | null;
  /** figure ÷ baseline, or null. */
  ratio: number | null;
  target: string;
  met: boolean;
  details: Record<string, unknown>;
}

const SANDBOX_BIN = () => fileURLToPath(distModule("cli/main.js"));

/** `exchanger-sandbox start` from dist/, as users run it, quiet so that logging is not what is measured. */
async function startSandbox(name: string): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = spawnChild(SANDBOX_BIN(), ["start", "--port", String(port), "--quiet"], { profile: name });
  const url = `http://${HOST}:${port}`;
  await firstOk(`${url}/_sandbox/health`);
  return { child, url };
}

const API = "/service/api/v1/public/exchanger";

async function exampleBody(extra: Record<string, unknown> = {}): Promise<string> {
  const { createDefaultCatalog, exampleCreateParams } = await loadSandbox();
  const route = createDefaultCatalog(1).routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  return JSON.stringify(exampleCreateParams(route, extra));
}

/** One play of HAPPY_ORDERS orders at once, with a fresh sink and a fresh sandbox process. */
async function happyOnce() {
  const sink = spawnChild("ipn-sink.ts", ["--track"]);
  try {
    const { port } = await sink.next("ready", 30_000);
    const player = spawnChild("happy-path.ts", ["--url", `http://${HOST}:${port}/ipn`, "--orders", String(HAPPY_ORDERS), "--warmup", String(HAPPY_WARMUP_ORDERS)], { profile: "happy-path" });
    let result: { seconds: number; createSeconds: number; orders: number; passed: number; recorded: number; outcomes: Record<string, number>; acceptedKeys: string[] };
    try {
      result = (await player.next("result", 120_000)).result as typeof result;
    } finally {
      await player.stop();
    }
    const counts = (await sink.ask({ type: "count" })) as { received: number; distinct: string[] };
    const arrived = new Set(counts.distinct);
    const matched = result.acceptedKeys.filter((key) => arrived.has(key)).length;
    return {
      seconds: result.seconds,
      createSeconds: result.createSeconds,
      // Every IPN the store recorded must have been answered by the sink, and the sink must have had no others.
      missing: result.recorded - matched,
      extra: counts.received - matched,
      scenariosPassed: result.passed,
      deliveriesRecorded: result.recorded,
      outcomes: result.outcomes,
      sinkReceived: counts.received,
    };
  } finally {
    await sink.stop();
  }
}

// --- cases ------------------------------------------------------------------------------------------------------

const cases: Record<CaseId, () => Promise<CaseResult>> = {
  replay: replayCase,
  dashboard: dashboardCase,
  async create() {
    const { child, url } = await startSandbox("sandbox-order-create");
    try {
      const body = await exampleBody();
      const sample = JSON.stringify(await postJson(`${url}${API}/order/create/`, JSON.parse(body)));
      const run = await compareWithHello({ url: `${url}${API}/order/create/`, method: "POST", body, headers: { "content-type": "application/json" } }, "/floor/create", { create: sample }, duration);
      // Every answer is HTTP 200, failures too: count the orders really made, from the uid the next one gets.
      const probe = (await postJson(`${url}${API}/order/create/`, JSON.parse(body))) as { success: boolean; data: { uid: number } };
      if (!probe.success) throw new Error(`order/create failed after the load: ${JSON.stringify(probe)}`);
      // One order before the load (the floor's sample), then the load's.
      const created = probe.data.uid - 1002;
      // Requests still in flight when autocannon stops are created but not counted as answered.
      if (created < run.subjectAnswered || created > run.subjectAnswered + 2 * CONNECTIONS * (HTTP_ROUNDS + 1)) {
        throw new Error(`autocannon counted ${run.subjectAnswered} answers but ${created} orders were created: some calls failed`);
      }
      const ratio = run.subject / run.baseline;
      return {
        id: "create",
        case: `order/create (valid JSON body, ${CONNECTIONS} connections)`,
        figure: { value: run.subject, unit: "req/s" },
        baseline: { value: run.baseline, unit: "req/s", what: "bare Hono hello-world" },
        ratio,
        target: "≥ 0.5",
        met: ratio >= 0.5,
        details: { ...floorDetails(run), runs: run.runs, ordersCreated: created },
      };
    } finally {
      await child.stop();
    }
  },

  async get() {
    const { child, url } = await startSandbox("sandbox-order-get");
    try {
      const made = (await postJson(`${url}${API}/order/create/`, JSON.parse(await exampleBody()))) as { success: boolean; data: { uid: number; secret: string } };
      if (!made.success) throw new Error(`order/create failed: ${JSON.stringify(made)}`);
      const target = `${url}${API}/order/get/?orderUID=${made.data.uid}&orderSecret=${made.data.secret}`;
      const check = JSON.parse((await get(target)).body) as { success: boolean };
      if (!check.success) throw new Error(`order/get failed: ${JSON.stringify(check)}`);
      const run = await compareWithHello({ url: target }, "/floor/get", { get: await getText(target) }, duration);
      // The sandbox counts every read: all of them must have found the order.
      const { reads } = JSON.parse((await get(`${url}/_sandbox/orders/${made.data.uid}`)).body) as { reads: number };
      // The check's read and the floor's sample, then the load's.
      if (reads < run.subjectAnswered + 2) throw new Error(`autocannon counted ${run.subjectAnswered + 2} answers but the order was read ${reads} times: some calls failed`);
      const ratio = run.subject / run.baseline;
      return {
        id: "get",
        case: `order/get (${CONNECTIONS} connections)`,
        figure: { value: run.subject, unit: "req/s" },
        baseline: { value: run.baseline, unit: "req/s", what: "bare Hono hello-world" },
        ratio,
        target: "≥ 0.7",
        met: ratio >= 0.7,
        details: { ...floorDetails(run), runs: run.runs, reads },
      };
    } finally {
      await child.stop();
    }
  },

  async ipn() {
    const sink = spawnChild("ipn-sink.ts");
    const senders: Partial<Record<"loop" | "dispatcher", Child>> = {};
    try {
      const { port } = await sink.next("ready", 30_000);
      const url = `http://${HOST}:${port}/ipn`;
      for (const mode of ["loop", "dispatcher"] as const) {
        senders[mode] = spawnChild("ipn-sender.ts", ["--mode", mode, "--url", url, "--sockets", String(IPN_SOCKETS)], { profile: `ipn-${mode}` });
        await senders[mode].next("ready", 30_000);
      }
      const batch = async (mode: "loop" | "dispatcher", start: number, count: number) => {
        const answer = (await senders[mode]!.ask({ type: "batch", from: start, count }, 120_000)) as { type: string; message?: string; seconds: number; accepted: number; firstBody: string | null };
        if (answer.type !== "answer") throw new Error(`ipn-sender (${mode}) failed: ${answer.message ?? JSON.stringify(answer)}`);
        if (answer.accepted !== count) throw new Error(`${mode}: the sink accepted ${answer.accepted} of ${count} IPNs`);
        return answer;
      };
      // Warm both up (JIT, sockets); then the loop, the dispatcher and the loop again, each with all the IPNs at once,
      // so that the baseline brackets the figure in time (this machine's speed drifts from second to second).
      for (const mode of ["loop", "dispatcher"] as const) await batch(mode, 0, IPN_WARMUP);
      const from = IPN_WARMUP;
      const runs: { mode: "loop" | "dispatcher"; seconds: number }[] = [];
      let firstBody: string | null = null;
      for (const mode of ["loop", "dispatcher", "loop"] as const) {
        const answer = await batch(mode, from, IPN_COUNT);
        runs.push({ mode, seconds: answer.seconds });
        firstBody ??= answer.firstBody;
        if (answer.firstBody !== firstBody) throw new Error(`the dispatcher and the loop sent different bodies:\n  ${answer.firstBody}\n  ${firstBody}`);
      }
      const mean = (mode: string) => runs.filter((r) => r.mode === mode).reduce((sum, r) => sum + r.seconds, 0) / runs.filter((r) => r.mode === mode).length;
      const seconds = { loop: mean("loop"), dispatcher: mean("dispatcher") };
      const dispatcher = IPN_COUNT / seconds.dispatcher;
      const loop = IPN_COUNT / seconds.loop;
      const ratio = dispatcher / loop;
      return {
        id: "ipn",
        case: `IPN dispatch: ${IPN_COUNT.toLocaleString("en")} signed IPNs to a local sink`,
        figure: { value: dispatcher, unit: "IPN/s" },
        baseline: { value: loop, unit: "IPN/s", what: `plain keep-alive POST loop, same bodies, ${IPN_SOCKETS} sockets` },
        ratio,
        target: "≥ 0.8",
        met: ratio >= 0.8,
        details: { ipns: IPN_COUNT, sockets: IPN_SOCKETS, runs, statistic: "the loop's mean over the runs before and after the dispatcher's" },
      };
    } finally {
      for (const sender of Object.values(senders)) await sender.stop();
      await sink.stop();
    }
  },

  async happy() {
    const runs: { seconds: number; createSeconds: number; missing: number; extra: number; scenariosPassed: number; deliveriesRecorded: number; outcomes: Record<string, number>; sinkReceived: number }[] = [];
    for (let i = 0; i < HAPPY_RUNS; i++) runs.push(await happyOnce());
    const seconds = median(runs.map((r) => r.seconds));
    const missing = Math.max(...runs.map((r) => r.missing));
    const met = seconds <= 2 && runs.every((r) => r.missing === 0 && r.extra === 0 && r.scenariosPassed === HAPPY_ORDERS);
    return {
      id: "happy",
      case: `${HAPPY_ORDERS.toLocaleString("en")} concurrent orders through happy-path, instant clock`,
      figure: { value: seconds, unit: "s" },
      baseline: null,
      ratio: null,
      target: "≤ 2 s, 0 missing",
      met,
      details: {
        orders: HAPPY_ORDERS,
        statistic: `median of ${HAPPY_RUNS} runs, each in a fresh process after a warm-up play of ${HAPPY_WARMUP_ORDERS} orders; missing is the worst run's`,
        missing,
        runs,
      },
    };
  },

  async heap() {
    const child = spawnChild("store-heap.ts", ["--orders", String(HEAP_ORDERS)], { execArgv: ["--expose-gc", "--import", "tsx"], profile: "store-heap" });
    try {
      const { result } = await child.next("result", 180_000);
      const r = result as { emptyHeap: number; heap: number; rss: number; stored: number; seconds: number };
      if (r.stored !== HEAP_ORDERS) throw new Error(`${r.stored} orders were stored, not ${HEAP_ORDERS}`);
      return {
        id: "heap",
        case: `${HEAP_ORDERS.toLocaleString("en")} orders in the store`,
        figure: { value: r.heap / MB, unit: "MB" },
        baseline: { value: r.emptyHeap / MB, unit: "MB", what: "the same sandbox, empty" },
        ratio: null,
        target: "≤ 150 MB",
        met: r.heap / MB <= 150,
        details: { heapBytes: r.heap, emptyHeapBytes: r.emptyHeap, bytesPerOrder: Math.round((r.heap - r.emptyHeap) / r.stored), rssBytes: r.rss, fillSeconds: r.seconds },
      };
    } finally {
      await child.stop();
    }
  },

  async start() {
    /**
     * Spawn to first 200: the process starts, binds, says so on stdout, and answers one GET. Waiting for its first
     * line rather than polling keeps the parent from competing with the child for the CPU while it starts.
     */
    const startToFirst200 = async (args: string[], path: string, port: number) => {
      const started = performance.now();
      const child = spawn(process.execPath, args, { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.once("data", () => resolve());
          child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited (code ${code}) before it listened`)));
        });
        child.stdout.resume();
        const { status } = await get(`http://${HOST}:${port}${path}`);
        if (status !== 200) throw new Error(`${args.join(" ")}: GET ${path} answered ${status}`);
        return performance.now() - started;
      } finally {
        child.kill("SIGTERM");
        await exited;
      }
    };
    const bare = (port: number) => [
      "-e",
      `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "${HOST}", () => console.log("listening"))`,
    ];
    // Not quiet: the banner is its first output, printed once it listens.
    const sandbox = (port: number) => [...profileFlags("sandbox-start"), SANDBOX_BIN(), "start", "--port", String(port)];
    const bareMs: number[] = [];
    const sandboxMs: number[] = [];
    // One unmeasured start of each first, so that both find their files in the page cache; then alternated, so that
    // whatever else the machine does weighs on both alike.
    for (let i = -1; i < START_RUNS; i++) {
      let port = await freePort();
      const b = await startToFirst200(bare(port), "/", port);
      port = await freePort();
      const s = await startToFirst200(sandbox(port), "/_sandbox/health", port);
      if (i < 0) continue;
      bareMs.push(b);
      sandboxMs.push(s);
    }
    const figure = median(sandboxMs);
    const baseline = median(bareMs);
    const ratio = figure / baseline;
    return {
      id: "start",
      case: "exchanger-sandbox start to first 200",
      figure: { value: figure, unit: "ms" },
      baseline: { value: baseline, unit: "ms", what: "bare node:http server" },
      ratio,
      target: "≤ 3",
      met: ratio <= 3,
      details: { runs: START_RUNS, statistic: "median", sandboxMs: sandboxMs.map(Math.round), bareMs: bareMs.map(Math.round) },
    };
  },
};

// --- report -----------------------------------------------------------------------------------------------------

function show(figure: Figure): string {
  const digits = figure.unit === "s" ? 2 : figure.value >= 100 ? 0 : 1;
  return `${figure.value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${figure.unit}`;
}

function table(results: CaseResult[], broken: { id: CaseId; error: string }[]): string {
  const rows = [
    "| case | figure | baseline | ratio | target | met | floor |",
    "|---|---|---|---|---|---|---|",
    ...results.map((r) => {
      const baseline = r.baseline ? `${show(r.baseline)} (${r.baseline.what})` : "—";
      const ratio = r.ratio === null ? "—" : r.ratio.toFixed(2);
      const extra = r.id === "happy" ? `, ${String(r.details.missing)} missing` : "";
      const floor = r.details.floor as { ratioToBaseline: number } | undefined;
      return `| ${r.case} | ${show(r.figure)}${extra} | ${baseline} | ${ratio} | ${r.target} | ${r.met ? "yes" : "**no**"} | ${floor ? floor.ratioToBaseline.toFixed(2) : "—"} |`;
    }),
    ...broken.map((b) => `| ${b.id} | could not run | | | | **broken** | |`),
  ];
  return rows.join("\n");
}

async function main(): Promise<number> {
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, platform: `${process.platform} ${process.arch}` };
  process.stdout.write(`exchanger-sandbox bench: ${only.join(", ")} (${machine.cpus} cores, node ${machine.node}, ${duration} s per load run)\n`);
  const results: CaseResult[] = [];
  const broken: { id: CaseId; error: string }[] = [];
  for (const id of only as CaseId[]) {
    const started = performance.now();
    process.stdout.write(`  ${id} … `);
    try {
      const result = await cases[id]();
      results.push(result);
      process.stdout.write(`${show(result.figure)}${result.ratio === null ? "" : ` (ratio ${result.ratio.toFixed(2)})`} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      broken.push({ id, error: message });
      process.stdout.write(`broken: ${message}\n`);
    }
  }
  const report = table(results, broken);
  process.stdout.write(`\n${report}\n`);
  if (results.some((r) => r.details.floor !== undefined)) {
    process.stdout.write("\nfloor: the ratio a bare Hono route gets for the same request (reading the same query or JSON body, sending the sandbox's answer back)\n");
  }
  writeFileSync(values.out!, JSON.stringify({ at: new Date().toISOString(), machine, durationSeconds: duration, warmupSeconds: WARMUP_SECONDS, results, broken }, null, 2) + "\n");
  process.stdout.write(`\nwrote ${values.out}\n`);
  return broken.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
