// Appends whole records to a file: a write that fails part-way is cut back off, so no half record stays behind.

import type { JournalFs } from "./fs.js";
import { writeAll } from "./snapshot.js";

export interface Appender {
  readonly fd: number;
  /** The file's length, as far as whole records go. */
  readonly size: number;
  /**
   * Writes all of `bytes` at the end, or throws with the file as it was: a short write is followed by the rest, and
   * a failure part-way truncates what was written. Should even the truncation fail, the next append truncates first.
   */
  append(bytes: Uint8Array): void;
  close(): void;
}

/** Opens `path` for appending; with `keep`, first cuts it to that many bytes (a torn last line goes). */
export function openAppender(fs: JournalFs, path: string, keep?: number): Appender {
  const fd = fs.openSync(path, "a");
  let size: number;
  try {
    size = fs.fstatSync(fd).size;
    if (keep !== undefined && keep < size) {
      fs.ftruncateSync(fd, keep);
      size = keep;
    }
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  /** A half record may be left past `size`: the next append cuts it off first. */
  let tornTail = false;

  return {
    fd,
    get size() {
      return size;
    },
    append(bytes) {
      if (tornTail) {
        fs.ftruncateSync(fd, size);
        tornTail = false;
      }
      try {
        writeAll(fs, fd, bytes);
      } catch (error) {
        try {
          fs.ftruncateSync(fd, size);
        } catch {
          tornTail = true;
        }
        throw error;
      }
      size += bytes.length;
    },
    close() {
      fs.closeSync(fd);
    },
  };
}
