// The control API's schemas for the OpenAPI description; its request bodies come from the zod schemas that check them.

import type { z } from "zod";
import type { ControlClock, ControlHealth, ScenarioPlay } from "../client/types.js";
import type { ClockKind } from "../clock/index.js";
import { controlBodies } from "../control/index.js";
import { MAX_PAGE_LIMIT } from "../control/listing.js";
import type { orderView } from "../control/views.js";
import { INBOX_VERDICTS, type InboxEntry } from "../inbox/index.js";
import { LANGS } from "../orders/create.js";
import { STATUSES } from "../orders/statuses.js";
import type { HistoryEntry } from "../orders/types.js";
import { withZod } from "../zod.js";
import { orderProperties } from "./merchant-schemas.js";
import { array, boolean, integer, nullable, number, object, ref, string, type PropsOf, type Schema } from "./schema.js";

type ControlOrderView = Omit<ReturnType<typeof orderView>, "deliveries">;

/** Every clock kind, in the order --clock lists them. */
export const CLOCK_KINDS = ["real", "fast", "instant", "manual"] as const satisfies readonly ClockKind[];
// Fails to compile when ClockKind gains a kind this list lacks.
const everyKind: Exclude<ClockKind, (typeof CLOCK_KINDS)[number]> extends never ? true : never = true;
void everyKind;

/** The `type` of a control API error, by the HTTP status it comes with. */
export const CONTROL_ERROR_TYPES = {
  400: ["bad_request"],
  401: ["unauthorized"],
  403: ["forbidden"],
  404: ["not_found"],
  409: ["transition_not_allowed", "conflict", "storage_unavailable"],
  413: ["too_large"],
  421: ["misdirected"],
  500: ["internal"],
} as const;

const controlOrderProps = (): PropsOf<ControlOrderView> => ({
  ...orderProperties("ms"),
  secret: string({ description: "The order's secret: whole in `GET /_sandbox/orders/{uid}` and a move's answer, masked in listings and events." }),
  merchant: nullable(string({ description: "The API key the order was created with (masked); null for a public order." })),
  lang: { enum: [...LANGS] },
  hideOutData: boolean(),
  ipnUrl: nullable(string({ description: "Where its IPNs go; credentials in it are masked in listings and events." })),
  ipnSecret: nullable(string({ description: "Always masked." })),
  depositAddress: string({ description: "Where the client pays (an address for the network that belongs to no one)." }),
  history: array(ref("HistoryEntry")),
  reads: integer({ minimum: 0, description: "How many times the merchant read the order through order/get (how it reconciles a lost IPN)." }),
});

const historyEntry = object<HistoryEntry>({
  from: nullable(ref("OrderStatus")),
  to: ref("OrderStatus"),
  at: integer({ description: "Unix ms on the sandbox clock." }),
  cause: string({ description: "Who moved it: `create`, `api:update-status`, `control`, `control:pay`, `page:pay`, `scenario:…`, `expiry`." }),
  forced: boolean({ description: "The move was outside the transition table, forced." }),
});

const inboxEntry = object<InboxEntry>({
  id: integer({ minimum: 1 }),
  receivedAt: integer({ description: "Unix ms on the sandbox clock." }),
  orderUID: nullable(string()),
  newStatus: nullable(string()),
  timestamp: nullable(string()),
  verdict: { type: "string", enum: [...INBOX_VERDICTS] },
  detail: string({ description: "Why, in a sentence." }),
  body: string({ description: "The body as received." }),
});

const transcript = object<{ scenario: unknown; description: unknown; order: unknown; events: unknown; passed: unknown }>({
  scenario: string(),
  description: string(),
  order: { type: "object", description: "`{uid, route, inAmount, outAmount}` of the order played on." },
  events: array(
    {
      type: "object",
      properties: {
        at: integer({ description: "Sandbox time, Unix ms." }),
        kind: { type: "string", enum: ["status", "ipn", "wait", "waitFor", "expect", "error", "resumed"] },
      },
      required: ["at", "kind"],
      // Each kind has fields of its own: the transcript is for people and reports, its events are not a stable API.
      additionalProperties: true,
    },
    { description: "The play step by step: moves, IPNs and their outcomes, waits, expectations." },
  ),
  passed: boolean({ description: "Every expectation held and no step failed." }),
});

const playMode = (): Schema => ({ type: "string", enum: ["auto", "interactive"] });

/** The request bodies the control API reads with zod, as JSON Schema: what it accepts is what it checks. */
const zodBodies = withZod((z) => {
  const bodies = controlBodies();
  const convert = (schema: z.ZodType): Schema => {
    const { $schema: _dialect, ...converted } = z.toJSONSchema(schema, {
      io: "input",
      // The one custom schema is the delivery fault, checked by normalizeFault: its schema comes from the fault table.
      unrepresentable: "any",
      override: ({ zodSchema, jsonSchema }) => {
        const def = (zodSchema as unknown as { _zod: { def: { type: string; format?: string; protocol?: RegExp; entries?: Record<string, string> } } })._zod.def;
        const target = jsonSchema as Schema;
        if (def.type === "custom") target.$ref = "#/components/schemas/FaultSpec";
        if (def.type === "enum" && JSON.stringify(Object.values(def.entries ?? {})) === JSON.stringify(STATUSES)) {
          for (const key of Object.keys(target)) delete target[key];
          target.$ref = "#/components/schemas/OrderStatus";
        }
        // zod writes a URL as format "uri" alone; the protocols it takes are part of what it checks.
        if (def.format === "url" && def.protocol) target.pattern = `^(?:${def.protocol.source.replace(/^\^|\$$/g, "")}):`;
      },
    }) as Schema;
    return converted;
  };
  return {
    MoveBody: { ...convert(bodies.moveBody), description: "A move: `force` makes one the table forbids (or repeats the current status, as a late duplicate would)." },
    PayBody: { ...convert(bodies.payBody), description: "The client pays; `fault` applies to the IPNs the payment sends." },
    TestIpnBody: {
      ...convert(bodies.testIpnBody),
      description: "A test IPN: built from the order `orderUID` names (with `status`), or from the docs' example order, and signed with `ipnSecret`.",
    },
    AdvanceClockBody: { ...convert(bodies.advanceBody), description: "How far to move the sandbox clock forward, in ms." },
    MaintenanceBody: convert(bodies.maintenanceBody),
  };
});

