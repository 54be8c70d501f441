// Sends IPNs to merchants once, in the background, bent by a delivery fault if asked, and records every delivery
// (or deliberate non-delivery) in the store.

import http from "node:http";
import https from "node:https";
import { urlToHttpOptions } from "node:url";
import type { Clock, Timer } from "../clock/index.js";
import type { Logger } from "../log/index.js";
import { canonicalIpnHost, ipnHostRefusal, isIpnHostAllowed } from "../secure.js";
import type { Store } from "../store/index.js";
import { DEFAULT_IPN_HASH_FIELD, assertIpnHashField } from "./encode.js";
import { applyFault, isBodyFault, normalizeFault, type NormalizeFaultResult, type NormalizedFault } from "./faults.js";
import type { DeliveryOutcome, DeliveryRecord, FaultSpec, IpnFields } from "./types.js";

export const DEFAULT_IPN_TIMEOUT_MS = 10_000;
export const MAX_IPN_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_SOCKETS_PER_ORIGIN = 32;
export const DEFAULT_USER_AGENT = "exchanger-sandbox";
/** How much of the merchant's answer a delivery record keeps. */
export const IPN_BODY_EXCERPT_CHARS = 2048;
/**
 * How much of the merchant's answer is read. Answers up to this size are read to the end so the socket can go back
 * to the keep-alive pool; a larger one is cut here and its socket destroyed rather than drained.
 */
export const IPN_BODY_READ_LIMIT_BYTES = 64 * 1024;

export interface TransportRequest {
  /** Always http: or https:; the dispatcher has checked. */
  url: URL;
  body: string;
  headers: Record<string, string>;
  /** For information: the dispatcher enforces it by aborting `signal`. */
  timeoutMs: number;
  /** Aborted on timeout or shutdown; a transport must then stop and release its connection. */
  signal: AbortSignal;
  /** Optional: a transport calls it when the answer's status line has arrived, so a timeout can say how far it got. */
  onStatus?: (status: number) => void;
}

export interface TransportResponse {
  status: number;
  /** At most IPN_BODY_EXCERPT_CHARS characters of the answer's body. */
  bodyExcerpt: string;
}

/** Sends one POST and reports the answer; rejects on a network failure. Never follows redirects. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

export interface NodeTransport {
  send: Transport;
  /** Destroys every pooled socket. */
  destroy(): void;
}

export interface DispatcherOptions {
  store: Pick<Store, "addDelivery" | "updateDelivery" | "getDelivery" | "nextDeliveryId" | "subscribe">;
  /**
   * Sandbox time: gives `sentAt` and `dueAt`, and runs the timing faults' holds, so a virtual clock runs them at
   * once. Latency and the IPN timeout are measured on wall time: the merchant's network is real.
   */
  clock: Pick<Clock, "now" | "setTimer">;
  logger: Logger;
  /** Whole exchange: connect, answer and body read (default 10 000, at most 600 000). */
  timeoutMs?: number;
  /** The checksum's form field (default "hash"). */
  hashField?: string;
  /** Concurrent connections per merchant origin for the built-in transport (default 32); ignored with `transport`. */
  maxSocketsPerOrigin?: number;
  /** The User-Agent header, e.g. "exchanger-sandbox/0.1.0" (default "exchanger-sandbox"). */
  userAgent?: string;
  /** Replaces the built-in node:http/node:https transport; its lifecycle stays with the caller. */
  transport?: Transport;
  /**
   * The only hosts IPNs may go to (`--ipn-allow`): host names or IP addresses, compared with the URL's host after
   * both are normalised. An IPN to any other host is recorded as an error and never sent. Default: any host.
   */
  allowedHosts?: readonly string[];
}

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
   * (sent at once, and said to be late, when its moment passed while the sandbox was down); one that was in flight
   * is recorded as interrupted and not resent, as the exchanger sends each IPN once.
   */
  restore(records: readonly DeliveryRecord[]): void;
  /**
   * Aborts in-flight deliveries and cancels held ones (both recorded as errors), closes pooled sockets; later IPNs
   * are recorded, not sent. With `keepHeld`, held records stay held in the store, for a durable store's next start.
   */
  close(options?: { keepHeld?: boolean }): Promise<void>;
}

/** A record waiting on the sandbox clock, or for a reorder also on its order's next IPN. */
interface Held {
  record: DeliveryRecord;
  url: URL;
  generation: number;
  timer: Timer | undefined;
  /** For reorder: the order and URL whose next IPN releases it. */
  reorderKey: string | null;
  settle(final: DeliveryRecord | PromiseLike<DeliveryRecord>): void;
}

