// The file-system calls the journal makes, as one dependency: tests hand in one that fails (a full disk, a short write).

import * as fs from "node:fs";

export interface JournalFs {
  openSync(path: string, flags: "r" | "a" | "w"): number;
  /** Writes from `buffer[offset, offset+length)`; may write fewer bytes than asked (a short write). */
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  /** The same, off the event loop: a large file's fsync can take long. */
  fsync(fd: number): Promise<void>;
  ftruncateSync(fd: number, length: number): void;
  fstatSync(fd: number): { size: number };
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  copyFileSync(from: string, to: string): void;
  existsSync(path: string): boolean;
  mkdirSync(path: string): void;
  /** Makes a rename in `dir` durable; best effort where folders cannot be opened. */
  fsyncDir(dir: string): void;
}

export const nodeJournalFs: JournalFs = {
  openSync: (path, flags) => fs.openSync(path, flags),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, (error) => (error ? reject(error) : resolve()))),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  fstatSync: (fd) => fs.fstatSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  copyFileSync: (from, to) => fs.copyFileSync(from, to),
  existsSync: (path) => fs.existsSync(path),
  mkdirSync: (path) => void fs.mkdirSync(path, { recursive: true }),
  fsyncDir(dir) {
    let fd: number | null = null;
    try {
      fd = fs.openSync(dir, "r");
      fs.fsyncSync(fd);
    } catch {
      // Some systems cannot open or fsync a folder; the rename is then as durable as they make it.
    } finally {
      if (fd !== null) fs.closeSync(fd);
    }
  },
};

/** "ENOSPC: no space left on device", from an error a file-system call threw. */
export function describeFsError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = error.message.replace(/,\s*(write|open|fsync|ftruncate|rename|close)\b.*$/, "");
    return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
  return String(error);
}
