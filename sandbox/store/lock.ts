// One owner per data folder: a lock file naming the process that holds it; a dead holder's lock is taken over.

import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

export const LOCK_FILE = "lock";

/** Another process holds the folder; the message is one line naming the folder and that process. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.host === hostname() ? "" : ` on host ${holder.host}`;
    const since = holder.startedAt ? `, since ${holder.startedAt}` : "";
    super(
      `the data folder ${dir} is in use by process ${holder.pid}${where}${since}: stop that sandbox first, or give another --data folder` +
        (where ? ` (if that process is gone, delete ${join(dir, LOCK_FILE)})` : ""),
    );
    this.name = "DataDirLockedError";
  }
}

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string | null;
  /** When the process started, as the kernel counts it (Linux): tells a reused pid from the holder. */
  processStart: string | null;
}

export interface DataDirLock {
  release(): void;
}

/**
 * Takes the folder's lock, or throws DataDirLockedError. A lock whose process is gone (killed, crashed) is stale and
 * taken over; so is one whose pid now belongs to a process started later. A lock from another host cannot be
 * checked and counts as held.
 */
export function lockDataDir(dir: string): DataDirLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), processStart: processStartOf(process.pid) };
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written whole beside the lock and linked into place, so the lock never exists half-written; link fails if it exists.
    const temporary = `${path}.${process.pid}.${attempt}`;
    writeFileSync(temporary, JSON.stringify(me) + "\n");
    try {
      linkSync(temporary, path);
      return {
        release() {
          const holder = readHolder(path);
          if (holder !== null && holder.pid === me.pid && holder.startedAt === me.startedAt) unlinkQuietly(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      unlinkQuietly(temporary);
    }
    const holder = readHolder(path);
    if (holder !== null && isAlive(holder)) throw new DataDirLockedError(dir, holder);
    // Stale (or unreadable): move it aside in one step, so that of two starts taking it over only one succeeds.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    // Another start may have taken the stale lock over between our reading and our moving it: put its lock back.
    const moved = readHolder(aside);
    if (moved !== null && isAlive(moved)) {
      try {
        linkSync(aside, path);
      } catch {
        // A third start holds it by now; ours is refused in the next round either way.
      }
    }
    unlinkQuietly(aside);
  }
  const holder = readHolder(path);
  throw new DataDirLockedError(dir, holder ?? { pid: 0, host: hostname(), startedAt: null, processStart: null });
}

function readHolder(path: string): LockHolder | null {
  try {
    const json = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    if (!Number.isSafeInteger(json.pid) || typeof json.host !== "string") return null;
    return { pid: json.pid!, host: json.host, startedAt: json.startedAt ?? null, processStart: json.processStart ?? null };
  } catch {
    return null;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid is taken; by the holder only if that process started when the holder did.
  const start = processStartOf(holder.pid);
  return holder.processStart === null || start === null || start === holder.processStart;
}

/** The process's start time in clock ticks since boot, from /proc (Linux); null elsewhere. */
function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name, in parentheses, may hold spaces: count the fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