/** A delivery on the wire, waiting for its answer or its deadline. */
interface Flight {
  /** performance.now() by which the whole exchange must be over. */
  readonly deadline: number;
  readonly ended: boolean;
  /** Ends the delivery at once, for a timeout or a shutdown; the transport then releases its connection. */
  stop(reason: DeliveryStopped): void;
}

const inList = (record: DeliveryRecord): DeliveryRecord[] => [record];

/** How one record of a dispatch goes out. */
type Step =
  | { kind: "send"; detail: string | null }
  | { kind: "drop"; detail: string }
  /** Held on the sandbox clock for `ms`; `released` becomes its detail when the clock lets it go. */
  | { kind: "hold"; ms: number; detail: string; released: string; reorder: boolean }
  /** Sent once the record before it has settled, so copies arrive in order. */
  | { kind: "afterPrevious"; detail: string };

class DeliveryStopped extends Error {
  constructor(readonly why: "timeout" | "shutdown") {
    super(why === "timeout" ? "IPN timed out" : "sandbox shut down");
  }
}

const SHUT_DOWN = "sandbox shut down";
/** The fault almost every IPN has, read once. */
const DELIVER = { ok: true, fault: { type: "deliver" } } as const satisfies NormalizeFaultResult;
const INTERRUPTED = "interrupted: the sandbox stopped while this IPN was in flight; not resent (the exchanger sends each IPN once)";
const RESET = "cancelled: the store was reset";

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, clock, logger } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_IPN_TIMEOUT_MS;
  const hashField = options.hashField ?? DEFAULT_IPN_HASH_FIELD;
  const maxSocketsPerOrigin = options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN;
  const userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
  validateOptions(options, { timeoutMs, hashField, maxSocketsPerOrigin, userAgent });

  const allowedHosts = options.allowedHosts === undefined ? null : options.allowedHosts.map(canonicalIpnHost);
  const ownTransport = options.transport ? null : createExchanger(maxSocketsPerOrigin);
  const transport = options.transport ?? ownTransport!.send;
  const held = new Set<Held>();
  /** Reorder records waiting for their order's next IPN, by order and URL, in dispatch order. */
  const waitingForNext = new Map<string, Held[]>();
  /** Dispatches not settled yet: what idle() waits for. */
  let unsettled = 0;
  /** Resolved, and dropped, once no dispatch is left unsettled. */
  let allSettled: { promise: Promise<void>; resolve: () => void } | null = null;
  // Bumped by a store reset: records of an older generation are gone and their ids may already name new ones.
  let generation = 0;
  let closed = false;

  const unsubscribe = store.subscribe((change) => {
    if (change.kind !== "reset") return;
    generation++;
    for (const entry of [...held]) cancelHeld(entry, RESET, false);
  });

  const logDelivery = (record: DeliveryRecord) => {
    try {
      logger.log({
        type: "ipn",
        deliveryId: record.id,
        orderUID: record.orderUID,
        status: record.status,
        url: record.url,
        fault: record.fault,
        outcome: record.outcome,
        responseStatus: record.response?.status ?? null,
        latencyMs: record.latencyMs,
        error: record.error,
      });
    } catch {
      // A broken logger must not break deliveries.
    }
  };

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

  /**
   * One record on its way, from its start to its final version: waiting for a socket, then on the wire until its
   * answer or its deadline; for the built-in transport it is the exchange itself. A burst queues thousands of these
   * for a few sockets, long enough for the garbage collector to move them to the old generation, so a delivery is this
   * one object: no promise, closure or headers of its own until someone needs them. A class, so that its methods are
   * shared rather than made again for every delivery.
   */
  class Delivery implements Flight, Exchange {
    readonly deadline: number;
    ended = false;
    /** The answer's status, once its head has arrived: a merchant that then stalls is told apart from a silent one. */
    answered: number | null = null;
    sending: Cancel | null = null;
    finished = false;
    /** Only for an injected transport, which is stopped through an AbortSignal. */
    controller: AbortController | null = null;
    /** The record's final version, once the delivery has ended. */
    final: DeliveryRecord | null = null;
    /** Told the final record once the delivery has ended. */
    listener: ((final: DeliveryRecord, delivery: Delivery) => void) | null = null;
    /** Made only when someone asks for the dispatch's `settled` before the delivery has ended. */
    resolveSettled: ((records: DeliveryRecord[]) => void) | null = null;

    constructor(
      readonly record: DeliveryRecord,
      readonly url: URL,
      readonly generation: number,
    ) {
      this.deadline = performance.now() + timeoutMs;
    }

    get body(): string {
      return this.record.body;
    }

    headers(): Record<string, string> {
      return {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": String(Buffer.byteLength(this.record.body)),
        "User-Agent": userAgent,
      };
    }

    onStatus(status: number): void {
      this.answered = status;
    }

    onEnd(error: unknown, response: TransportResponse | null): void {
      if (this.ended) return;
      this.ended = true;
      landed();
      // Every delivery has the same timeout, so the deadline also tells when it started.
      const final = outcomeRecord(this.record, this.generation, this.deadline - timeoutMs, this.answered, error, response);
      this.final = final;
      this.listener?.(final, this);
      this.listener = null;
    }

    stop(reason: DeliveryStopped): void {
      if (this.controller === null) {
        ownTransport!.cancel(this, reason);
        return;
      }
      // Settles on stop even when an injected transport ignores the signal, so a delivery can never hang.
      this.onEnd(reason, null);
      this.controller.abort(reason);
    }

    /** Calls `listener` with the final record: at once if the delivery has ended, else when it does. One listener. */
    whenDone(listener: (final: DeliveryRecord, delivery: Delivery) => void): void {
      if (this.final !== null) listener(this.final, this);
      else this.listener = listener;
    }
  }

  /**
   * Sends a stored record now: the Delivery under way, or the record's final version when the store was reset or the
   * dispatcher closed since it was made.
   */
  const begin = (record: DeliveryRecord, url: URL, recordGeneration: number): Delivery | DeliveryRecord => {
    const stop = recordGeneration !== generation ? RESET : closed ? SHUT_DOWN : null;
    if (stop !== null) return conclude({ ...record, outcome: "error", dueAt: null, error: stop }, recordGeneration);
    const sending: DeliveryRecord =
      record.outcome === "pending" && record.sentAt !== null
        ? record
        : { ...record, outcome: "pending", dueAt: null, sentAt: clock.now() };
    if (sending !== record) save(sending, recordGeneration);
    return transmit(sending, url, recordGeneration);
  };

  /** Sends a stored record now; resolves with its final version and never rejects. */
  const start = (record: DeliveryRecord, url: URL, recordGeneration: number): Promise<DeliveryRecord> => {
    const begun = begin(record, url, recordGeneration);
    return begun instanceof Delivery ? new Promise((resolve) => begun.whenDone(resolve)) : Promise.resolve(begun);
  };

  const transmit = (record: DeliveryRecord, url: URL, recordGeneration: number): Delivery => {
    const delivery = new Delivery(record, url, recordGeneration);
    takeOff(delivery);
    if (ownTransport !== null) {
      // The built-in transport is driven through callbacks: no AbortController, listener or promise per delivery.
      ownTransport.exchange(delivery);
      return delivery;
    }
    const controller = (delivery.controller = new AbortController());
    let attempt: Promise<TransportResponse>;
    try {
      attempt = Promise.resolve(
        transport({
          url,
          body: record.body,
          headers: delivery.headers(),
          timeoutMs,
          signal: controller.signal,
          onStatus: (status) => delivery.onStatus(status),
        }),
      );
    } catch (error) {
      attempt = Promise.reject(error);
    }
    attempt.then(
      (response) => delivery.onEnd(null, response),
      (error: unknown) => delivery.onEnd(error, null),
    );
    return delivery;
  };

  /** A delivery's final record, stored and logged, from its answer or from why it failed. */
  const outcomeRecord = (
    record: DeliveryRecord,
    recordGeneration: number,
    started: number,
    answered: number | null,
    error: unknown,
    response: TransportResponse | null,
  ): DeliveryRecord => {
    try {
      const latencyMs = Math.round(performance.now() - started);
      if (response !== null) {
        const clamped = clampResponse(response);
        return conclude({ ...record, outcome: outcomeOf(clamped.status), response: clamped, error: null, latencyMs }, recordGeneration);
      }
      if (error instanceof DeliveryStopped) {
        const message =
          error.why !== "timeout"
            ? SHUT_DOWN
            : answered === null
              ? `no answer within ${timeoutMs} ms`
              : `HTTP ${answered} arrived, but not the rest of the answer within ${timeoutMs} ms`;
        const outcome = error.why === "timeout" ? "timeout" : "error";
        return conclude({ ...record, outcome, response: null, error: message, latencyMs }, recordGeneration);
      }
      return conclude({ ...record, outcome: "error", response: null, error: describeNetworkError(error), latencyMs }, recordGeneration);
    } catch (failure) {
      return { ...record, outcome: "error", response: null, error: String(failure) };
    }
  };

  /**
   * Deliveries on the wire in the order they started, for the one shared timeout timer: every delivery gets the same
   * timeout, so their deadlines come in this order and the timer only ever waits for the oldest live one.
   */
  let flights: Flight[] = [];
  let flightsHead = 0;
  let liveFlights = 0;
  let flightTimer: ReturnType<typeof setTimeout> | undefined;

  const takeOff = (flight: Flight) => {
    flights.push(flight);
    liveFlights++;
    if (flightTimer === undefined) armFlightTimer();
  };

  const landed = () => {
    if (--liveFlights > 0) {
      // Let go of the deliveries that have ended at the front, so that a long burst does not keep them all alive.
      while (flightsHead < flights.length && flights[flightsHead]!.ended) flightsHead++;
      if (flightsHead >= 1024 && flightsHead * 2 >= flights.length) {
        flights = flights.slice(flightsHead);
        flightsHead = 0;
      }
      return;
    }
    // Nothing left on the wire: no timer may keep the process alive, and the list starts over.
    clearTimeout(flightTimer);
    flightTimer = undefined;
    flights = [];
    flightsHead = 0;
  };

  const armFlightTimer = () => {
    const oldest = flights[flightsHead];
    if (oldest === undefined) return;
    flightTimer = setTimeout(expireFlights, Math.max(1, Math.ceil(oldest.deadline - performance.now())));
  };

  const expireFlights = () => {
    flightTimer = undefined;
    const now = performance.now();
    while (flightsHead < flights.length) {
      const flight = flights[flightsHead]!;
      if (!flight.ended && flight.deadline > now) break;
      flightsHead++;
      if (!flight.ended) flight.stop(new DeliveryStopped("timeout"));
    }
    // Drop the part of the list that has landed, now and then, so a list that never empties does not grow forever.
    if (flightsHead >= 1024 && flightsHead * 2 >= flights.length) {
      flights = flights.slice(flightsHead);
      flightsHead = 0;
    }
    if (liveFlights > 0 && flightTimer === undefined) armFlightTimer();
  };

  /** Holds a stored record on the sandbox clock; resolves with its final version once sent or cancelled. */
  const hold = (
    record: DeliveryRecord,
    url: URL,
    recordGeneration: number,
    step: Extract<Step, { kind: "hold" }>,
    reorderKey: string | null,
  ): Promise<DeliveryRecord> =>
    new Promise<DeliveryRecord>((settle) => {
      const entry: Held = { record, url, generation: recordGeneration, timer: undefined, reorderKey, settle };
      held.add(entry);
      if (reorderKey !== null) waitingForNext.set(reorderKey, [...(waitingForNext.get(reorderKey) ?? []), entry]);
      entry.timer = clock.setTimer(step.ms, () => void release(entry, step.released));
    });

  /** Lets a held record go: it is sent now. Resolves once it has settled; null when it was no longer held. */
  const release = (entry: Held, detail: string): Promise<DeliveryRecord> | null => {
    if (!unhold(entry)) return null;
    const sent = start({ ...entry.record, faultDetail: detail }, entry.url, entry.generation);
    entry.settle(sent);
    return sent;
  };

  const cancelHeld = (entry: Held, error: string, write: boolean) => {
    if (!unhold(entry)) return;
    const final: DeliveryRecord = { ...entry.record, outcome: "error", dueAt: null, error };
    if (write) save(final, entry.generation);
    logDelivery(final);
    entry.settle(final);
  };

  const unhold = (entry: Held): boolean => {
    if (!held.delete(entry)) return false;
    entry.timer?.cancel();
    if (entry.reorderKey !== null) {
      const rest = (waitingForNext.get(entry.reorderKey) ?? []).filter((other) => other !== entry);
      if (rest.length) waitingForNext.set(entry.reorderKey, rest);
      else waitingForNext.delete(entry.reorderKey);
    }
    return true;
  };

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
      switch (step.kind) {
        case "send":
          return make(index, { outcome: "pending", sentAt: now, faultDetail });
        case "hold":
          return make(index, { outcome: "held", dueAt: now + step.ms, faultDetail });
        case "afterPrevious":
          return make(index, { outcome: "pending", faultDetail });
      }
    });
    for (const record of records) {
      store.addDelivery(record);
      if (record.outcome !== "pending") logDelivery(record);
    }
    if (records.length === 1 && steps[0]!.kind === "send" && !("error" in target)) {
      const begun = begin(records[0]!, target.url, recordGeneration);
      return begun instanceof Delivery ? trackDelivery(records, begun) : { records, settled: track([Promise.resolve(begun)]) };
    }

    let previous: Promise<DeliveryRecord> = Promise.resolve(records[0]!);
    const finals = records.map((record, index) => {
      const step = steps[index]!;
      let final: Promise<DeliveryRecord>;
      if ("error" in target || record.outcome === "dropped") final = Promise.resolve(record);
      else if (step.kind === "hold") final = hold(record, target.url, recordGeneration, step, step.reorder ? reorderKey : null);
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
      const ids: string[] = [];
      for (let count = recordCountOf(fault); ids.length < count; ) ids.push(store.nextDeliveryId());
      const group = ids[0]!;
      const steps = stepsFor(fault, wire.detail, group, ids.length, request.orderUID === null);
      // A uid is a number, so the first line break ends it.
      const reorderKey = request.orderUID === null ? null : `${request.orderUID}\n${request.url}`;
      // This IPN is the next one for any reorder record of the same order still held: claim them before this
      // dispatch's own reorder record (if any) joins the queue.
      const claimed = reorderKey === null ? [] : (waitingForNext.get(reorderKey) ?? []);
      if (reorderKey !== null) waitingForNext.delete(reorderKey);

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
          for (const entry of claimed) await release(entry, `held back, then sent right after the order's next IPN ${group}`);
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
      for (const record of records) {
        if (record.outcome === "pending") {
          conclude({ ...record, outcome: "error", error: INTERRUPTED }, generation);
          continue;
        }
        if (record.outcome !== "held") continue;
        const parsed = parseIpnUrl(record.url, allowedHosts);
        if ("error" in parsed) {
          conclude({ ...record, outcome: "error", dueAt: null, error: parsed.error }, generation);
          continue;
        }
        const due = record.dueAt ?? now;
        const detail = record.faultDetail ?? "held";
        const released = due < now ? `${detail}; sent late: the sandbox was down at its moment` : `${detail}; held across a restart`;
        track([hold(record, parsed.url, generation, { kind: "hold", ms: Math.max(0, due - now), detail, released, reorder: false }, null)]);
      }
    },

    async close(closeOptions = {}) {
      closed = true;
      for (const entry of [...held]) {
        if (closeOptions.keepHeld) {
          // Left as held in the store: the next start takes it over.
          unhold(entry);
          entry.settle(entry.record);
        } else {
          cancelHeld(entry, SHUT_DOWN, true);
        }
      }
      for (const flight of flights.slice(flightsHead)) {
        if (!flight.ended) flight.stop(new DeliveryStopped("shutdown"));
      }
      await idle();
      unsubscribe();
      ownTransport?.destroy();
    },
  };
}

