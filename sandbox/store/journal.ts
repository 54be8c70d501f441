// A durable store: the in-memory store plus an append-only journal of JSON lines in a data folder it locks,
// replayed at start and compacted while the sandbox runs.

import { join } from "node:path";
import type { DeliveryRecord } from "../ipn/types.js";
import { openAppender, type Appender } from "./append.js";
import { describeFsError, nodeJournalFs, type JournalFs } from "./fs.js";
import { JOURNAL_VERSION, lineText, type JournalLine } from "./lines.js";
import { lockDataDir } from "./lock.js";
import { createMemoryStore } from "./memory.js";
import { JournalError, replayJournal, type ReplayReport } from "./replay.js";
import { snapshotChunks, writeAll, writeSnapshotSync, type SnapshotSource } from "./snapshot.js";
import { StoreUnavailableError, type Store } from "./types.js";

/**
 * One line per change, written with a plain write() before the change is answered, so a killed process loses
 * nothing it confirmed; fsync (which only matters if the machine itself goes down) is batched once a second.
 */
export const JOURNAL_FILE = "journal.jsonl";
const FSYNC_EVERY_MS = 1000;

export interface RestoredState {
  orders: number;
  deliveries: number;
  /** Lines that could not be read (a torn last line after a crash), skipped. */
  skippedLines: number;
  /** Bad lines dropped by a repair, and where the journal as it was is kept. */
  repaired: { dropped: number; backup: string } | null;
  /** The sandbox clock when last written, with the wall clock at that moment. */
  clock: { now: number; wall: number } | null;
}

export interface JournalStoreOptions {
  /** Where the store says what it did or could not do: one line each. */
  log?: (level: "warn" | "error" | "info", message: string) => void;
  /** Drop bad lines instead of refusing to open (a copy of the journal as it was is kept first). */
  repair?: boolean;
  /** The file system (default node:fs); tests hand in one that fails. */
  fs?: JournalFs;
  /** Compact once the journal is this many times the size of the live data (default 2)… */
  compactRatio?: number;
  /** …and at least this many bytes larger than it (default 1 MiB). */
  compactMinBytes?: number;
  /** After a failed write, how long to wait before trying again (default 2000 ms). */
  retryMs?: number;
}

export interface JournalStore extends Store {
  readonly path: string;
  readonly restored: RestoredState;
  /** Writes the sandbox clock, so that a restart resumes from it. */
  recordClock(now: number): void;
  /** Rewrites the journal as a snapshot of what is, a chunk at a time; resolves false if that failed. */
  compact(): Promise<boolean>;
  /** Resolves once no compaction is under way or about to start. */
  idle(): Promise<void>;
  /** The journal's size and an estimate of the live data's, in bytes. */
  sizes(): { journalBytes: number; liveBytes: number };
  /** Forces what was written onto the disk. */
  flush(): void;
  /** Closes the journal and releases the folder's lock. */
  close(): void;
}