/** The control API's schemas, for `components.schemas`. */
export function controlSchemas(): Record<string, Schema> {
  const orderProps = controlOrderProps();
  const errorTypes = [...new Set(Object.values(CONTROL_ERROR_TYPES).flat())];
  return {
    ControlError: object<{ error: unknown }>(
      { error: object<{ type: unknown; message: unknown }>({ type: { type: "string", enum: errorTypes }, message: string({ description: "What went wrong and how to fix it." }) }) },
      { description: "A control API error, with a real HTTP status." },
    ),
    Health: object<ControlHealth>({
      ok: { const: true },
      version: string({ description: "The package's version." }),
      seed: integer({ minimum: 0, description: "The seed this sandbox's ids come from: `--seed` repeats them." }),
    }),
    ControlOrder: object<ControlOrderView>(orderProps, { description: "An order as the control API shows it, times in Unix ms." }),
    ControlOrderDetail: object<ControlOrderView & { deliveries: unknown }>(
      { ...orderProps, deliveries: array(ref("Delivery"), { description: "Every IPN of the order, oldest first." }) },
      { description: "One order with its secret whole and its IPN deliveries." },
    ),
    HistoryEntry: historyEntry,
    OrderPage: object<{ orders: unknown; next: unknown }>({
      orders: array(ref("ControlOrder")),
      next: nullable(string({ pattern: "^\\d+$", description: "The cursor of the next page (a uid); null on the last page." })),
    }),
    DeliveryPage: object<{ deliveries: unknown; next: unknown }>({
      deliveries: array(ref("Delivery")),
      next: nullable(string({ pattern: "^d\\d+$", description: "The cursor of the next page (a delivery id); null on the last page." })),
    }),
    Deliveries: object<{ deliveries: unknown }>({ deliveries: array(ref("Delivery"), { minItems: 1, description: "One record per copy sent." }) }),
    Clock: object<ControlClock>({
      kind: { type: "string", enum: [...CLOCK_KINDS] },
      speed: number({ minimum: 0, description: "Sandbox ms per real ms: 1 for `real`, N for `fast:N`, 0 for `instant` and `manual`." }),
      now: integer({ description: "Sandbox time, Unix ms." }),
      iso: string({ format: "date-time" }),
    }),
    Maintenance: object<{ on: unknown }>({ on: boolean({ description: "While on, every merchant API call answers the engine's \"technical work\" error." }) }),
    Ok: object<{ ok: unknown }>({ ok: { const: true } }),
    InboxEntry: inboxEntry,
    Inbox: object<{ inbox: unknown; received: unknown; dropped: unknown }>(
      {
        inbox: string(),
        received: array(ref("InboxEntry"), { description: "What came, oldest first." }),
        dropped: integer({ minimum: 1, description: "How many of the oldest were let go (an inbox keeps its last 1000)." }),
      },
      { optional: ["dropped"] },
    ),
    InboxList: object<{ inboxes: unknown }>({
      inboxes: array(object<{ name: unknown; received: unknown }>({ name: string(), received: integer({ minimum: 0 }) })),
    }),
    ScenarioList: object<{ scenarios: unknown; default: unknown }>({
      scenarios: array(object<{ name: unknown; description: unknown }>({ name: string(), description: string() })),
      default: nullable(string({ description: "The scenario every new order plays (`start --scenario`), or null." })),
    }),
    ScenarioPlay: object<ScenarioPlay>({
      scenario: string(),
      mode: playMode(),
      state: { type: "string", enum: ["running", "passed", "failed"] },
      transcript: nullable(ref("Transcript", "What happened, once the play has ended.")),
    }),
    Transcript: transcript,
    ScenarioStarted: object<{ uid: unknown; scenario: unknown; mode: unknown; state: unknown }>({
      uid: integer({ minimum: 1 }),
      scenario: string(),
      mode: playMode(),
      state: { const: "running" },
    }),
    ScenarioPlayBody: object<{ name: unknown; mode: unknown }>(
      { name: string({ description: "A built-in scenario (`GET /_sandbox/scenarios`)." }), mode: { ...playMode(), default: "auto" } },
      { optional: ["mode"] },
    ),
    ...zodBodies(),
    ControlEvent: {
      description: "The data of one `change` event of `GET /_sandbox/events`, masked as the listings are.",
      oneOf: [
        object<{ kind: unknown; order: unknown }>({ kind: { const: "order" }, order: ref("ControlOrder") }),
        object<{ kind: unknown; delivery: unknown }>({ kind: { const: "delivery" }, delivery: ref("Delivery") }),
        object<{ kind: unknown }>({ kind: { const: "reset" } }),
      ],
    },
  };
}

/** The paging parameters' shared bounds. */
export const PAGE_LIMIT = integer({ minimum: 1, maximum: MAX_PAGE_LIMIT });
