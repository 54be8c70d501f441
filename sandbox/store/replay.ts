// Reads a journal back, line by line from a stream of chunks (never the whole file as one string), into a store.

import type { Order } from "../orders/types.js";
import type { JournalFs } from "./fs.js";
import { JOURNAL_VERSION, parseLine, type JournalLine } from "./lines.js";
import type { Store } from "./types.js";

/** A line longer than this is not a record the sandbox wrote (an order is a few kB): it is reported, not read. */
const MAX_LINE_BYTES = 32 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
/** How many bad lines a report names one by one. */
const NAMED_BAD_LINES = 20;

/** Why a journal cannot be opened as it is; the message is one line that says what to do. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JournalError";
  }
}

export interface BadLine {
  /** 1-based. */
  line: number;
  reason: string;
}

export interface ReplayReport {
  /** Lines that failed to read or check, in the middle of the journal. */
  bad: BadLine[];
  /** How many bad lines there were in all (`bad` names the first ones). */
  badCount: number;
  /** The last line, cut off by a crash while it was written: skipped with a warning. */
  torn: BadLine | null;
  /** Where appends may go on: the end of the last whole record (a torn line starts there). */
  goodEnd: number;
  /** The file ends with a whole record that lacks its newline. */
  missingNewline: boolean;
  /** The file's size as read. */
  bytes: number;
  /** An estimate of what a compacted journal of the restored state would take, in bytes. */
  liveBytes: number;
  clock: { now: number; wall: number } | null;
}

/** Calls `visit` with each line of the file (without its newline), its 1-based number and byte range. */
export function forEachLine(
  fs: JournalFs,
  path: string,
  visit: (text: string | null, line: number, start: number, end: number, terminated: boolean) => void,
  chunkBytes = CHUNK_BYTES,
): number {
  const fd = fs.openSync(path, "r");
  const chunk = Buffer.allocUnsafe(chunkBytes);
  /** The start of a line the last chunk ended in the middle of, and where it starts in the file. */
  let carry: Buffer | null = null;
  let carryStart = 0;
  /** Inside a line too long to read, which started at skipStart: skip to its end. */
  let skipping = false;
  let skipStart = 0;
  let lineNo = 0;
  let position = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunkBytes, position);
      if (n === 0) break;
      const dataStart = carry === null ? position : carryStart;
      const data: Buffer = carry === null ? chunk.subarray(0, n) : Buffer.concat([carry, chunk.subarray(0, n)]);
      position += n;
      carry = null;
      let from = 0;
      for (let nl = data.indexOf(10, from); nl !== -1; nl = data.indexOf(10, from)) {
        lineNo++;
        if (skipping) visit(null, lineNo, skipStart, dataStart + nl, true);
        else visit(data.toString("utf8", from, nl), lineNo, dataStart + from, dataStart + nl, true);
        skipping = false;
        from = nl + 1;
      }
      if (from < data.length && !skipping) {
        if (data.length - from > MAX_LINE_BYTES) {
          skipping = true;
          skipStart = dataStart + from;
        } else {
          carry = Buffer.from(data.subarray(from));
          carryStart = dataStart + from;
        }
      }
    }
    if (skipping) visit(null, ++lineNo, skipStart, position, false);
    else if (carry !== null) visit(carry.toString("utf8"), ++lineNo, carryStart, position, false);
  } finally {
    fs.closeSync(fd);
  }
  return position;
}

/**
 * Replays the journal at `path` into `store` (empty), checking every line against its schema. Bad lines are
 * reported, not applied; the caller decides whether to refuse them or drop them. An unknown format is refused here.
 */