function recordCountOf(fault: NormalizedFault): number {
  if (fault.type === "dropOnce") return 2;
  if (fault.type === "duplicate") return fault.copies;
  return 1;
}

/**
 * How each record of one IPN goes out under `fault`. `bodyDetail` is what applyFault did to the body; `first` is
 * the first record's id.
 */
function stepsFor(fault: NormalizedFault, bodyDetail: string | null, first: string, count: number, testIpn: boolean): Step[] {
  switch (fault.type) {
    case "deliver":
    case "tamperHash":
    case "wrongSecret":
    case "tamperField":
    case "staleTimestamp":
    case "secondsTimestamp":
    case "missingHash":
    case "malformedBody":
      return [{ kind: "send", detail: bodyDetail }];
    case "drop":
      return [{ kind: "drop", detail: "never sent" }];
    case "dropOnce":
      return [
        { kind: "drop", detail: "first copy lost" },
        {
          kind: "hold",
          ms: fault.ms,
          detail: `an identical copy of ${first}, held ${fault.ms} ms`,
          released: `an identical copy of ${first}, sent ${fault.ms} ms after it was lost`,
          reorder: false,
        },
      ];
    case "delay":
      return [{ kind: "hold", ms: fault.ms, detail: `held ${fault.ms} ms`, released: `held ${fault.ms} ms`, reorder: false }];
    case "duplicate":
      return Array.from({ length: count }, (_, index): Step =>
        index === 0
          ? { kind: "send", detail: `copy 1 of ${count}` }
          : { kind: "afterPrevious", detail: `copy ${index + 1} of ${count}` },
      );
    case "reorder":
      if (testIpn) {
        const detail = `a test IPN has no order to reorder with: held ${fault.ms} ms`;
        return [{ kind: "hold", ms: fault.ms, detail, released: detail, reorder: false }];
      }
      return [
        {
          kind: "hold",
          ms: fault.ms,
          detail: `held until the order's next IPN, at most ${fault.ms} ms`,
          released: `no later IPN for the order within ${fault.ms} ms; sent then`,
          reorder: true,
        },
      ];
    default: {
      const unreachable: never = fault;
      throw new Error(`unknown IPN fault ${JSON.stringify((unreachable as { type: unknown }).type)}`);
    }
  }
}