export function openJournalStore(dir: string, options: JournalStoreOptions = {}): JournalStore {
  const fs = options.fs ?? nodeJournalFs;
  const log = options.log ?? (() => {});
  const ratio = options.compactRatio ?? 2;
  const minBytes = options.compactMinBytes ?? 1024 * 1024;
  const retryMs = options.retryMs ?? 2000;
  if (!(ratio > 1)) throw new RangeError(`compactRatio must be above 1, got ${ratio}`);
  fs.mkdirSync(dir);
  const path = join(dir, JOURNAL_FILE);
  const temporary = `${path}.tmp`;
  const lock = lockDataDir(dir);

  const memory = createMemoryStore();
  let report: ReplayReport;
  let appender: Appender;
  let repaired: RestoredState["repaired"] = null;
  /** A write at open that failed (a full disk): the store starts unable to write, as if it had failed later. */
  let failedAtOpen: unknown = null;
  try {
    // A compaction cut short by a crash: the journal beside it is whole.
    if (fs.existsSync(temporary)) fs.unlinkSync(temporary);
    report = replayJournal(fs, path, memory);
    if (report.badCount > 0) {
      if (!options.repair) throw new JournalError(describeBadLines(path, report));
      repaired = repair(fs, path, temporary, dir, report, sourceOf(memory, report.clock), log);
    } else if (report.torn) {
      log("warn", `journal ${path}: skipped unreadable line ${report.torn.line} (a record torn by a crash)`);
    }
    appender = openAppender(fs, path, repaired ? undefined : report.goodEnd);
    try {
      if (report.missingNewline && !repaired) appender.append(Buffer.from("\n"));
      // A new journal says which format it is in, so that a later version knows how to read it.
      if (appender.size === 0) appender.append(Buffer.from(lineText({ t: "header", version: JOURNAL_VERSION })));
    } catch (error) {
      failedAtOpen = error;
    }
  } catch (error) {
    lock.release();
    throw error;
  }

  let closed = false;
  /** Why writes fail, while they do: changes are then kept in memory and written by the next compaction. */
  let unwritable: string | null = null;
  let liveBytes = repaired ? appender.size : Math.max(report.liveBytes, 1);
  let dirty = false;
  let clock = report.clock;
  /** Lines written since a running compaction took its snapshot: they go after it. */
  let sinceSnapshot: string[] | null = null;
  let compacting: Promise<boolean> | null = null;
  let compactionQueued = false;
  /** The fsync under way, if any: the file it syncs stays open until it is done. */
  let syncing: Promise<void> | null = null;
  /** The compaction's own file while it writes it, so that close() can remove it. */
  let compactionFd: number | null = null;
  /** After a failed compaction, the journal size at which to try again. */
  let retryCompactionAt = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  let guardDepth = 0;
  /** Inside a guard that has written nothing yet: a failure now refuses the whole change. */
  let guardFresh = false;

  const enterUnwritable = (error: unknown) => {
    if (unwritable !== null) return;
    unwritable = describeFsError(error);
    log(
      "error",
      `cannot write the journal ${path} (${unwritable}): the merchant API answers maintenance (5555555555555555) and the ` +
        "control API refuses changes until it can write again; everything written before is kept",
    );
    scheduleRetry();
  };
  const scheduleRetry = () => {
    if (retryTimer !== null || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void compact().then((ok) => {
        if (!ok && unwritable !== null) scheduleRetry();
      });
    }, retryMs);
    retryTimer.unref();
  };

  const write = (line: JournalLine, isNew: boolean) => {
    if (closed) throw new Error(`the journal ${path} is closed`);
    const text = lineText(line);
    const bytes = Buffer.from(text);
    if (unwritable === null) {
      try {
        appender.append(bytes);
        dirty = true;
      } catch (error) {
        enterUnwritable(error);
      }
    }
    if (unwritable !== null && guardDepth > 0 && guardFresh) throw new StoreUnavailableError(unwritable);
    guardFresh = false;
    sinceSnapshot?.push(text);
    if (isNew) liveBytes += bytes.length;
    const journalBytes = appender.size;
    if (!compactionQueued && compacting === null && unwritable === null && journalBytes > ratio * liveBytes && journalBytes - liveBytes > minBytes && journalBytes >= retryCompactionAt) {
      // Not from inside this change: on a later turn.
      compactionQueued = true;
      setImmediate(() => {
        compactionQueued = false;
        void compact();
      });
    }
  };

  const compact = (): Promise<boolean> => {
    if (closed) return Promise.resolve(false);
    if (compacting === null) {
      const run = runCompaction();
      compacting = run;
      void run.finally(() => {
        if (compacting === run) compacting = null;
      });
    }
    return compacting;
  };

  /** Writes a snapshot beside the journal a chunk per turn, then puts it in the journal's place in one step. */
  const runCompaction = async (): Promise<boolean> => {
    const lines: string[] = [];
    sinceSnapshot = lines;
    const source = sourceOf(memory, clock);
    let snapshotBytes = 0;
    const writeSince = (fd: number) => {
      const text = lines.splice(0).join("");
      return text === "" ? 0 : writeAll(fs, fd, Buffer.from(text));
    };
    try {
      compactionFd = fs.openSync(temporary, "w");
      for (const chunk of snapshotChunks(source)) {
        snapshotBytes += writeAll(fs, compactionFd, Buffer.from(chunk));
        await nextTurn();
        if (closed) return false;
      }
      writeSince(compactionFd);
      await fs.fsync(compactionFd);
      if (closed) return false;
      // From here to the switch nothing else runs, so no line can fall between the snapshot and the journal.
      writeSince(compactionFd);
      fs.closeSync(compactionFd);
      compactionFd = null;
      fs.renameSync(temporary, path);
      fs.fsyncDir(dir);
      const previous = appender;
      appender = openAppender(fs, path);
      void (syncing ?? Promise.resolve()).finally(() => closeQuietly(() => previous.close()));
      liveBytes = Math.max(snapshotBytes, 1);
      retryCompactionAt = 0;
      if (unwritable !== null) {
        unwritable = null;
        log("info", `the journal ${path} is written again: the sandbox takes changes again`);
      }
      return true;
    } catch (error) {
      if (compactionFd !== null) {
        const fd = compactionFd;
        closeQuietly(() => fs.closeSync(fd));
        compactionFd = null;
        closeQuietly(() => fs.unlinkSync(temporary));
      }
      if (unwritable === null && !closed) {
        retryCompactionAt = appender.size + Math.max(minBytes, appender.size / 2);
        log("warn", `could not compact the journal ${path} (${describeFsError(error)}); it goes on growing, and compaction is tried again later`);
      }
      return false;
    } finally {
      sinceSnapshot = null;
    }
  };

  if (failedAtOpen !== null) enterUnwritable(failedAtOpen);

  const fsyncTimer = setInterval(() => {
    if (!dirty || unwritable !== null || closed || syncing !== null) return;
    dirty = false;
    const target = appender;
    syncing = fs
      .fsync(target.fd)
      .catch((error: unknown) => {
        // What the disk may have dropped is rewritten, from memory, by the next compaction.
        if (!closed && target === appender) enterUnwritable(error);
      })
      .finally(() => {
        syncing = null;
      });
  }, FSYNC_EVERY_MS);
  fsyncTimer.unref();

  function flush(): void {
    if (closed || !dirty || unwritable !== null) return;
    try {
      fs.fsyncSync(appender.fd);
      dirty = false;
    } catch (error) {
      enterUnwritable(error);
    }
  }

  return {
    ...memory,
    path,
    restored: {
      orders: memory.countOrders(),
      deliveries: memory.listDeliveries().length,
      skippedLines: report.torn ? 1 : 0,
      repaired,
      clock: report.clock,
    },
    insertOrder(order) {
      write({ t: "order", v: order }, true);
      memory.insertOrder(order);
    },
    saveOrder(order) {
      if (!memory.getOrder(order.uid)) throw new Error(`order ${order.uid} does not exist`);
      write({ t: "order", v: order }, false);
      memory.saveOrder(order);
    },
    addDelivery(record) {
      write({ t: "delivery", v: record }, true);
      memory.addDelivery(record);
    },
    updateDelivery(id, patch) {
      const current = memory.getDelivery(id);
      if (!current) throw new Error(`delivery ${id} does not exist`);
      const next: DeliveryRecord = { ...current, ...patch, id };
      write({ t: "delivery", v: next }, false);
      return memory.updateDelivery(id, next);
    },
    setMeta(key, value) {
      write(value === undefined ? { t: "meta", k: key } : { t: "meta", k: key, v: value }, memory.getMeta(key) === undefined);
      memory.setMeta(key, value);
    },
    reset() {
      write({ t: "reset" }, false);
      liveBytes = 1;
      memory.reset();
    },
    guard(change) {
      if (unwritable !== null) throw new StoreUnavailableError(unwritable);
      const outer = guardDepth === 0;
      if (outer) guardFresh = true;
      guardDepth++;
      try {
        return change();
      } finally {
        guardDepth--;
        if (outer) guardFresh = false;
      }
    },
    unavailable: () => unwritable,
    recordClock(now) {
      const wall = Date.now();
      // Unchanged for the clock it is (a real clock's offset, a virtual clock's time): nothing to write.
      if (clock !== null && (clock.now === now || clock.now - clock.wall === now - wall)) return;
      clock = { now, wall };
      if (!closed) write({ t: "clock", now, wall }, false);
    },
    compact,
    async idle() {
      for (;;) {
        if (compacting !== null) await compacting;
        else if (compactionQueued) await nextTurn();
        else return;
      }
    },
    sizes: () => ({ journalBytes: appender.size, liveBytes }),
    flush,
    close() {
      if (closed) return;
      flush();
      closed = true;
      clearInterval(fsyncTimer);
      if (retryTimer !== null) clearTimeout(retryTimer);
      if (compactionFd !== null) {
        const fd = compactionFd;
        closeQuietly(() => fs.closeSync(fd));
        compactionFd = null;
        closeQuietly(() => fs.unlinkSync(temporary));
      }
      closeQuietly(() => appender.close());
      lock.release();
    },
  };
}