export function replayJournal(fs: JournalFs, path: string, store: Store): ReplayReport {
  const report: ReplayReport = { bad: [], badCount: 0, torn: null, goodEnd: 0, missingNewline: false, bytes: 0, liveBytes: 0, clock: null };
  if (!fs.existsSync(path)) return report;
  let maxUid = 0;
  let maxDelivery = 0;
  const sizes = { order: { bytes: 0, lines: 0 }, delivery: { bytes: 0, lines: 0 }, meta: { bytes: 0, lines: 0 } };
  /** The last line read, held back one step: only the file's last line may be a torn one. */
  let pending: { line: number; reason: string; start: number; terminated: boolean } | null = null;
  const flagBad = () => {
    if (pending === null) return;
    if (report.bad.length < NAMED_BAD_LINES) report.bad.push({ line: pending.line, reason: pending.reason });
    report.badCount++;
    pending = null;
  };
  const currencies = new Map<string, Order["route"]["from"]>();

  const apply = (line: JournalLine, bytes: number) => {
    switch (line.t) {
      case "header":
        if (line.version !== JOURNAL_VERSION) {
          throw new JournalError(
            `the journal ${path} is in format ${line.version}, and this exchanger-sandbox reads format ${JOURNAL_VERSION}: ` +
              "start the version that wrote it, or give another --data folder",
          );
        }
        break;
      case "order": {
        const order = shareCurrencies(line.v, currencies);
        if (store.getOrder(order.uid)) store.saveOrder(order);
        else store.insertOrder(order);
        maxUid = Math.max(maxUid, order.uid);
        sizes.order.bytes += bytes;
        sizes.order.lines++;
        break;
      }
      case "delivery":
        if (store.getDelivery(line.v.id)) store.updateDelivery(line.v.id, line.v);
        else store.addDelivery(line.v);
        maxDelivery = Math.max(maxDelivery, Number(line.v.id.slice(1)));
        sizes.delivery.bytes += bytes;
        sizes.delivery.lines++;
        break;
      case "meta":
        store.setMeta(line.k, line.v);
        sizes.meta.bytes += bytes;
        sizes.meta.lines++;
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
        report.clock = { now: line.now, wall: line.wall };
        break;
    }
  };

  report.bytes = forEachLine(fs, path, (text, lineNo, start, end, terminated) => {
    flagBad();
    if (text !== null && text.trim() === "") {
      if (terminated) report.goodEnd = end + 1;
      return;
    }
    const parsed = text === null ? { ok: false as const, reason: `longer than ${MAX_LINE_BYTES} bytes` } : parseLine(text);
    if (!parsed.ok) {
      pending = { line: lineNo, reason: parsed.reason, start, terminated };
      return;
    }
    apply(parsed.line, end - start + 1);
    report.goodEnd = terminated ? end + 1 : end;
    report.missingNewline = !terminated;
  });
  // The last line: cut off by a crash if it is the unreadable end of the file, else as bad as any other.
  const last = pending as { line: number; reason: string; start: number; terminated: boolean } | null;
  if (last !== null) {
    if (last.terminated) flagBad();
    else {
      report.torn = { line: last.line, reason: last.reason };
      report.goodEnd = last.start;
    }
  }

  // Hand out uids and delivery ids after the ones already used.
  while (maxUid > 0 && store.nextUid() < maxUid);
  while (maxDelivery > 0 && Number(store.nextDeliveryId().slice(1)) < maxDelivery);
  const average = (kind: { bytes: number; lines: number }) => (kind.lines === 0 ? 0 : kind.bytes / kind.lines);
  report.liveBytes = Math.round(
    average(sizes.order) * store.countOrders() +
      average(sizes.delivery) * store.listDeliveries().length +
      average(sizes.meta) * store.listMeta("").length,
  );
  return report;
}

/**
 * Orders made by the sandbox share one frozen copy of each currency; read back from JSON each would have its own,
 * which made every restored order bigger than a live one. So the replay shares them again.
 */
function shareCurrencies(order: Order, seen: Map<string, Order["route"]["from"]>): Order {
  const share = (currency: Order["route"]["from"]) => {
    // A currency with a field this version does not know keeps its own copy.
    if (Object.keys(currency).length !== 6) return currency;
    const key = `${currency._id}\n${currency.name}\n${currency.symbol}\n${currency.xml}\n${currency.decimal}\n${currency.network}`;
    let copy = seen.get(key);
    if (copy === undefined) {
      copy = Object.freeze(currency);
      seen.set(key, copy);
    }
    return copy;
  };
  order.route.from = share(order.route.from);
  order.route.to = share(order.route.to);
  return order;
}