/**
 * The built-in transport: node:http/node:https with one keep-alive agent per protocol. `maxSockets` is counted per
 * origin, so it bounds concurrency towards one merchant while a slow merchant cannot hold up the others' IPNs.
 */
export function createNodeTransport(options: { maxSocketsPerOrigin?: number } = {}): NodeTransport {
  const exchanger = createExchanger(options.maxSocketsPerOrigin ?? DEFAULT_MAX_SOCKETS_PER_ORIGIN);
  return { send: exchanger.send, destroy: exchanger.destroy };
}

/**
 * One POST for the built-in transport's callback entry, which the dispatcher uses to spare a promise and closures per
 * delivery: thousands may wait for a socket at once, so a waiting exchange is this one object and nothing more.
 */
interface Exchange {
  readonly url: URL;
  readonly body: string;
  /** Asked for only once a socket is free, so a waiting exchange holds no headers. */
  headers(): Record<string, string>;
  onStatus(status: number): void;
  /** Called once: with the answer, or with why there is none. */
  onEnd(error: unknown, response: TransportResponse | null): void;
  /** The exchanger's own: how to stop the exchange while it is on the wire (null before and after). */
  sending: Cancel | null;
  /**
   * The exchanger's own: set once the exchange has ended or was cancelled while waiting, so that it is skipped when
   * its turn comes and not stopped again. An ended exchange lets go of its request and answer at once: a burst's
   * queue (and the dispatcher's timeout list) keeps ended exchanges for a while.
   */
  finished: boolean;
}

