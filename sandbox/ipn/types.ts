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

/**
 * What the dispatcher does with one IPN: deliver it as the real service would, or break its delivery in one of
 * the ways a merchant must survive. The one source of truth for fault names and what each means.
 */
export const FAULTS = [
  "deliver",
  "drop",
  "dropOnce",
  "delay",
  "duplicate",
  "reorder",
  "tamperHash",
  "wrongSecret",
  "tamperField",
  "staleTimestamp",
  "secondsTimestamp",
  "missingHash",
  "malformedBody",
] as const;
export type Fault = (typeof FAULTS)[number];

/** One line per fault, for --help, the docs and the dashboard. */
export const FAULT_DESCRIPTIONS: Record<Fault, string> = {
  deliver: "sent once, as the real service does",
  drop: "never sent (the real service does not guarantee delivery)",
  dropOnce: "the first send is lost; an identical copy arrives `ms` later (default 30 s of sandbox time)",
  delay: "sent `ms` later (default 5 s of sandbox time)",
  duplicate: "`copies` identical copies (default 2), one after another",
  reorder: "held back and sent just after the order's next IPN (or after `ms`, default 60 s, if none comes)",
  tamperHash: "the hash is altered: one hex digit changed",
  wrongSecret: "signed with another secret than the order's ipnSecret",
  tamperField: "`field` (default outAmount) changed after signing",
  staleTimestamp: "validly signed, but the timestamp is `ms` old (default 24 h)",
  secondsTimestamp: "validly signed over a timestamp in seconds instead of milliseconds",
  missingHash: "no checksum field at all",
  malformedBody: "a body that is not valid form encoding",
};

/** The IPN fields `tamperField` may change. */
export const TAMPERABLE_FIELDS = ["orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"] as const;
export type TamperableField = (typeof TAMPERABLE_FIELDS)[number];

/** A fault with its parameters; a bare name (e.g. "delay") means the defaults. */
export type FaultSpec =
  | Fault
  | { type: "deliver" | "drop" | "tamperHash" | "wrongSecret" | "secondsTimestamp" | "missingHash" | "malformedBody" }
  | { type: "dropOnce"; ms?: number }
  | { type: "delay"; ms?: number }
  | { type: "duplicate"; copies?: number }
  | { type: "reorder"; ms?: number }
  | { type: "tamperField"; field?: TamperableField }
  | { type: "staleTimestamp"; ms?: number };

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
  /** Sandbox-clock ms when the request was started (or deliberately skipped); null while held or queued. */
  sentAt: number | null;
  response: { status: number; bodyExcerpt: string } | null;
  latencyMs: number | null;
  error: string | null;
  /** Set when this record is a resend of another (a sandbox convenience; the real service never resends). */
  resendOf: string | null;
}
