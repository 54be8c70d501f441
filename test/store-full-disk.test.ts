// A data folder that cannot be written (a full disk, a short write, a failing fsync): the sandbox never answers a
// 5xx nor exits, answers maintenance until it can write again, says why once, and loses nothing it acknowledged.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, ERROR_CODES, type Sandbox } from "../sandbox/index.js";
import { JOURNAL_FILE, type JournalStore } from "../sandbox/store/index.js";
import { faultyFs, type FaultyFs } from "./support/faulty-fs.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "./support/sandbox.js";
import { startSink, type Sink } from "./support/sink.js";

const MAINTENANCE = ERROR_CODES.maintenance;
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** A log that can be waited on: resolves when a line matching `pattern` has been written. */
function recordingLog() {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    waitFor(pattern: RegExp): Promise<void> {
      if (lines.some((line) => pattern.test(line))) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

const WRITTEN_AGAIN = /is written again/;

async function startOn(dir: string, fs: FaultyFs, log = recordingLog()): Promise<{ sb: RunningSandbox; log: ReturnType<typeof recordingLog> }> {
  const sb = await startSandbox({ dataDir: dir, journal: { fs, retryMs: 10 }, logger: { format: "pretty", write: log.write } });
  open.push(sb);
  return { sb, log };
}

async function create(sb: RunningSandbox, extra: Record<string, unknown> = {}) {
  return sb.api("POST", "public/exchanger/order/create", validCreateBody(routeByXml(sb.sandbox, "ETH", "WMZ"), extra));
}

function reopen(dir: string): Sandbox {
  const sandbox = createSandbox({ dataDir: dir });
  open.push(sandbox);
  return sandbox;
}

/** Every line of the journal on disk is a whole record: it ends with a newline and reads as JSON. */
function journalLines(dir: string): string[] {
  const text = readFileSync(join(dir, JOURNAL_FILE), "utf8");
  expect(text.endsWith("\n")).toBe(true);
  const lines = text.slice(0, -1).split("\n");
  for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
  return lines;
}

describe("a full disk", () => {
  it("answers the maintenance error (never a 5xx), refuses control changes with 409, says why once, and takes orders again once it can write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-full-"));
    const fs = faultyFs();
    const { sb, log } = await startOn(dir, fs);
    const kept = await create(sb);
    expect(kept.success).toBe(true);

    fs.fillDisk();
    const refused = await create(sb);
    expect(refused).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    // From then on the whole API answers "technical work", as the engine does, until writes succeed again.
    expect(await create(sb)).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    expect(await sb.api("GET", "public/exchanger/route/get")).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    const move = await sb.control("POST", `/orders/${kept.data.uid}/status`, { status: "waitPayment" });
    expect(move.status).toBe(409);
    expect(move.json.error.type).toBe("storage_unavailable");
    expect(move.json.error.message).toContain("ENOSPC");
    // What it holds can still be read.
    const listed = await sb.control("GET", "/orders");
    expect(listed.status).toBe(200);
    expect(listed.json.orders.map((o: { uid: number }) => o.uid)).toEqual([kept.data.uid]);
    const why = log.lines.filter((line) => line.includes("cannot write the journal"));
    expect(why).toHaveLength(1);
    expect(why[0]).toMatch(/ENOSPC: no space left on device.*maintenance \(5555555555555555\)/);

    fs.freeDisk();
    await log.waitFor(WRITTEN_AGAIN);
    const after = await create(sb);
    expect(after.success).toBe(true);
    expect((await sb.control("POST", `/orders/${kept.data.uid}/status`, { status: "waitPayment" })).status).toBe(200);
    await sb.close();

    // Everything acknowledged is there after a restart, and nothing that was refused.
    const again = reopen(dir);
    expect(again.store.listOrders().map((o) => o.uid)).toEqual([kept.data.uid, after.data.uid]);
    expect(again.store.getOrder(kept.data.uid)!.status).toBe("waitPayment");
  });

  it("keeps an IPN's outcome that arrives while the disk is full, and writes it once it can", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-full-ipn-"));
    const fs = faultyFs();
    let answer: ServerResponse | null = null;
    let arrived!: () => void;
    const onArrival = new Promise<void>((resolve) => (arrived = resolve));
    const merchant: Sink = await startSink((_req, res) => {
      answer = res;
      arrived();
    });
    open.push(merchant);
    const { sb, log } = await startOn(dir, fs);
    const order = await create(sb, { ipnUrl: merchant.url, ipnSecret: "S" });
    expect((await sb.control("POST", `/orders/${order.data.uid}/status`, { status: "waitPayment" })).status).toBe(200);
    await onArrival;

    fs.fillDisk();
    answer!.writeHead(200).end("OK");
    await sb.sandbox.dispatcher.idle();
    // Recorded in memory although it could not be written: the dispatcher went on, the process did not exit.
    expect(sb.sandbox.store.listDeliveries()[0]!.outcome).toBe("accepted");
    await log.waitFor(/cannot write the journal/);

    fs.freeDisk();
    await log.waitFor(WRITTEN_AGAIN);
    await sb.close();
    expect(reopen(dir).store.listDeliveries()[0]!.outcome).toBe("accepted");
  });

  it("answers maintenance after a failed fsync until the journal is rewritten", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-fsync-"));
    const fs = faultyFs();
    const { sb, log } = await startOn(dir, fs);
    const order = await create(sb);
    fs.failFsyncOnce();
    (sb.sandbox.store as JournalStore).flush();
    expect(sb.sandbox.store.unavailable()).toContain("EIO");
    expect(await create(sb)).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    await log.waitFor(WRITTEN_AGAIN);
    expect((await create(sb)).success).toBe(true);
    await sb.close();
    expect(reopen(dir).store.getOrder(order.data.uid)).toBeDefined();
  });
});