function sourceOf(store: Store, clock: { now: number; wall: number } | null): SnapshotSource {
  return { orders: store.listOrders(), deliveries: store.listDeliveries(), meta: store.listMeta(""), lastUid: store.lastUid(), clock };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function closeQuietly(close: () => void): void {
  try {
    close();
  } catch {
    // Closing what failed already: nothing more to do.
  }
}

function describeBadLines(path: string, report: ReplayReport): string {
  const first = report.bad[0]!;
  const more = report.badCount > 1 ? ` (and ${report.badCount - 1} more bad line${report.badCount > 2 ? "s" : ""})` : "";
  return `the journal ${path} has a bad line ${first.line}: ${first.reason}${more}; start with --repair to drop bad lines (a copy of the journal is kept), or mend it by hand`;
}

/** Keeps a copy of the journal as it was, then rewrites it from what could be read; says what was dropped. */
function repair(
  fs: JournalFs,
  path: string,
  temporary: string,
  dir: string,
  report: ReplayReport,
  source: SnapshotSource,
  log: NonNullable<JournalStoreOptions["log"]>,
): RestoredState["repaired"] {
  const backup = `${path}.before-repair-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  fs.copyFileSync(path, backup);
  writeSnapshotSync(fs, path, temporary, dir, source);
  const named = report.bad.map((bad) => `line ${bad.line} (${bad.reason})`).join("; ");
  const unnamed = report.badCount - report.bad.length;
  const torn = report.torn ? `; and the torn last line ${report.torn.line}` : "";
  log("warn", `repaired the journal ${path}: dropped ${named}${unnamed > 0 ? `; and ${unnamed} more` : ""}${torn}. The journal as it was is kept in ${backup}`);
  return { dropped: report.badCount + (report.torn ? 1 : 0), backup };
}
