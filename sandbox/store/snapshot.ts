// A compacted journal: what the store holds now, one line per record, made in chunks so a large one can be written
// a piece at a time between requests.

import type { DeliveryRecord } from "../ipn/types.js";
import type { Order } from "../orders/types.js";
import type { JournalFs } from "./fs.js";
import { JOURNAL_VERSION, lineText } from "./lines.js";

/** The records a snapshot is made of, taken at one moment (orders and records are never changed in place). */
export interface SnapshotSource {
  orders: readonly Order[];
  deliveries: readonly DeliveryRecord[];
  meta: readonly [string, unknown][];
  /** The highest uid ever issued (0: none), kept even when a reset forgot its order. */
  lastUid: number;
  clock: { now: number; wall: number } | null;
}

/** About how much text each chunk holds: small enough that making and writing one is a short pause. */
const CHUNK_CHARS = 256 * 1024;

/** The snapshot's text, a chunk at a time. */
export function* snapshotChunks(source: SnapshotSource): Generator<string> {
  let text = lineText({ t: "header", version: JOURNAL_VERSION });
  const emit = function* (line: string) {
    text += line;
    if (text.length >= CHUNK_CHARS) {
      yield text;
      text = "";
    }
  };
  for (const order of source.orders) yield* emit(lineText({ t: "order", v: order }));
  for (const record of source.deliveries) yield* emit(lineText({ t: "delivery", v: record }));
  for (const [k, v] of source.meta) yield* emit(lineText({ t: "meta", k, v }));
  if (source.lastUid > 0) yield* emit(lineText({ t: "uids", last: source.lastUid }));
  if (source.clock) yield* emit(lineText({ t: "clock", ...source.clock }));
  if (text !== "") yield text;
}

/** Writes all of `bytes` (a short write is followed by the rest); returns how many that was. */
export function writeAll(fs: JournalFs, fd: number, bytes: Uint8Array): number {
  for (let written = 0; written < bytes.length; ) {
    const n = fs.writeSync(fd, bytes, written, bytes.length - written);
    if (n <= 0) throw Object.assign(new Error("the write made no progress"), { code: "EIO" });
    written += n;
  }
  return bytes.length;
}

/**
 * Writes a snapshot to `temporary` and renames it over `path` in one step, all at once (at start, where nothing
 * waits for it). Returns its size.
 */
export function writeSnapshotSync(fs: JournalFs, path: string, temporary: string, dir: string, source: SnapshotSource): number {
  const fd = fs.openSync(temporary, "w");
  let bytes = 0;
  try {
    for (const chunk of snapshotChunks(source)) bytes += writeAll(fs, fd, Buffer.from(chunk));
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(temporary);
    } catch {
      // Nothing to remove.
    }
    throw error;
  }
  fs.closeSync(fd);
  fs.renameSync(temporary, path);
  fs.fsyncDir(dir);
  return bytes;
}
