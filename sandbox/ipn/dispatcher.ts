// Sends IPNs to merchants once, in the background, bent by a delivery fault if asked, and records every delivery
// (or deliberate non-delivery) in the store.

import { ipnHostRefusal, isIpnHostAllowed } from "../secure.js";
import { REAL_WALL_CLOCK } from "./deadlines.js";
import { createDeliveries, logIpn, SHUT_DOWN, type Delivery } from "./delivery.js";
import { isBodyFault, type FaultSpec } from "./fault-table.js";
import { applyFault, normalizeFault, type NormalizeFaultResult } from "./faults.js";
import { createHolds, type Hold } from "./holds.js";
import { createNodeTransport } from "./node-transport.js";
import { resolveOptions, type DispatcherOptions } from "./options.js";
import { stepsFor, type Step } from "./plan.js";
import { copyFields, type DeliveryRecord, type IpnFields } from "./types.js";

export interface DispatchRequest {
  /** null for a test IPN that belongs to no order. */
  orderUID: number | null;
  url: string;
  secret: string;
  fields: IpnFields;
  /** A fault name or `{type, ...params}`, read by normalizeFault (default "deliver"). */
  fault?: FaultSpec;
}

/** What one dispatch or resend produced. */
export interface Dispatched {
  /** Every record the IPN produced (two for dropOnce, `copies` for duplicate, else one), as first stored. */
  records: DeliveryRecord[];
  /** The records' final versions, once none is pending or held any more. Never rejects. */
  settled: Promise<DeliveryRecord[]>;
}

export interface Dispatcher {
  /**
   * Records the IPN at once and sends it in the background as its fault says. Throws for an invalid fault (the
   * message lists the valid ones), never for a bad URL: that is recorded as an error.
   */
  dispatch(request: DispatchRequest): Dispatched;
  /** Sends a recorded IPN's exact body again, at once, as a new record (a sandbox convenience); undefined for an unknown id. */
  resend(id: string): Dispatched | undefined;
  /** Resolves once no delivery is in flight, queued or held. */
  idle(): Promise<void>;
  /**
   * Takes over the records a durable store kept from before a restart: a held one is held again until its moment
   * (sent at once, and said to be late, when its moment passed while the sandbox was down); a queued one that never
   * left is sent now; one that was on the wire is recorded as interrupted and not resent, as the exchanger sends
   * each IPN once.
   */
  restore(records: readonly DeliveryRecord[]): void;
  /**
   * Aborts in-flight deliveries and cancels held and queued ones (all recorded as errors), closes pooled connections;
   * later IPNs are recorded, not sent. With `keepHeld`, held records stay held and queued ones (never sent) stay
   * pending in the store, for a durable store's next start.
   */
  close(options?: { keepHeld?: boolean }): Promise<void>;
}

/** The fault almost every IPN has, read once. */
const DELIVER = { ok: true, fault: { type: "deliver" } } as const satisfies NormalizeFaultResult;
const INTERRUPTED = "interrupted: the sandbox stopped while this IPN was in flight; not resent (the exchanger sends each IPN once)";
const QUEUED_AT_STOP = "queued when the sandbox stopped, never sent; sent after the restart";
const RESET = "cancelled: the store was reset";
const SENT_LATE = "sent late: the sandbox was down at its moment";
const HELD_ACROSS = "held across a restart";

