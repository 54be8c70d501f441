// The IPN's data shapes: the fields the exchanger sends, delivery faults and the delivery record.

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

/** What the dispatcher does with one IPN. The scenario engine adds more faults later. */
export const FAULTS = ["deliver", "drop"] as const;
export type Fault = (typeof FAULTS)[number];

export type DeliveryOutcome =
  /** Queued or in flight. */
  | "pending"
  /** The merchant answered 2xx. */
  | "accepted"
  /** The merchant answered, but not 2xx. */
  | "rejected"
  /** No answer within the IPN timeout. */
  | "timeout"
  /** Could not connect, or the connection broke. */
  | "error"
  /** Deliberately not sent (fault `drop`). */
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
  /** The checksum field's name and value as sent. */
  hashField: string;
  hash: string;
  /** The exact string that was hashed (secret masked), so a merchant can compare with theirs. */
  hashedString: string;
  fault: Fault;
  outcome: DeliveryOutcome;
  /** Sandbox-clock ms when the request was started (or deliberately skipped). */
  sentAt: number;
  response: { status: number; bodyExcerpt: string } | null;
  latencyMs: number | null;
  error: string | null;
  /** Set when this record is a resend of another (a sandbox convenience; the real service never resends). */
  resendOf: string | null;
}