/** Ends an exchange at once with `reason` (its onEnd gets it) and releases its connection; a no-op once it has ended. */
type Cancel = (reason: unknown) => void;

interface Exchanger extends NodeTransport {
  /** Sends `exchange` now, or once its origin has a free socket. */
  exchange(exchange: Exchange): void;
  /** Ends an exchange at once, sent or waiting, as a Cancel does. */
  cancel(exchange: Exchange, reason: unknown): void;
}

/** The parts of a URL that node:http's request options take, as urlToHttpOptions gives them. */
type RequestTarget = Pick<http.RequestOptions, "protocol" | "hostname" | "port" | "path" | "auth">;

interface OriginSlots {
  active: number;
  waiting: Exchange[];
  head: number;
}

function createExchanger(maxSockets: number): Exchanger {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets }),
    "https:": new https.Agent({ keepAlive: true, maxSockets }),
  };

  // Requests wait for a socket here, per origin, rather than in the agent: an agent's queue is an array it shifts on
  // every freed socket, which is quadratic in a burst of thousands of IPNs, and each queued request would already
  // be a ClientRequest with its headers and buffers.
  const origins = new Map<string, OriginSlots>();

  // The request options of the last URL sent to: a burst of IPNs to one merchant shares one URL object.
  let lastUrl: URL | null = null;
  let lastTarget: { origin: string; options: RequestTarget; isHttps: boolean } | null = null;
  const targetOf = (url: URL) => {
    if (url !== lastUrl || lastTarget === null) {
      const { protocol, hostname, port, path, auth } = urlToHttpOptions(url);
      lastTarget = { origin: url.origin, options: { protocol, hostname, port, path, auth }, isHttps: protocol === "https:" };
      lastUrl = url;
    }
    return lastTarget;
  };

  const exchange = (request: Exchange): void => {
    const target = targetOf(request.url);
    let slots = origins.get(target.origin);
    if (!slots) origins.set(target.origin, (slots = { active: 0, waiting: [], head: 0 }));
    if (slots.active < maxSockets) {
      slots.active++;
      postNow(request, target.origin, target.options, target.isHttps);
      return;
    }
    slots.waiting.push(request);
  };

  const cancel = (request: Exchange, reason: unknown): void => {
    if (request.finished) return;
    if (request.sending !== null) {
      request.sending(reason);
      return;
    }
    // A waiting request that is cancelled ends holding no socket, and so releases none.
    request.finished = true;
    request.onEnd(reason, null);
  };

  /** Posts a request that holds one of its origin's slots. */
  const postNow = (request: Exchange, origin: string, target: RequestTarget, isHttps: boolean) => {
    const stop = post(request, origin, target, isHttps);
    // A request that failed at once has ended already.
    if (!request.finished) request.sending = stop;
  };

  const release = (origin: string) => {
    const slots = origins.get(origin)!;
    while (slots.head < slots.waiting.length) {
      const next = slots.waiting[slots.head++]!;
      // Drop the served part of the queue now and then, so that a queue that never empties does not grow forever.
      if (slots.head >= 1024 && slots.head * 2 >= slots.waiting.length) {
        slots.waiting = slots.waiting.slice(slots.head);
        slots.head = 0;
      }
      if (next.finished) continue;
      const target = targetOf(next.url);
      postNow(next, origin, target.options, target.isHttps);
      return;
    }
    slots.waiting = [];
    slots.head = 0;
    if (--slots.active === 0) origins.delete(origin);
  };

  /** Sends one request holding one of its origin's slots, which it gives back once it has ended. */
  const post = (exchange: Exchange, origin: string, target: RequestTarget, isHttps: boolean): Cancel => {
    let request: http.ClientRequest | null = null;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      exchange.finished = true;
      exchange.sending = null;
      // On the next tick, after the agent has taken back the socket of an answer that just ended, so the next
      // request reuses it rather than queueing in the agent.
      process.nextTick(release, origin);
      return true;
    };
    const fail = (error: unknown) => {
      if (!settle()) return;
      request?.destroy();
      exchange.onEnd(error, null);
    };
    try {
      // Spelled out rather than spread: this literal is made for every IPN.
      request = (isHttps ? https : http).request({
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.path,
        auth: target.auth,
        method: "POST",
        headers: exchange.headers(),
        agent: isHttps ? agents["https:"] : agents["http:"],
      });
    } catch (error) {
      fail(error);
      return fail;
    }
    const sent = request;
    sent.on("error", fail);
    sent.on("response", (response) => {
      exchange.onStatus(response.statusCode ?? 0);
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (complete: boolean) => {
        if (!settle()) return;
        if (!complete) {
          response.destroy();
          sent.destroy();
        }
        exchange.onEnd(null, { status: response.statusCode ?? 0, bodyExcerpt: excerptOf(chunks, size) });
      };
      response.on("data", (chunk: Buffer) => {
        const room = IPN_BODY_READ_LIMIT_BYTES - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          done(false);
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      response.on("end", () => done(true));
      response.on("error", fail);
      // Only build the error when it is one: "close" follows every answer, and an Error's stack is costly.
      response.on("close", () => {
        if (!settled) fail(new IncompleteAnswer());
      });
    });
    sent.end(exchange.body);
    return fail;
  };

  const send: Transport = (request) =>
    new Promise<TransportResponse>((resolve, reject) => {
      const { signal } = request;
      if (signal.aborted) {
        reject(signal.reason);
        return;
      }
      let ended = false;
      const onAbort = () => cancel(sending, signal.reason);
      const sending: Exchange = {
        url: request.url,
        body: request.body,
        headers: () => request.headers,
        onStatus: (status) => request.onStatus?.(status),
        onEnd: (error, response) => {
          ended = true;
          signal.removeEventListener("abort", onAbort);
          if (response !== null) resolve(response);
          else reject(error);
        },
        sending: null,
        finished: false,
      };
      exchange(sending);
      if (!ended) signal.addEventListener("abort", onAbort, { once: true });
    });

  return {
    send,
    exchange,
    cancel,
    destroy() {
      agents["http:"].destroy();
      agents["https:"].destroy();
    },
  };
}

