// A durable store: the in-memory store plus an append-only journal of JSON lines, replayed and compacted at start.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { DeliveryRecord } from "../ipn/types.js";
import type { Order } from "../orders/types.js";
import { createMemoryStore, type Store } from "./index.js";

/**
 * One line per change, written with a plain write() before the change is answered, so a killed process loses
 * nothing it confirmed; fsync (which only matters if the machine itself goes down) is batched once a second.
 */
type JournalLine =
  | { t: "header"; version: 1 }
  | { t: "order"; v: Order }
  | { t: "delivery"; v: DeliveryRecord }
  | { t: "meta"; k: string; v?: unknown }
  | { t: "reset" }
  /** The highest uid ever issued, kept by compaction when a reset has forgotten its order: uids never come back. */
  | { t: "uids"; last: number }
  | { t: "clock"; now: number; wall: number };

export interface RestoredState {
  orders: number;
  deliveries: number;
  /** Lines that could not be read (a torn last line after a crash), skipped. */
  skippedLines: number;
  /** The sandbox clock when last written, with the wall clock at that moment. */
  clock: { now: number; wall: number } | null;
  /** The highest uid ever issued in this folder, resets included (0 when none was). */
  lastUid: number;
}

export interface JournalStore extends Store {
  readonly path: string;
  readonly restored: RestoredState;
  /** Writes the sandbox clock, so that a restart resumes from it. */
  recordClock(now: number): void;
  /** Forces what was written onto the disk. */
  flush(): void;
  close(): void;
}

export const JOURNAL_FILE = "journal.jsonl";
const FSYNC_EVERY_MS = 1000;

export function openJournalStore(dir: string, options: { warn?: (message: string) => void } = {}): JournalStore {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, JOURNAL_FILE);
  const memory = createMemoryStore();
  const restored = replay(path, memory, options.warn ?? (() => {}));

  // Compact: the journal becomes a snapshot of what is, written beside it and renamed over it in one step.
  const temporary = `${path}.tmp`;
  const snapshot = openSync(temporary, "w");
  const put = (fd: number, line: JournalLine) => writeSync(fd, JSON.stringify(line) + "\n");
  put(snapshot, { t: "header", version: 1 });
  for (const order of memory.listOrders()) put(snapshot, { t: "order", v: order });
  for (const record of memory.listDeliveries()) put(snapshot, { t: "delivery", v: record });
  for (const [k, v] of memory.listMeta("")) put(snapshot, { t: "meta", k, v });
  if (restored.lastUid > 0) put(snapshot, { t: "uids", last: restored.lastUid });
  if (restored.clock) put(snapshot, { t: "clock", ...restored.clock });
  fsyncSync(snapshot);
  closeSync(snapshot);
  renameSync(temporary, path);

  let fd: number | null = openSync(path, "a");
  let dirty = false;
  const write = (line: JournalLine) => {
    if (fd === null) throw new Error(`the journal ${path} is closed`);
    put(fd, line);
    dirty = true;
  };
  const flush = () => {
    if (fd !== null && dirty) {
      fsyncSync(fd);
      dirty = false;
    }
  };
  const timer = setInterval(flush, FSYNC_EVERY_MS);
  timer.unref();

  return {
    ...memory,
    path,
    restored,
    insertOrder(order) {
      write({ t: "order", v: order });
      memory.insertOrder(order);
    },
    saveOrder(order) {
      write({ t: "order", v: order });
      memory.saveOrder(order);
    },
    addDelivery(record) {
      write({ t: "delivery", v: record });
      memory.addDelivery(record);
    },
    updateDelivery(id, patch) {
      const next = memory.updateDelivery(id, patch);
      write({ t: "delivery", v: next });
      return next;
    },
    setMeta(key, value) {
      write(value === undefined ? { t: "meta", k: key } : { t: "meta", k: key, v: value });
      memory.setMeta(key, value);
    },
    reset() {
      write({ t: "reset" });
      memory.reset();
    },
    recordClock(now) {
      write({ t: "clock", now, wall: Date.now() });
    },
    flush,
    close() {
      clearInterval(timer);
      if (fd === null) return;
      flush();
      closeSync(fd);
      fd = null;
    },
  };
}

/** Replays a journal into the store; unreadable lines are skipped and counted, never a failed start. */
function replay(path: string, store: Store, warn: (message: string) => void): RestoredState {
  const restored: RestoredState = { orders: 0, deliveries: 0, skippedLines: 0, clock: null, lastUid: 0 };
  if (!existsSync(path)) return restored;
  const lines = readFileSync(path, "utf8").split("\n");
  let maxUid = 0;
  let maxDelivery = 0;
  for (const [index, text] of lines.entries()) {
    if (text.trim() === "") continue;
    let line: JournalLine;
    try {
      line = JSON.parse(text) as JournalLine;
    } catch {
      restored.skippedLines++;
      warn(`journal ${path}: skipped unreadable line ${index + 1}${index >= lines.length - 2 ? " (a record torn by a crash)" : ""}`);
      continue;
    }
    switch (line.t) {
      case "header":
        break;
      case "order":
        if (store.getOrder(line.v.uid)) store.saveOrder(line.v);
        else store.insertOrder(line.v);
        maxUid = Math.max(maxUid, line.v.uid);
        break;
      case "delivery":
        if (store.getDelivery(line.v.id)) store.updateDelivery(line.v.id, line.v);
        else store.addDelivery(line.v);
        maxDelivery = Math.max(maxDelivery, Number(line.v.id.slice(1)) || 0);
        break;
      case "meta":
        store.setMeta(line.k, line.v);
        break;
      case "reset":
        // Uids go on after a reset (see Store.reset); delivery ids start again.
        store.reset();
        maxDelivery = 0;
        break;
      case "uids":
        maxUid = Math.max(maxUid, line.last);
        break;
      case "clock":
        restored.clock = { now: line.now, wall: line.wall };
        break;
      default:
        restored.skippedLines++;
        warn(`journal ${path}: skipped line ${index + 1} of unknown kind ${JSON.stringify((line as { t?: unknown }).t)}`);
    }
  }
  // Hand out uids and delivery ids after the ones already used.
  while (maxUid > 0 && store.nextUid() < maxUid);
  while (maxDelivery > 0 && Number(store.nextDeliveryId().slice(1)) < maxDelivery);
  restored.lastUid = maxUid;
  restored.orders = store.listOrders().length;
  restored.deliveries = store.listDeliveries().length;
  return restored;
}
