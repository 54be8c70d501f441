// The journal of a --data folder: read back as a stream of checked lines, compacted while the sandbox runs, and
// refused (or repaired on request) when a line in it is bad.

import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, JournalError, type Sandbox } from "../sandbox/index.js";
import { JOURNAL_FILE, nodeJournalFs, openJournalStore, type JournalStore } from "../sandbox/store/index.js";
import { forEachLine } from "../sandbox/store/replay.js";
import { cli } from "./support/cli.js";
import { routeByXml, validCreateBody } from "./support/sandbox.js";

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of open.splice(0)) await x.close();
});

const dataDir = () => mkdtempSync(join(tmpdir(), "sandbox-journal-"));

function start(dir: string, options: Parameters<typeof createSandbox>[0] = {}, lines: string[] = []): Sandbox {
  const sandbox = createSandbox({ dataDir: dir, logger: { format: "pretty", write: (line) => lines.push(line) }, ...options });
  open.push(sandbox);
  return sandbox;
}

async function createOrder(sandbox: Sandbox) {
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    body: JSON.stringify(validCreateBody(routeByXml(sandbox, "ETH", "WMZ"))),
    headers: { "content-type": "application/json" },
  });
  return ((await res.json()) as { data: { uid: number } }).data;
}

/** A folder with a journal of two orders, closed. */
async function journalOfTwo(): Promise<{ dir: string; path: string; uids: number[] }> {
  const dir = dataDir();
  const sandbox = createSandbox({ dataDir: dir });
  const uids = [(await createOrder(sandbox)).uid, (await createOrder(sandbox)).uid];
  await sandbox.close();
  return { dir, path: join(dir, JOURNAL_FILE), uids };
}

/** Puts `line` in the middle of the journal, after its header and first order. */
function insertLine(path: string, line: string): number {
  const lines = readFileSync(path, "utf8").split("\n");
  lines.splice(2, 0, line);
  writeFileSync(path, lines.join("\n"));
  return 3;
}

function folderBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