class IncompleteAnswer extends Error {
  readonly code = "INCOMPLETE_ANSWER";
  constructor() {
    super("the connection closed before the answer was complete");
  }
}

function outcomeOf(status: number): DeliveryOutcome {
  return status >= 200 && status <= 299 ? "accepted" : "rejected";
}

/** Holds an injected transport to the same limit as the built-in one. */
function clampResponse(response: TransportResponse): TransportResponse {
  return { status: response.status, bodyExcerpt: cutExcerpt(String(response.bodyExcerpt ?? "")) };
}

/** The excerpt of an answer read as `chunks`, `size` bytes in all. */
function excerptOf(chunks: Buffer[], size: number): string {
  // Most answers are one short chunk ("OK"), which needs no copy.
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  // Four bytes per character at most, so this many bytes always yield the excerpt when the body is that long.
  return cutExcerpt(utf8.decode(bytes.subarray(0, IPN_BODY_EXCERPT_CHARS * 4)));
}

const utf8 = new TextDecoder("utf-8");

function cutExcerpt(text: string): string {
  if (text.length <= IPN_BODY_EXCERPT_CHARS) return text;
  const cut = text.slice(0, IPN_BODY_EXCERPT_CHARS);
  // Do not leave half of a surrogate pair at the end.
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
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

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed while sending",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNABORTED: "connection aborted",
  INCOMPLETE_ANSWER: "the connection closed before the answer was complete",
};