describe("a start on a full disk", () => {
  it("starts, answers maintenance, and takes orders once it can write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-full-start-"));
    const fs = faultyFs();
    fs.fillDisk();
    const { sb, log } = await startOn(dir, fs);
    expect(await create(sb)).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    fs.freeDisk();
    await log.waitFor(WRITTEN_AGAIN);
    const order = await create(sb);
    expect(order.success).toBe(true);
    await sb.close();
    expect(journalLines(dir)[0]).toBe('{"t":"header","version":1}');
    expect(reopen(dir).store.getOrder(order.data.uid)).toBeDefined();
  });
});

describe("a write cut short", () => {
  it.each([
    ["part of a record lands, then the disk is full", (fs: FaultyFs) => fs.fillDisk(40)],
    ["the same, and cutting the part off fails too", (fs: FaultyFs) => (fs.failTruncate(true), fs.fillDisk(40))],
  ])("never leaves half a record among whole ones: %s", async (_name, breakIt) => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-short-"));
    const fs = faultyFs();
    const { sb, log } = await startOn(dir, fs);
    const first = await create(sb);
    const linesBefore = journalLines(dir).length;
    breakIt(fs);
    expect(await create(sb)).toMatchObject({ success: false, error: { errorCode: MAINTENANCE } });
    // Killed now, the next start finds at most a torn last line: a warning, never a refusal.
    const onDisk = readFileSync(join(dir, JOURNAL_FILE), "utf8");
    expect(onDisk.slice(0, onDisk.lastIndexOf("\n") + 1).split("\n").length - 1).toBe(linesBefore);

    fs.failTruncate(false);
    fs.freeDisk();
    await log.waitFor(WRITTEN_AGAIN);
    const second = await create(sb);
    expect(second.success).toBe(true);
    await sb.close();
    journalLines(dir);
    expect(reopen(dir).store.listOrders().map((o) => o.uid)).toEqual([first.data.uid, second.data.uid]);
  });

  it("writes the rest of a record after a short write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sandbox-short-ok-"));
    const fs = faultyFs();
    const { sb } = await startOn(dir, fs);
    fs.shortWriteOnce(10);
    const order = await create(sb);
    expect(order.success).toBe(true);
    expect(sb.sandbox.store.unavailable()).toBeNull();
    await sb.close();
    expect(journalLines(dir).some((line) => line.includes(`"uid":${order.data.uid}`))).toBe(true);
  });
});

/** Mounts a tmpfs of `kib` KiB at a fresh folder; or says why this process may not mount one. */
function tinyTmpfs(kib: number): { dir: string; unmount(): void } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), "sandbox-tmpfs-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], { stdio: "pipe" });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here (${String((error as Error).message).split("\n")[0]}); the injected-failure tests cover the behaviour` };
  }
  return {
    dir,
    unmount() {
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("a real full disk (a tiny tmpfs)", () => {
  it("answers maintenance when the disk fills and takes orders again once space is freed", async (context) => {
    const mount = tinyTmpfs(256);
    if ("skip" in mount) return context.skip(mount.skip);
    try {
      const data = join(mount.dir, "data");
      mkdirSync(data);
      // Room the test frees later: enough for the rewrite the sandbox needs beside the full journal.
      const filler = join(mount.dir, "filler");
      writeFileSync(filler, Buffer.alloc(176 * 1024));
      const log = recordingLog();
      const sb = await startSandbox({ dataDir: data, journal: { retryMs: 10 }, logger: { format: "pretty", write: log.write } });
      open.push(sb);
      const acknowledged: number[] = [];
      let refused = 0;
      for (let i = 0; i < 500 && refused === 0; i++) {
        const answer = await create(sb);
        if (answer.success) acknowledged.push(answer.data.uid);
        else {
          expect(answer.error!.errorCode).toBe(MAINTENANCE);
          refused++;
        }
      }
      expect(refused).toBe(1);
      expect(acknowledged.length).toBeGreaterThan(5);
      await log.waitFor(/cannot write the journal .*ENOSPC/);

      rmSync(filler);
      await log.waitFor(WRITTEN_AGAIN);
      const after = await create(sb);
      expect(after.success).toBe(true);
      await sb.close();
      const again = createSandbox({ dataDir: data });
      expect(again.store.listOrders().map((o) => o.uid)).toEqual([...acknowledged, after.data.uid]);
      await again.close();
    } finally {
      mount.unmount();
    }
  });
});