const inList = (record: DeliveryRecord): DeliveryRecord[] => [record];
const isDelivery = (begun: Delivery | DeliveryRecord): begun is Delivery => "whenDone" in begun;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, clock, logger } = options;
  const { timeoutMs, hashField, maxSocketsPerOrigin, userAgent, allowedHosts } = resolveOptions(options);
  const ownTransport = options.transport ? null : createNodeTransport({ maxSocketsPerOrigin });
  const transport = options.transport ?? ownTransport!;
  /** Dispatches not settled yet: what idle() waits for. */
  let unsettled = 0;
  /** Resolved, and dropped, once no dispatch is left unsettled. */
  let allSettled: { promise: Promise<void>; resolve: () => void } | null = null;
  // Bumped by a store reset: records of an older generation are gone and their ids may already name new ones.
  let generation = 0;
  let closed = false;

  const logDelivery = (record: DeliveryRecord) => logIpn(logger, record);

  /**
   * Stores a later version of a record unless the store was reset since it was made. Runs from timers and network
   * callbacks, so a throwing store listener is reported rather than thrown into whoever moved the clock.
   */
  const save = (record: DeliveryRecord, recordGeneration: number) => {
    if (recordGeneration !== generation) return;
    try {
      store.updateDelivery(record.id, record);
    } catch (error) {
      try {
        logger.log({ type: "info", message: `ipn ${record.id}: could not record the delivery: ${String(error)}` });
      } catch {
        // Nothing left to tell.
      }
    }
  };

  /** Ends a record without sending it: stored (if its generation is current) and logged. */
  const conclude = (record: DeliveryRecord, recordGeneration: number): DeliveryRecord => {
    save(record, recordGeneration);
    logDelivery(record);
    return record;
  };

  const wallClock = options.wallClock ?? REAL_WALL_CLOCK;
  const deliveries = createDeliveries({ transport, clock, wallClock, timeoutMs, userAgent, save, conclude });

  /**
   * Sends a stored record now: the Delivery under way, or the record's final version when the store was reset or the
   * dispatcher closed since it was made.
   */
  const begin = (record: DeliveryRecord, url: URL, recordGeneration: number): Delivery | DeliveryRecord => {
    const stop = recordGeneration !== generation ? RESET : closed ? SHUT_DOWN : null;
    if (stop !== null) return conclude({ ...record, outcome: "error", dueAt: null, error: stop }, recordGeneration);
    const queued: DeliveryRecord = record.outcome === "pending" ? record : { ...record, outcome: "pending", dueAt: null };
    if (queued !== record) save(queued, recordGeneration);
    return deliveries.send(queued, url, recordGeneration);
  };

  /** Sends a stored record now; resolves with its final version and never rejects. */
  const start = (record: DeliveryRecord, url: URL, recordGeneration: number): Promise<DeliveryRecord> => {
    const begun = begin(record, url, recordGeneration);
    return isDelivery(begun) ? new Promise((resolve) => begun.whenDone(resolve)) : Promise.resolve(begun);
  };

  const holds = createHolds({
    clock,
    send: (hold, detail) => start({ ...hold.record, faultDetail: detail }, hold.url, hold.generation),
    cancel: (hold: Hold, error: string, write: boolean) => {
      const final: DeliveryRecord = { ...hold.record, outcome: "error", dueAt: null, error };
      if (write) save(final, hold.generation);
      logDelivery(final);
      return final;
    },
  });

  const unsubscribe = store.subscribe((change) => {
    if (change.kind !== "reset") return;
    generation++;
    holds.cancelAll(RESET, false);
  });

  const track = (finals: Promise<DeliveryRecord>[]): Promise<DeliveryRecord[]> => {
    const settled = finals.length === 1 ? finals[0]!.then(inList) : Promise.all(finals);
    unsettled++;
    void settled.then(untrack);
    return settled;
  };

  const untrack = () => {
    if (--unsettled > 0 || allSettled === null) return;
    const { resolve } = allSettled;
    allSettled = null;
    resolve();
  };

  /**
   * The result of a dispatch whose one record is being sent, as most are: tracked for idle() by a count, and given a
   * `settled` promise only if someone asks for it.
   */
  const trackDelivery = (records: DeliveryRecord[], delivery: Delivery): Dispatched => {
    unsettled++;
    delivery.whenDone(deliverySettled);
    let settled: Promise<DeliveryRecord[]> | undefined;
    return {
      records,
      get settled() {
        settled ??=
          delivery.final !== null
            ? Promise.resolve([delivery.final])
            : new Promise<DeliveryRecord[]>((resolve) => void (delivery.resolveSettled = resolve));
        return settled;
      },
    };
  };

  const deliverySettled = (final: DeliveryRecord, delivery: Delivery) => {
    delivery.resolveSettled?.([final]);
    delivery.resolveSettled = null;
    untrack();
  };

  // The parsed form of the last IPN URL: an order's IPNs, and a burst of them, name the same URL again and again.
  let lastRawUrl: string | null = null;
  let lastTarget: ReturnType<typeof parseIpnUrl> = { error: "invalid URL" };
  const targetOf = (rawUrl: string): ReturnType<typeof parseIpnUrl> => {
    if (rawUrl !== lastRawUrl) {
      lastTarget = parseIpnUrl(rawUrl, allowedHosts);
      lastRawUrl = rawUrl;
    }
    return lastTarget;
  };

  /** Stores a dispatch's records, all at once, and sets each on its way. */
  const launch = (
    steps: Step[],
    make: (index: number, patch: Partial<DeliveryRecord>) => DeliveryRecord,
    rawUrl: string,
    reorderKey: string | null,
  ): Dispatched => {
    const recordGeneration = generation;
    const now = clock.now();
    const target = closed ? { error: SHUT_DOWN } : targetOf(rawUrl);
    const records = steps.map((step, index): DeliveryRecord => {
      const faultDetail = step.detail;
      if (step.kind === "drop") return make(index, { outcome: "dropped", sentAt: now, faultDetail });
      if ("error" in target) return make(index, { outcome: "error", error: target.error, sentAt: now, faultDetail });
      if (step.kind === "hold") return make(index, { outcome: "held", dueAt: now + step.ms, faultDetail });
      // Queued: sentAt stays null until the transport puts it on the wire.
      return make(index, { outcome: "pending", faultDetail });
    });
    for (const record of records) {
      store.addDelivery(record);
      if (record.outcome !== "pending") logDelivery(record);
    }
    if (records.length === 1 && steps[0]!.kind === "send" && !("error" in target)) {
      const begun = begin(records[0]!, target.url, recordGeneration);
      return isDelivery(begun) ? trackDelivery(records, begun) : { records, settled: track([Promise.resolve(begun)]) };
    }

    let previous: Promise<DeliveryRecord> = Promise.resolve(records[0]!);
    const finals = records.map((record, index) => {
      const step = steps[index]!;
      let final: Promise<DeliveryRecord>;
      if ("error" in target || record.outcome === "dropped") final = Promise.resolve(record);
      else if (step.kind === "hold") final = holds.hold(record, target.url, recordGeneration, step, step.reorder ? reorderKey : null);
      else if (step.kind === "afterPrevious") final = previous.then(() => start(record, target.url, recordGeneration));
      else final = start(record, target.url, recordGeneration);
      previous = final;
      return final;
    });
    return { records, settled: track(finals) };
  };

  const idle = async () => {
    // Checked again after each wake-up: a settled dispatch may have led to another.
    while (unsettled > 0) {
      if (allSettled === null) {
        let resolve!: () => void;
        const promise = new Promise<void>((settle) => (resolve = settle));
        allSettled = { promise, resolve };
      }
      await allSettled.promise;
    }
  };

  return {
    dispatch(request) {
      const normalized = request.fault === undefined || request.fault === "deliver" ? DELIVER : normalizeFault(request.fault);
      if (!normalized.ok) throw new Error(normalized.message);
      const fault = normalized.fault;
      const wire = applyFault(request.fields, request.secret, hashField, fault);
      const group = store.nextDeliveryId();
      const steps = stepsFor(fault, { bodyDetail: wire.detail, group, testIpn: request.orderUID === null });
      const ids = [group];
      while (ids.length < steps.length) ids.push(store.nextDeliveryId());
      // A uid is a number, so the first line break ends it.
      const reorderKey = request.orderUID === null ? null : `${request.orderUID}\n${request.url}`;
      // This IPN is the next one for any reorder record of the same order still held: claim them before this
      // dispatch's own reorder record (if any) joins the queue.
      const claimed = reorderKey === null ? [] : holds.claimReordered(reorderKey);

      const dispatched = launch(
        steps,
        (index, patch) => ({
          id: ids[index]!,
          orderUID: request.orderUID,
          status: request.fields.newStatus,
          url: request.url,
          body: wire.body,
          // applyFault's fields are already this dispatch's own copy: the first record takes them.
          fields: index === 0 ? wire.fields : copyFields(wire.fields),
          hashField,
          hash: wire.hash,
          hashedString: wire.hashedString,
          fault: fault.type,
          faultDetail: wire.detail,
          outcome: "pending",
          dueAt: null,
          group,
          sentAt: null,
          response: null,
          latencyMs: null,
          error: null,
          resendOf: null,
          ...patch,
        }),
        request.url,
        reorderKey,
      );

      if (claimed.length > 0) {
        void dispatched.settled.then(async () => {
          for (const hold of claimed) await holds.release(hold, `held back, then sent right after the order's next IPN ${group}`);
        });
      }
      return dispatched;
    },

    resend(id) {
      const original = store.getDelivery(id);
      if (!original) return undefined;
      const newId = store.nextDeliveryId();
      // The body is sent exactly as before: a fault that altered it still shows; one that only timed it does not.
      const bodyFault = isBodyFault(original.fault);
      return launch(
        [{ kind: "send", detail: bodyFault ? original.faultDetail : null }],
        (_index, patch) => ({
          ...original,
          id: newId,
          group: newId,
          fields: copyFields(original.fields),
          fault: bodyFault ? original.fault : "deliver",
          outcome: "pending",
          dueAt: null,
          sentAt: null,
          response: null,
          latencyMs: null,
          error: null,
          resendOf: id,
          ...patch,
        }),
        original.url,
        null,
      );
    },

    idle,

    restore(records) {
      const now = clock.now();
      /** The last queued copy of each group, so that copies (duplicate) still go out one after another. */
      const lastOfGroup = new Map<string, Promise<DeliveryRecord>>();
      for (const record of records) {
        if (record.outcome === "pending" && record.sentAt !== null) {
          conclude({ ...record, outcome: "error", error: INTERRUPTED }, generation);
          continue;
        }
        if (record.outcome !== "held" && record.outcome !== "pending") continue;
        const parsed = parseIpnUrl(record.url, allowedHosts);
        if ("error" in parsed) {
          conclude({ ...record, outcome: "error", dueAt: null, error: parsed.error }, generation);
          continue;
        }
        if (record.outcome === "pending") {
          const queued = { ...record, faultDetail: record.faultDetail === null ? QUEUED_AT_STOP : `${record.faultDetail}; ${QUEUED_AT_STOP}` };
          const before = lastOfGroup.get(record.group);
          const final = before ? before.then(() => start(queued, parsed.url, generation)) : start(queued, parsed.url, generation);
          lastOfGroup.set(record.group, final);
          track([final]);
          continue;
        }
        const due = record.dueAt ?? now;
        const detail = record.faultDetail ?? "held";
        // A moment that has come is not left to a timer: on a manual or instant clock a 0 ms timer waits for
        // someone to move the clock, and the IPN is due now.
        if (due <= now) {
          const released = due < now ? `${detail}; ${SENT_LATE}` : `${detail}; ${HELD_ACROSS}`;
          track([start({ ...record, faultDetail: released }, parsed.url, generation)]);
          continue;
        }
        const step = { kind: "hold", ms: due - now, detail, released: `${detail}; ${HELD_ACROSS}`, reorder: false } as const;
        track([holds.hold(record, parsed.url, generation, step, null)]);
      }
    },

    async close(closeOptions = {}) {
      closed = true;
      if (closeOptions.keepHeld) holds.keepAll();
      else holds.cancelAll(SHUT_DOWN, true);
      deliveries.stopAll({ keepQueued: closeOptions.keepHeld === true });
      await idle();
      unsubscribe();
      await ownTransport?.close();
    },
  };
}

function parseIpnUrl(raw: string, allowedHosts: readonly string[] | null): { url: URL } | { error: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { error: "invalid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { error: "only http and https IPN URLs are allowed" };
  }
  if (!isIpnHostAllowed(url, allowedHosts)) return { error: ipnHostRefusal(url) };
  return { url };
}