const TLS_ERRORS = new Set([
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

interface NodeNetworkError {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** A short message for a failed delivery, e.g. "connection refused (ECONNREFUSED 127.0.0.1:9)". */
export function describeNetworkError(error: unknown): string {
  if (typeof error !== "object" || error === null) return truncate(String(error));
  const e = error as NodeNetworkError;
  // Happy-eyeballs connects fail with an AggregateError whose members carry the addresses tried.
  const first = Array.isArray(e.errors) && typeof e.errors[0] === "object" ? (e.errors[0] as NodeNetworkError) : e;
  const code = typeof e.code === "string" ? e.code : typeof first.code === "string" ? first.code : undefined;
  const address = first.address ?? e.address;
  const port = first.port ?? e.port;
  const hostname = e.hostname ?? first.hostname;
  const where =
    typeof address === "string"
      ? ` ${address.includes(":") && port !== undefined ? `[${address}]` : address}${port === undefined ? "" : `:${String(port)}`}`
      : typeof hostname === "string"
        ? ` ${hostname}`
        : "";
  if (code === "INCOMPLETE_ANSWER") return NETWORK_ERRORS[code]!;
  if (code !== undefined && NETWORK_ERRORS[code]) return `${NETWORK_ERRORS[code]} (${code}${where})`;
  if (code !== undefined && TLS_ERRORS.has(code)) return `TLS certificate rejected (${code})`;
  if (code !== undefined && code.startsWith("HPE_")) return `invalid HTTP answer (${code})`;
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "request failed";
  return truncate(code !== undefined && !message.includes(code) ? `${message} (${code})` : message);
}

function truncate(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}

function copyFields(fields: IpnFields): IpnFields {
  return { ...fields, toValues: fields.toValues.map((toValue) => ({ ...toValue })) };
}

function validateOptions(
  options: DispatcherOptions,
  resolved: { timeoutMs: number; hashField: string; maxSocketsPerOrigin: number; userAgent: string },
): void {
  const fail = (message: string): never => {
    throw new Error(`createDispatcher: ${message}`);
  };
  const needs = (name: string, value: unknown, methods: string[]) => {
    const missing = methods.filter(
      (method) => typeof (value as Record<string, unknown> | null)?.[method] !== "function",
    );
    if (typeof value !== "object" || value === null || missing.length > 0) {
      fail(`${name} must be an object with ${methods.join(", ")}; missing ${missing.join(", ") || name}`);
    }
  };
  needs("store", options.store, ["addDelivery", "updateDelivery", "getDelivery", "nextDeliveryId", "subscribe"]);
  needs("clock", options.clock, ["now", "setTimer"]);
  needs("logger", options.logger, ["log"]);

  const { timeoutMs, hashField, maxSocketsPerOrigin, userAgent } = resolved;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_IPN_TIMEOUT_MS) {
    fail(`timeoutMs must be a positive integer of milliseconds up to ${MAX_IPN_TIMEOUT_MS}; got ${String(timeoutMs)}`);
  }
  try {
    assertIpnHashField(hashField);
  } catch (error) {
    fail(`hashField: ${(error as Error).message}`);
  }
  if (!Number.isSafeInteger(maxSocketsPerOrigin) || maxSocketsPerOrigin <= 0 || maxSocketsPerOrigin > 1024) {
    fail(`maxSocketsPerOrigin must be a positive integer up to 1024; got ${String(maxSocketsPerOrigin)}`);
  }
  if (typeof userAgent !== "string" || !/^[\x20-\x7e]{1,200}$/.test(userAgent)) {
    fail(`userAgent must be 1-200 printable ASCII characters; got ${JSON.stringify(userAgent)}`);
  }
  if (options.allowedHosts !== undefined) {
    if (!Array.isArray(options.allowedHosts)) fail(`allowedHosts must be a list of host names; got ${typeof options.allowedHosts}`);
    for (const host of options.allowedHosts) {
      try {
        canonicalIpnHost(String(host));
      } catch (error) {
        fail(`allowedHosts: ${(error as Error).message}`);
      }
    }
  }
  if (options.transport !== undefined && typeof options.transport !== "function") {
    fail(`transport must be a function (request) => Promise<{ status, bodyExcerpt }>; got ${typeof options.transport}`);
  }
}
