// Starts a sandbox on a filled --data folder: how long the replay takes and what memory the restored store holds,
// against reading the same file line by line with JSON.parse alone.

import { createReadStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { heapAfterGc, loadSandbox, runChild } from "./lib.js";

const { values } = parseArgs({ options: { dir: { type: "string" } } });
const dir = values.dir!;

runChild(async () => {
  const { createSandbox } = await loadSandbox();
  // The baseline: node's own line reader and JSON.parse over the same journal, nothing kept.
  let lines = 0;
  const readStarted = performance.now();
  for await (const line of createInterface({ input: createReadStream(join(dir, "journal.jsonl")), crlfDelay: Infinity })) {
    if (line !== "") {
      JSON.parse(line);
      lines++;
    }
  }
  const readMs = performance.now() - readStarted;
  const empty = await heapAfterGc();
  const started = performance.now();
  const sandbox = createSandbox({ dataDir: dir });
  const replayMs = performance.now() - started;
  const heap = await heapAfterGc();
  const { rss } = process.memoryUsage();
  const restored = sandbox.store.countOrders();
  await sandbox.close();
  return { lines, readMs, replayMs, emptyHeap: empty, heap, rss, restored };
});
