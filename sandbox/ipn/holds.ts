// IPNs held back by a timing fault: each waits on the sandbox clock, a reorder one also for its order's next IPN.

import type { Clock, Timer } from "../clock/index.js";
import type { Step } from "./plan.js";
import type { DeliveryRecord } from "./types.js";

/** A record waiting on the sandbox clock, or for a reorder also on its order's next IPN. */
export interface Hold {
  readonly record: DeliveryRecord;
  readonly url: URL;
  readonly generation: number;
  timer: Timer | undefined;
  /** For reorder: the order and URL whose next IPN releases it. */
  readonly reorderKey: string | null;
  settle(final: DeliveryRecord | PromiseLike<DeliveryRecord>): void;
}

export interface HoldsOptions {
  clock: Pick<Clock, "setTimer">;
  /** Sends a record let go with `detail` as its faultDetail; resolves with its final version. */
  send(hold: Hold, detail: string): Promise<DeliveryRecord>;
  /** The final version of a record cancelled with `error`, stored when `write`. */
  cancel(hold: Hold, error: string, write: boolean): DeliveryRecord;
}

export interface Holds {
  /** Holds a stored record for `step.ms` of sandbox time; resolves with its final version once sent or cancelled. */
  hold(record: DeliveryRecord, url: URL, generation: number, step: Extract<Step, { kind: "hold" }>, reorderKey: string | null): Promise<DeliveryRecord>;
  /** Lets a held record go now. Resolves once it has settled; null when it was no longer held. */
  release(hold: Hold, detail: string): Promise<DeliveryRecord> | null;
  /** Takes the reorder holds waiting for the next IPN of `reorderKey`, in the order they were held. */
  claimReordered(reorderKey: string): Hold[];
  /** Ends every hold as an error. */
  cancelAll(error: string, write: boolean): void;
  /** Ends every hold, leaving its record held in the store (for a durable store's next start). */
  keepAll(): void;
}

export function createHolds({ clock, send, cancel }: HoldsOptions): Holds {
  const held = new Set<Hold>();
  /** Reorder records waiting for their order's next IPN, by order and URL, in dispatch order. */
  const waitingForNext = new Map<string, Hold[]>();

  const unhold = (entry: Hold): boolean => {
    if (!held.delete(entry)) return false;
    entry.timer?.cancel();
    if (entry.reorderKey !== null) {
      const rest = (waitingForNext.get(entry.reorderKey) ?? []).filter((other) => other !== entry);
      if (rest.length) waitingForNext.set(entry.reorderKey, rest);
      else waitingForNext.delete(entry.reorderKey);
    }
    return true;
  };

  const release = (entry: Hold, detail: string): Promise<DeliveryRecord> | null => {
    if (!unhold(entry)) return null;
    const sent = send(entry, detail);
    entry.settle(sent);
    return sent;
  };

  return {
    hold: (record, url, generation, step, reorderKey) =>
      new Promise<DeliveryRecord>((settle) => {
        const entry: Hold = { record, url, generation, timer: undefined, reorderKey, settle };
        held.add(entry);
        if (reorderKey !== null) waitingForNext.set(reorderKey, [...(waitingForNext.get(reorderKey) ?? []), entry]);
        entry.timer = clock.setTimer(step.ms, () => void release(entry, step.released));
      }),
    release,
    claimReordered(reorderKey) {
      const claimed = waitingForNext.get(reorderKey) ?? [];
      waitingForNext.delete(reorderKey);
      return claimed;
    },
    cancelAll(error, write) {
      for (const entry of [...held]) {
        if (unhold(entry)) entry.settle(cancel(entry, error, write));
      }
    },
    keepAll() {
      for (const entry of [...held]) {
        if (unhold(entry)) entry.settle(entry.record);
      }
    },
  };
}
