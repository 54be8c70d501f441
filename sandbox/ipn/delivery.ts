// One record on its way: handed to the transport, watched by the IPN timeout, and ended with its final record.

import type { Clock } from "../clock/index.js";
import type { Logger } from "../log/index.js";
import { createDeadlines, type Flight, type WallClock } from "./deadlines.js";
import { IPN_CONTENT_TYPE } from "./encode.js";
import { describeNetworkError } from "./network-errors.js";
import { cutExcerpt, type Sending, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";
import type { DeliveryOutcome, DeliveryRecord } from "./types.js";

export const SHUT_DOWN = "sandbox shut down";

export interface DeliveriesOptions {
  transport: Transport;
  clock: Pick<Clock, "now">;
  /** What the IPN timeout and latency are measured on. */
  wallClock: WallClock;
  timeoutMs: number;
  userAgent: string;
  /** Stores a later version of a record (unless its generation is gone). */
  save(record: DeliveryRecord, generation: number): void;
  /** Stores and logs a record's final version, and returns it. */
  conclude(record: DeliveryRecord, generation: number): DeliveryRecord;
}

/** A record under way: ends once, with its final version. */
export interface Delivery {
  /** The record's final version, once the delivery has ended. */
  readonly final: DeliveryRecord | null;
  /** Calls `listener` with the final record: at once if the delivery has ended, else when it does. One listener. */
  whenDone(listener: (final: DeliveryRecord, delivery: Delivery) => void): void;
  /** Made only when someone asks for the dispatch's `settled` before the delivery has ended. */
  resolveSettled: ((records: DeliveryRecord[]) => void) | null;
}

export interface Deliveries {
  /** Hands a pending record to the transport now. */
  send(record: DeliveryRecord, url: URL, generation: number): Delivery;
  /**
   * Ends every delivery under way, for a shutdown: each is recorded as shut down, except, with `keepQueued`, one
   * still queued, which is left pending in the store for a durable store's next start to send.
   */
  stopAll(options: { keepQueued: boolean }): void;
}

export function createDeliveries(options: DeliveriesOptions): Deliveries {
  const { transport, clock, wallClock, timeoutMs, userAgent, save, conclude } = options;
  const deadlines = createDeadlines<Sent>(wallClock);

  /**
   * The request the transport sends and the flight the IPN timeout watches, in one. A burst queues thousands of these
   * for a few connections, so a delivery is this one object; a class, so its methods are shared.
   */
  class Sent implements Delivery, TransportRequest, Flight {
    readonly deadline: number;
    ended = false;
    /** The answer's status, once its head has arrived: a merchant that then stalls is told apart from a silent one. */
    answered: number | null = null;
    sending: Sending | null = null;
    final: DeliveryRecord | null = null;
    listener: ((final: DeliveryRecord, delivery: Delivery) => void) | null = null;
    resolveSettled: ((records: DeliveryRecord[]) => void) | null = null;

    constructor(
      public record: DeliveryRecord,
      readonly url: URL,
      readonly generation: number,
    ) {
      this.deadline = wallClock.now() + timeoutMs;
    }

    get body(): string {
      return this.record.body;
    }

    get headers(): Record<string, string> {
      return {
        "Content-Type": IPN_CONTENT_TYPE,
        "Content-Length": String(Buffer.byteLength(this.record.body)),
        "User-Agent": userAgent,
      };
    }

    onSent(): void {
      if (this.ended || this.record.sentAt !== null) return;
      // Stored before the request is written, so that after a crash it counts as in flight and is never sent twice.
      this.record = { ...this.record, sentAt: clock.now() };
      save(this.record, this.generation);
    }

    onStatus(status: number): void {
      this.answered = status;
    }

    onEnd(error: unknown, response: TransportResponse | null): void {
      if (this.ended) return;
      // Every delivery has the same timeout, so the deadline also tells when it started.
      this.finish(() => finalRecord(this, Math.round(wallClock.now() - (this.deadline - timeoutMs)), error, response));
    }

    stop(why: "timeout" | "shutdown"): void {
      const sending = this.sending;
      // Ended here rather than by the transport, so a transport that ignores the cancel cannot hang a delivery.
      this.onEnd(new DeliveryStopped(why), null);
      sending?.cancel(new DeliveryStopped(why));
    }

    /** Ends a delivery still queued without recording an end: the store keeps it pending, never sent. */
    keep(): void {
      const sending = this.sending;
      if (this.ended) return;
      this.finish(() => this.record);
      sending?.cancel(new DeliveryStopped("shutdown"));
    }

    private finish(final: () => DeliveryRecord): void {
      this.ended = true;
      this.sending = null;
      deadlines.landed();
      this.final = final();
      this.listener?.(this.final, this);
      this.listener = null;
    }

    whenDone(listener: (final: DeliveryRecord, delivery: Delivery) => void): void {
      if (this.final !== null) listener(this.final, this);
      else this.listener = listener;
    }
  }

  /** A delivery's final record, stored and logged, from its answer or from why it failed. */
  const finalRecord = (delivery: Sent, latencyMs: number, error: unknown, response: TransportResponse | null): DeliveryRecord => {
    const { record, generation, answered } = delivery;
    try {
      if (response !== null) {
        // An injected transport is held to the same excerpt as the built-in one.
        const clamped = { status: response.status, bodyExcerpt: cutExcerpt(String(response.bodyExcerpt ?? "")) };
        return conclude({ ...record, outcome: outcomeOf(clamped.status), response: clamped, error: null, latencyMs }, generation);
      }
      if (error instanceof DeliveryStopped) {
        const message =
          error.why !== "timeout"
            ? SHUT_DOWN
            : record.sentAt === null
              ? `not sent within ${timeoutMs} ms: no connection to the merchant was free or could be made`
              : answered === null
                ? `no answer within ${timeoutMs} ms`
                : `HTTP ${answered} arrived, but not the rest of the answer within ${timeoutMs} ms`;
        const outcome = error.why === "timeout" ? "timeout" : "error";
        return conclude({ ...record, outcome, response: null, error: message, latencyMs }, generation);
      }
      // A connection that could not be made was still an attempt to send it: dated by its failure.
      const sentAt = record.sentAt ?? clock.now();
      return conclude({ ...record, outcome: "error", sentAt, response: null, error: describeNetworkError(error), latencyMs }, generation);
    } catch (failure) {
      return { ...record, outcome: "error", response: null, error: String(failure) };
    }
  };

  return {
    send(record, url, generation) {
      const delivery = new Sent(record, url, generation);
      deadlines.add(delivery);
      let sending: Sending;
      try {
        sending = transport.send(delivery);
      } catch (error) {
        delivery.onEnd(error, null);
        return delivery;
      }
      if (!delivery.ended) delivery.sending = sending;
      return delivery;
    },
    stopAll({ keepQueued }) {
      for (const delivery of deadlines.live()) {
        if (keepQueued && delivery.record.sentAt === null) delivery.keep();
        else delivery.stop("shutdown");
      }
    },
  };
}

/** One log line for a record that has settled, or that will not be sent. A broken logger never breaks deliveries. */
export function logIpn(logger: Logger, record: DeliveryRecord): void {
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
    // Nothing to do: the record is stored either way.
  }
}

class DeliveryStopped extends Error {
  constructor(readonly why: "timeout" | "shutdown") {
    super(why === "timeout" ? "IPN timed out" : SHUT_DOWN);
  }
}

function outcomeOf(status: number): DeliveryOutcome {
  return status >= 200 && status <= 299 ? "accepted" : "rejected";
}
