// A journal file system over the real one that fails on demand: a full disk, a short write, a failing fsync.

import { nodeJournalFs, type JournalFs } from "../../sandbox/store/index.js";

export interface FaultyFs extends JournalFs {
  /** Every write from now on fails with ENOSPC (after writing `partial` bytes of it, when given). */
  fillDisk(partial?: number): void;
  /** Writes succeed again. */
  freeDisk(): void;
  /** The next write writes only this many bytes and says so (a short write), then writes go on as usual. */
  shortWriteOnce(bytes: number): void;
  /** Truncations fail too (so a half record cannot be cut off at once). */
  failTruncate(on: boolean): void;
  /** fsync fails with EIO, once. */
  failFsyncOnce(): void;
  /** How many writes failed. */
  readonly failedWrites: number;
}

const errno = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}, write`), { code, errno: -28, syscall: "write" });

export function faultyFs(base: JournalFs = nodeJournalFs): FaultyFs {
  let full = false;
  let partialOnFull: number | undefined;
  let shortOnce: number | null = null;
  let truncateFails = false;
  let fsyncFailsOnce = false;
  let failedWrites = 0;
  return {
    ...base,
    writeSync(fd, buffer, offset, length) {
      if (shortOnce !== null) {
        const n = Math.min(shortOnce, length);
        shortOnce = null;
        return base.writeSync(fd, buffer, offset, n);
      }
      if (full) {
        failedWrites++;
        if (partialOnFull !== undefined && length > 0) {
          const n = Math.min(partialOnFull, length);
          partialOnFull = undefined;
          // Part of it lands, then the disk is full: a later call would fail, so this one reports the part.
          return base.writeSync(fd, buffer, offset, n);
        }
        throw errno("ENOSPC", "no space left on device");
      }
      return base.writeSync(fd, buffer, offset, length);
    },
    ftruncateSync(fd, length) {
      if (truncateFails) throw Object.assign(new Error("EIO: i/o error, ftruncate"), { code: "EIO" });
      base.ftruncateSync(fd, length);
    },
    fsyncSync(fd) {
      if (fsyncFailsOnce) {
        fsyncFailsOnce = false;
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      base.fsyncSync(fd);
    },
    async fsync(fd) {
      if (fsyncFailsOnce) {
        fsyncFailsOnce = false;
        throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
      }
      await base.fsync(fd);
    },
    fillDisk(partial) {
      full = true;
      partialOnFull = partial;
    },
    freeDisk() {
      full = false;
    },
    shortWriteOnce(bytes) {
      shortOnce = bytes;
    },
    failTruncate(on) {
      truncateFails = on;
    },
    failFsyncOnce() {
      fsyncFailsOnce = true;
    },
    get failedWrites() {
      return failedWrites;
    },
  };
}
