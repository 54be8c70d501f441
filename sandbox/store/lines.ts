// The journal's records, one JSON object a line, and the schema each is checked against when it is read back.

import type * as Zod from "zod";
import { NETWORKS } from "../catalog/index.js";
import type { Network } from "../catalog/types.js";
import { FAULTS } from "../ipn/fault-table.js";
import type { DeliveryOutcome, DeliveryRecord } from "../ipn/types.js";
import { LANGS } from "../orders/create.js";
import { STATUSES } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";
import { withZod } from "../zod.js";

/** The journal format this version writes and reads; a journal with another header is refused, never guessed at. */
export const JOURNAL_VERSION = 1;

export type JournalLine =
  | { t: "header"; version: number }
  | { t: "order"; v: Order }
  | { t: "delivery"; v: DeliveryRecord }
  | { t: "meta"; k: string; v?: unknown }
  | { t: "reset" }
  /** The highest uid ever issued, kept by compaction when a reset has forgotten its order: uids never come back. */
  | { t: "uids"; last: number }
  | { t: "clock"; now: number; wall: number };

/** Every delivery outcome, so that the schema (and the listings' filter) take exactly those the dispatcher records. */
export const DELIVERY_OUTCOMES = ["pending", "held", "accepted", "rejected", "timeout", "error", "dropped"] as const satisfies readonly DeliveryOutcome[];
// Fails to compile when DeliveryOutcome gains a member this list lacks.
const everyOutcome: Exclude<DeliveryOutcome, (typeof DELIVERY_OUTCOMES)[number]> extends never ? true : never = true;
void everyOutcome;

/**
 * The line schema. Objects are loose: a field a later version adds is kept rather than dropped, while every field
 * the sandbox relies on is checked. Typed against Order and DeliveryRecord, so a new required field fails to compile.
 */
const lineSchema = withZod((z) => {
  const int = z.number().int();
  const ms = z.number().finite();
  const value = z.looseObject({ _id: z.string(), field: z.string(), name: z.string(), value: z.string() });
  const currency = z.looseObject({
    _id: z.string(),
    name: z.string(),
    symbol: z.string(),
    xml: z.string(),
    decimal: int.min(0),
    network: z.enum(NETWORKS as [Network, ...Network[]]),
  });
  const status = z.enum(STATUSES);
  const order: Zod.ZodType<Order> = z.looseObject({
    _id: z.string(),
    uid: int.positive(),
    rid: z.string(),
    secret: z.string(),
    partner: z.string().nullable(),
    merchant: z.string().nullable(),
    route: z.looseObject({ routeId: z.string(), from: currency, to: currency, manual: z.boolean() }),
    inAmount: z.string(),
    outAmount: z.string(),
    rate: z.string(),
    fromValues: z.array(value),
    toValues: z.array(value),
    routeValues: z.array(value),
    status,
    createdAt: ms,
    expiresAt: ms,
    lang: z.enum(LANGS),
    agreement: z.boolean(),
    hideOutData: z.boolean(),
    clientCallbackUrl: z.string().nullable(),
    ipnUrl: z.string().nullable(),
    ipnSecret: z.string().nullable(),
    depositAddress: z.string(),
    history: z.array(z.looseObject({ from: status.nullable(), to: status, at: ms, cause: z.string(), forced: z.boolean() })),
  });
  const delivery: Zod.ZodType<DeliveryRecord> = z.looseObject({
    id: z.string().regex(/^d\d{1,15}$/, 'expected "d" and a number'),
    orderUID: int.positive().nullable(),
    status: z.string(),
    url: z.string(),
    body: z.string(),
    fields: z.looseObject({
      orderUID: z.string(),
      orderId: z.string(),
      newStatus: z.string(),
      inAmount: z.string(),
      outAmount: z.string(),
      xml_from: z.string(),
      xml_to: z.string(),
      timestamp: z.string(),
      toValues: z.array(z.looseObject({ key: z.string(), name: z.string(), value: z.string() })),
    }),
    hashField: z.string(),
    hash: z.string().nullable(),
    hashedString: z.string().nullable(),
    fault: z.enum(FAULTS),
    faultDetail: z.string().nullable(),
    outcome: z.enum(DELIVERY_OUTCOMES),
    dueAt: ms.nullable(),
    group: z.string(),
    sentAt: ms.nullable(),
    response: z.looseObject({ status: int, bodyExcerpt: z.string() }).nullable(),
    latencyMs: ms.nullable(),
    error: z.string().nullable(),
    resendOf: z.string().nullable(),
  });
  const line: Zod.ZodType<JournalLine> = z.discriminatedUnion("t", [
    z.strictObject({ t: z.literal("header"), version: int }),
    z.strictObject({ t: z.literal("order"), v: order }),
    z.strictObject({ t: z.literal("delivery"), v: delivery }),
    z.strictObject({ t: z.literal("meta"), k: z.string(), v: z.unknown().optional() }),
    z.strictObject({ t: z.literal("reset") }),
    z.strictObject({ t: z.literal("uids"), last: int.positive() }),
    z.strictObject({ t: z.literal("clock"), now: ms, wall: ms }),
  ]);
  return line;
});

export type ParsedLine = { ok: true; line: JournalLine } | { ok: false; reason: string };

const KINDS = ["header", "order", "delivery", "meta", "reset", "uids", "clock"];

/** Reads one line of text as a journal record, or says what is wrong with it. */
export function parseLine(text: string): ParsedLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const kind = typeof json === "object" && json !== null && !Array.isArray(json) ? (json as { t?: unknown }).t : undefined;
  if (typeof kind !== "string" || !KINDS.includes(kind)) {
    return { ok: false, reason: `not a journal record (expected an object whose "t" is one of ${KINDS.join(", ")}, got ${preview(json)})` };
  }
  const parsed = lineSchema().safeParse(json);
  if (parsed.success) return { ok: true, line: parsed.data };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return { ok: false, reason: `not a valid ${kind} record (${where}${issue.message})` };
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The journal line for a record, newline included. */
export function lineText(line: JournalLine): string {
  return JSON.stringify(line) + "\n";
}
