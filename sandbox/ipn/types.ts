// The IPN's data shapes: the fields the exchanger sends and the delivery record.

import type { Fault } from "./fault-table.js";

/** One recipient requisite as the IPN carries it: `toValues[i][key|name|value]`. */
export interface IpnToValue {
  key: string;
  name: string;
  value: string;
}

/** Everything an IPN carries except the checksum, as the strings that go on the wire. */
export interface IpnFields {
  orderUID: string;
  orderId: string;
  newStatus: string;
  inAmount: string;
  outAmount: string;
  xml_from: string;
  xml_to: string;
  /** Unix time in milliseconds, as a decimal string. */
  timestamp: string;
  toValues: IpnToValue[];
}

/** A copy of `fields` that shares nothing with it. */
export function copyFields(fields: IpnFields): IpnFields {
  return { ...fields, toValues: fields.toValues.map((toValue) => ({ ...toValue })) };
}

export type DeliveryOutcome =
  /** Queued or in flight. */
  | "pending"
  /** Held back by a timing fault (dropOnce, delay, reorder) until `dueAt` or, for reorder, the order's next IPN. */
  | "held"
  /** The merchant answered 2xx. */
  | "accepted"
  /** The merchant answered, but not 2xx. */
  | "rejected"
  /** No answer within the IPN timeout. */
  | "timeout"
  /** Could not connect, or the connection broke. */
  | "error"
  /** Deliberately not sent (fault `drop`, or the lost first copy of `dropOnce`). */
  | "dropped";

export interface DeliveryRecord {
  /** "d" + a running number, e.g. "d17". */
  id: string;
  /** null for a test IPN fired through the control API without an order. */
  orderUID: number | null;
  /** The IPN's newStatus. */
  status: string;
  url: string;
  /** The exact form-urlencoded body sent (or that would have been sent). */
  body: string;
  /** The fields as sent, decoded, for display. */
  fields: IpnFields;
  /** The checksum field's name and value as sent; the value is null when no readable checksum was sent. */
  hashField: string;
  hash: string | null;
  /** The exact string that was hashed (secret masked), so a merchant can compare with theirs; null without a checksum. */
  hashedString: string | null;
  /** The fault applied to the IPN this record belongs to ("deliver" when none). */
  fault: Fault;
  /** What the fault did to this record, e.g. "first copy lost" or "outAmount changed after signing: 317.42 → 3174.2". */
  faultDetail: string | null;
  outcome: DeliveryOutcome;
  /** Sandbox-clock ms when a held record is due to be sent; null when it is not held. */
  dueAt: number | null;
  /** The id of the first record of the same dispatch, so the copies of one IPN (duplicate, dropOnce) group together. */
  group: string;
  /**
   * Sandbox-clock ms when the copy went on the wire (or was deliberately skipped, or its connection failed); null
   * while held or queued, so that after a crash a queued copy is told from one the merchant may have had.
   */
  sentAt: number | null;
  response: { status: number; bodyExcerpt: string } | null;
  latencyMs: number | null;
  error: string | null;
  /** Set when this record is a resend of another (a sandbox convenience; the real service never resends). */
  resendOf: string | null;
}