describe("reading a journal", () => {
  it("reads it line by line from chunks, a line split anywhere and multi-byte characters whole", () => {
    const dir = dataDir();
    const path = join(dir, "lines.jsonl");
    const lines = ["ascii", "кириллица и €", "", "emoji 🙂 in the middle", "last, without a newline ✓"];
    writeFileSync(path, lines.join("\n"));
    for (const chunk of [1, 2, 3, 7, 64]) {
      const seen: { text: string | null; terminated: boolean }[] = [];
      forEachLine(nodeJournalFs, path, (text, _line, _start, _end, terminated) => seen.push({ text, terminated }), chunk);
      expect(seen.map((s) => s.text), `chunks of ${chunk} bytes`).toEqual(lines);
      expect(seen.map((s) => s.terminated)).toEqual([true, true, true, true, false]);
    }
  });

  it.each([
    ["an order with nothing in it", '{"t":"order","v":{}}', /line 3: not a valid order record \(v\._id: .*expected string/],
    ["null", "null", /line 3: not a journal record/],
    ["a clock given as a string", '{"t":"clock","now":"soon","wall":1}', /line 3: not a valid clock record \(now: .*expected number/],
    ["a record of no known kind", '{"t":"order-ish"}', /line 3: not a journal record/],
    ["a line that is not JSON", '{"t":"order","v":', /line 3: not JSON/],
    ["an unknown field beside a record", '{"t":"reset","extra":1}', /line 3: not a valid reset record/],
  ])("refuses to start on a bad line in the middle (%s), naming the file and the line", async (_name, line, message) => {
    const { dir, path } = await journalOfTwo();
    insertLine(path, line);
    let error: unknown;
    try {
      start(dir);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(JournalError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain("--repair");
    // The folder is not left locked by the start that failed.
    expect(() => start(dir, { journal: { repair: true } })).not.toThrow();
  });

  it("makes `start` exit 2 with one line naming the file and the line", async () => {
    const { dir, path } = await journalOfTwo();
    insertLine(path, '{"t":"order","v":{}}');
    const { code, stdout, stderr } = await cli("start", "--port", "0", "--data", dir);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(new RegExp(`^exchanger-sandbox: the journal ${path} has a bad line 3: [^\\n]*--repair[^\\n]*\\n$`));
  });

  it("with repair, drops the bad lines, keeps the journal as it was, and says what it dropped", async () => {
    const { dir, path, uids } = await journalOfTwo();
    const before = readFileSync(path, "utf8");
    insertLine(path, "null");
    const broken = readFileSync(path, "utf8");
    appendFileSync(path, '{"t":"clock","now":"soon","wall":1}\n');
    const lines: string[] = [];
    const sandbox = start(dir, { journal: { repair: true } }, lines);
    expect(sandbox.store.listOrders().map((o) => o.uid)).toEqual(uids);
    const said = lines.find((line) => line.includes("repaired the journal"))!;
    expect(said).toMatch(/dropped line 3 \(not a journal record.*\); line \d+ \(not a valid clock record/);
    const backup = /kept in (\S+)$/.exec(said)![1]!;
    expect(readFileSync(backup, "utf8")).toBe(broken + '{"t":"clock","now":"soon","wall":1}\n');
    // The repaired journal reads without complaint, and holds what the good lines held.
    await sandbox.close();
    expect(readFileSync(path, "utf8").split("\n")).not.toContain("null");
    const again = start(dir);
    expect(again.store.listOrders().map((o) => o.uid)).toEqual(uids);
    expect(before).toContain('"t":"header"');
  });

  it("only warns about a torn last line, and cuts it off before appending", async () => {
    const { dir, path, uids } = await journalOfTwo();
    appendFileSync(path, '{"t":"order","v":{"_id":"abc","uid":10');
    const lines: string[] = [];
    const sandbox = start(dir, {}, lines);
    expect(lines.join("\n")).toMatch(/warn journal .*skipped unreadable line \d+ \(a record torn by a crash\)/);
    const third = await createOrder(sandbox);
    await sandbox.close();
    const text = readFileSync(path, "utf8");
    expect(text).not.toContain('"uid":10{');
    expect(start(dir).store.listOrders().map((o) => o.uid)).toEqual([...uids, third.uid]);
  });

  it("refuses a journal of another format version, even with repair", async () => {
    const { dir, path } = await journalOfTwo();
    writeFileSync(path, readFileSync(path, "utf8").replace('{"t":"header","version":1}', '{"t":"header","version":2}'));
    for (const repair of [false, true]) {
      expect(() => start(dir, { journal: { repair } })).toThrow(/is in format 2, and this exchanger-sandbox reads format 1/);
    }
  });

  it("keeps a field it does not know inside a record, for the version that wrote it", async () => {
    const { dir, path, uids } = await journalOfTwo();
    writeFileSync(path, readFileSync(path, "utf8").replace(`"uid":${uids[0]},`, `"uid":${uids[0]},"laterField":"kept",`));
    const sandbox = start(dir);
    expect((sandbox.store.getOrder(uids[0]!) as unknown as { laterField: string }).laterField).toBe("kept");
  });
});

describe("compaction while running", () => {
  it("keeps the folder at most 3× its compacted size after 3,000 orders × 5 moves", async () => {
    const dir = dataDir();
    const sandbox = start(dir, { clock: "manual", startAt: Date.UTC(2026, 0, 1) });
    const store = sandbox.store as JournalStore;
    const uids: number[] = [];
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      uids.push((await createOrder(sandbox)).uid);
      written += JSON.stringify(sandbox.store.getOrder(uids.at(-1)!)).length;
    }
    for (const status of ["waitPayment", "inProgress", "inProgressPayout", "errorPayout", "done"] as const) {
      for (const [i, uid] of uids.entries()) {
        sandbox.orders.move(uid, status, { cause: "test", force: true });
        written += JSON.stringify(sandbox.store.getOrder(uid)).length;
        // Moves come in as requests do, with turns of the event loop between them, where compaction does its work.
        if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await store.idle();
    const grown = folderBytes(dir);
    expect(await store.compact()).toBe(true);
    const compacted = statSync(join(dir, JOURNAL_FILE)).size;
    expect(grown / compacted).toBeLessThanOrEqual(3);
    // Not for want of anything to compact: six versions of each order were written.
    expect(written / compacted).toBeGreaterThan(4);
    await sandbox.close();
    const again = start(dir);
    expect(again.store.listOrders().every((o) => o.status === "done" && o.history.length === 6)).toBe(true);
  }, 60_000);

  it("loses nothing written while it compacts, and the API goes on meanwhile", async () => {
    const dir = dataDir();
    const sandbox = start(dir);
    const store = sandbox.store as JournalStore;
    for (let i = 0; i < 300; i++) await createOrder(sandbox);
    const compaction = store.compact();
    // While the snapshot is written a chunk per turn, orders keep coming and moving.
    const during = [(await createOrder(sandbox)).uid, (await createOrder(sandbox)).uid];
    sandbox.orders.move(1001, "waitPayment", { cause: "test" });
    expect(await compaction).toBe(true);
    const after = (await createOrder(sandbox)).uid;
    const expected = sandbox.store.listOrders();
    await sandbox.close();
    const again = start(dir);
    expect(again.store.listOrders()).toEqual(expected);
    expect(again.store.getOrder(1001)!.status).toBe("waitPayment");
    expect(again.store.listOrders().map((o) => o.uid)).toEqual(expect.arrayContaining([...during, after]));
  });

  it("compacts on its own once the journal is much larger than the live data", async () => {
    const dir = dataDir();
    const store = openJournalStore(dir, { compactMinBytes: 1024 });
    open.push(store);
    for (let i = 0; i < 200; i++) store.setMeta("progress", { step: i, note: "x".repeat(100) });
    expect(store.sizes().journalBytes).toBeGreaterThan(200 * 100);
    await store.idle();
    expect(store.sizes().journalBytes).toBeLessThan(1000);
    store.close();
    const again = openJournalStore(dir);
    open.push(again);
    expect(again.getMeta("progress")).toEqual({ step: 199, note: "x".repeat(100) });
  });
});
