// The control API's paths for the OpenAPI description (/_sandbox/…), with the inbox, scenarios, events and pages.

import { CONTROL_BASE_PATH } from "../control/index.js";
import { DELIVERY_PARAMS, MAX_PAGE_LIMIT, ORDER_PARAMS } from "../control/listing.js";
import { INBOX_NAME, MAX_ENTRIES, MAX_ENTRIES_PER_INBOX, MAX_INBOXES, MAX_KEPT_BODY } from "../inbox/index.js";
import { PAGE_LANGS } from "../pages/i18n.js";
import { DELIVERY_OUTCOMES } from "../store/index.js";
import { CONTROL_ERROR_TYPES } from "./control-schemas.js";
import { ref, type PropsOf, type Schema } from "./schema.js";

type Status = keyof typeof CONTROL_ERROR_TYPES;

interface ControlOp {
  method: "get" | "post";
  operationId: string;
  summary: string;
  description?: string;
  tag?: string;
  parameters?: unknown[];
  /** A JSON body's schema; `optional` when the call may send none. */
  body?: { schema: string; optional?: boolean };
  /** The answer when it works: its status, and its JSON schema or other content. */
  ok: { status: number; description: string; schema?: string; content?: Record<string, unknown> };
  /** The errors this call answers besides the admin token's 401 (and, for a change, 403, 413 and 409). */
  errors?: readonly Status[];
  /** Open without the admin token (the inbox takes IPNs, which carry none). */
  open?: boolean;
  /** A change the store must be able to write: refused with 409 while the data folder cannot be written. */
  writes?: boolean;
}

const ERROR_TEXT: Record<Status, string> = {
  400: "A bad request: the message says what is accepted (`bad_request`).",
  401: "The sandbox was started with an admin token, and none (or a wrong one) came (`unauthorized`).",
  403: "A browser request from another site (`Sec-Fetch-Site` cross-site or same-site) may not change the sandbox (`forbidden`).",
  404: "No such order, delivery, inbox or play (`not_found`).",
  409: "`transition_not_allowed`: the transition table forbids the move (send `force`); `conflict`: a scenario already plays on the order; `storage_unavailable`: the data folder cannot be written, so no change is taken (reads go on).",
  413: "The body is larger than the limit (`too_large`).",
  421: "The Host header names the sandbox by a name it was not given (`misdirected`): DNS rebinding is refused so.",
  500: "A bug in the sandbox (`internal`).",
};

/** The control API's error responses, for `components.responses`. */
export function controlErrorResponses(): Record<string, unknown> {
  return Object.fromEntries(
    (Object.keys(ERROR_TEXT) as unknown as Status[]).map((status) => [
      `Control${status}`,
      { description: ERROR_TEXT[status], content: { "application/json": { schema: ref("ControlError") } } },
    ]),
  );
}

const pathParam = (name: string, schema: Schema, description: string) => ({ name, in: "path", required: true, schema, description });
const UID = pathParam("uid", { type: "integer", minimum: 1 }, "The order's uid.");
const DELIVERY_ID = pathParam("id", { type: "string", pattern: "^d\\d+$" }, "A delivery id, such as `d17`.");
const INBOX = pathParam("name", { type: "string", pattern: INBOX_NAME.source }, "The inbox's name: 1 to 64 letters, digits, `-` or `_`.");

const query = (schemas: Record<string, Schema>) => Object.entries(schemas).map(([name, schema]) => ({ name, in: "query", required: false, schema }));
const ORDER_BY = { type: "string", enum: ["oldest", "newest"], default: "oldest" };
const LIMIT = { type: "integer", minimum: 1, maximum: MAX_PAGE_LIMIT, description: "One page of at most this many items, and a `next` cursor; without it, every item that matches (streamed)." };

const orderQuery: PropsOf<Record<(typeof ORDER_PARAMS)[number], unknown>> = {
  limit: LIMIT,
  cursor: { type: "string", pattern: "^\\d+$", description: "The `next` of the page before." },
  order: ORDER_BY,
  status: ref("OrderStatus"),
  uid: { type: "integer", minimum: 1 },
};
const deliveryQuery: PropsOf<Record<(typeof DELIVERY_PARAMS)[number], unknown>> = {
  limit: LIMIT,
  cursor: { type: "string", pattern: "^d\\d+$", description: "The `next` of the page before." },
  order: ORDER_BY,
  orderUID: { type: "integer", minimum: 1 },
  status: { ...ref("OrderStatus"), description: "The IPN's `newStatus`." },
  outcome: { type: "string", enum: [...DELIVERY_OUTCOMES] },
};

const html = (description: string) => ({ description, content: { "text/html": { schema: { type: "string" } } } });

const OPS: Record<string, ControlOp[]> = {
  "/health": [{ method: "get", operationId: "health", summary: "Is it up", ok: { status: 200, schema: "Health", description: "Up, with its version and seed." } }],
  "/orders": [
    {
      method: "get",
      operationId: "listOrders",
      summary: "List orders",
      description: "Orders with their history, oldest first unless `order=newest`; secrets masked. An unknown parameter, one given twice or a bad value is a 400.",
      parameters: query(orderQuery),
      ok: { status: 200, schema: "OrderPage", description: "A page, or every order that matches with `next: null`." },
      errors: [400],
    },
  ],
  "/orders/{uid}": [
    {
      method: "get",
      operationId: "getOrderDetail",
      summary: "One order",
      description: "With its secret, history, deliveries and how often the merchant read it.",
      parameters: [UID],
      ok: { status: 200, schema: "ControlOrderDetail", description: "The order." },
      errors: [400, 404],
    },
  ],
  "/orders/{uid}/status": [
    {
      method: "post",
      operationId: "moveOrder",
      summary: "Move an order",
      description: "Moves the order as the transition table allows (any move with `force`), and fires its IPN with the delivery fault given.",
      parameters: [UID],
      body: { schema: "MoveBody" },
      ok: { status: 200, schema: "ControlOrderDetail", description: "The order, moved." },
      errors: [400, 404, 409],
      writes: true,
    },
  ],
  "/orders/{uid}/pay": [
    {
      method: "post",
      operationId: "payOrder",
      summary: "The client pays",
      description: "`waitPayment → inProgress`, as the payment page's button does (a `new` order passes through `waitPayment`: one IPN per step).",
      parameters: [UID],
      body: { schema: "PayBody", optional: true },
      ok: { status: 200, schema: "ControlOrderDetail", description: "The order, paid." },
      errors: [400, 404, 409],
      writes: true,
    },
  ],
  "/orders/{uid}/scenario": [
    {
      method: "get",
      operationId: "getScenarioPlay",
      tag: "scenarios",
      summary: "The scenario playing on an order",
      parameters: [UID],
      ok: { status: 200, schema: "ScenarioPlay", description: "The play, and its transcript once it ended." },
      errors: [404],
    },
    {
      method: "post",
      operationId: "playScenario",
      tag: "scenarios",
      summary: "Play a built-in scenario on an order",
      parameters: [UID],
      body: { schema: "ScenarioPlayBody" },
      ok: { status: 202, schema: "ScenarioStarted", description: "The play started." },
      errors: [400, 404, 409],
      writes: true,
    },
  ],
  "/scenarios": [
    { method: "get", operationId: "listScenarios", tag: "scenarios", summary: "The built-in scenarios", ok: { status: 200, schema: "ScenarioList", description: "The library, and the scenario `start --scenario` plays." } },
  ],
  "/deliveries": [
    {
      method: "get",
      operationId: "listDeliveries",
      summary: "List IPN deliveries",
      description: "Every IPN the sandbox sent or deliberately did not send; credentials in URLs masked. `status` filters by the IPN's `newStatus`.",
      parameters: query(deliveryQuery),
      ok: { status: 200, schema: "DeliveryPage", description: "A page, or every delivery that matches with `next: null`." },
      errors: [400],
    },
  ],
  "/deliveries/{id}": [
    { method: "get", operationId: "getDelivery", summary: "One delivery", parameters: [DELIVERY_ID], ok: { status: 200, schema: "Delivery", description: "The delivery, its URL whole." }, errors: [404] },
  ],
  "/deliveries/{id}/resend": [
    {
      method: "post",
      operationId: "resendDelivery",
      summary: "Send a delivery's body again",
      description: "The identical body, at once, as a new record with `resendOf` (a sandbox convenience: the real service never resends).",
      parameters: [DELIVERY_ID],
      ok: { status: 201, schema: "Deliveries", description: "The new record." },
      errors: [404],
      writes: true,
    },
  ],
  "/ipn": [
    {
      method: "post",
      operationId: "sendTestIpn",
      summary: "Fire a test IPN at any URL",
      description: "Built from the order `orderUID` names or from the docs' example order; it belongs to no order, so `reorder` only delays it.",
      body: { schema: "TestIpnBody" },
      ok: { status: 201, schema: "Deliveries", description: "One record per copy." },
      errors: [400, 404],
      writes: true,
    },
  ],
  "/inbox/{name}": [
    {
      method: "post",
      operationId: "postToInbox",
      tag: "inbox",
      summary: "The built-in IPN inbox: an endpoint for an order's ipnUrl",
      description:
        "Answers `200 OK` to any IPN and judges it on its own code path: the docs' sha256 over the fields received, with the `ipnSecret` of the order " +
        `its \`orderUID\` names. Open without the admin token, since the sandbox's own IPNs carry none. In memory: at most ${MAX_INBOXES} inboxes of ${MAX_ENTRIES_PER_INBOX} IPNs and ${MAX_ENTRIES} in all, each body kept up to ${MAX_KEPT_BODY} characters, forgotten on reset.`,
      parameters: [INBOX],
      body: { schema: "IpnBody" },
      ok: { status: 200, description: "Taken, whatever it holds: the verdict is in the listing.", content: { "text/plain": { schema: { const: "OK" } } } },
      errors: [404],
      open: true,
    },
    {
      method: "get",
      operationId: "getInbox",
      tag: "inbox",
      summary: "What an inbox received",
      parameters: [INBOX],
      ok: { status: 200, schema: "Inbox", description: "Oldest first, each with its verdict." },
      errors: [404],
    },
  ],
  "/inbox": [{ method: "get", operationId: "listInboxes", tag: "inbox", summary: "The inboxes", ok: { status: 200, schema: "InboxList", description: "Every inbox that received something." } }],
  "/clock": [{ method: "get", operationId: "getClock", summary: "The sandbox clock", ok: { status: 200, schema: "Clock", description: "Its kind, speed and time." } }],
  "/clock/advance": [
    {
      method: "post",
      operationId: "advanceClock",
      summary: "Move the sandbox clock forward",
      description: "Fires what falls due meanwhile: expiries, held IPNs, scenario waits.",
      body: { schema: "AdvanceClockBody" },
      ok: { status: 200, schema: "Clock", description: "The clock, moved." },
      errors: [400],
      writes: true,
    },
  ],
  "/reset": [
    {
      method: "post",
      operationId: "reset",
      summary: "Forget all orders and deliveries",
      description: "Uids go on from the last one issued (never reused); delivery ids start again at `d1`.",
      ok: { status: 200, schema: "Ok", description: "Forgotten." },
      writes: true,
    },
  ],
  "/maintenance": [
    { method: "get", operationId: "getMaintenance", summary: "Is maintenance on", ok: { status: 200, schema: "Maintenance", description: "Whether it is on." } },
    {
      method: "post",
      operationId: "setMaintenance",
      summary: "Switch maintenance on or off",
      description: "While on, every merchant API call answers the engine's \"technical work\" error (5555555555555555).",
      body: { schema: "MaintenanceBody" },
      ok: { status: 200, schema: "Maintenance", description: "Switched." },
      errors: [400],
    },
  ],
  "/events": [
    {
      method: "get",
      operationId: "events",
      summary: "Server-sent events of order and delivery changes",
      description:
        "`hello` (data `{version}`), then one `change` event per order or delivery change, its data a ControlEvent (`{kind: \"order\" | \"delivery\" | \"reset\", …}`), " +
        "masked as the listings are; `ping` when quiet. Every event has an `id`: a client more than 1024 events behind is dropped, and comes back with " +
        "`Last-Event-ID` for what it missed, or gets a `resync` event (data `{reason}`) when that is no longer kept (the last 4096 are).",
      parameters: [{ name: "Last-Event-ID", in: "header", required: false, schema: { type: "string" }, description: "The id of the last event received." }],
      ok: { status: 200, description: "The stream.", content: { "text/event-stream": { schema: { type: "string" } } } },
    },
  ],
  "/openapi.json": [
    {
      method: "get",
      operationId: "getOpenApi",
      summary: "This description",
      description: "This sandbox's own copy: its server, its IPN checksum field, whether it wants the admin token, and a route of its catalogue in the examples.",
      ok: { status: 200, description: "The OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } },
    },
  ],
  "/": [
    {
      method: "get",
      operationId: "dashboard",
      tag: "dashboard",
      summary: "The dashboard (HTML)",
      description: "A page of orders, newest first, live; `?token=` signs a browser in with the admin token once (a cookie).",
      parameters: query({
        uid: { type: "integer", minimum: 1 },
        status: ref("OrderStatus"),
        cursor: { type: "string" },
        limit: { type: "integer", minimum: 1 },
        token: { type: "string", description: "The admin token, once: it sets the dashboard cookie." },
      }),
      ok: { status: 200, ...html("The dashboard.") },
    },
  ],
};

/** The control API's paths: `adminSecurity` is what a guarded call asks for. */
export function controlApi(adminSecurity: readonly Record<string, string[]>[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [path, ops] of Object.entries(OPS)) {
    const item: Record<string, unknown> = {};
    for (const op of ops) {
      const statuses = new Set<Status>(op.errors ?? []);
      if (!op.open) statuses.add(401);
      if (op.method === "post") {
        statuses.add(403);
        statuses.add(413);
      }
      if (op.writes) statuses.add(409);
      const responses: Record<string, unknown> = {
        [op.ok.status]: { description: op.ok.description, content: op.ok.content ?? { "application/json": { schema: ref(op.ok.schema!) } } },
      };
      for (const status of [...statuses].sort()) responses[status] = { $ref: `#/components/responses/Control${status}` };
      item[op.method] = {
        tags: [op.tag ?? "control API"],
        operationId: op.operationId,
        summary: op.summary,
        ...(op.description === undefined ? {} : { description: op.description }),
        security: op.open ? [{}] : adminSecurity,
        ...(op.parameters === undefined ? {} : { parameters: op.parameters }),
        ...(op.body === undefined
          ? {}
          : {
              requestBody: {
                required: op.body.optional !== true,
                content: { [op.body.schema === "IpnBody" ? "application/x-www-form-urlencoded" : "application/json"]: { schema: ref(op.body.schema) } },
              },
            }),
        responses,
      };
    }
    paths[`${CONTROL_BASE_PATH}${path}`] = item;
  }
  return paths;
}

/** The buyer's pages the docs name: HTML, no authorization (the order's secret is in the path). */
export function pagePaths(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [kind, summary] of [
    ["payment", "The payment page: what to send, where, how much, until when"],
    ["order", "The order page, as every client sees it"],
  ] as const) {
    paths[`/{lang}/${kind}/{uid}/{secret}/`] = {
      get: {
        tags: ["pages"],
        operationId: `${kind}Page`,
        summary,
        description: "Also without the trailing slash. An unknown uid and a wrong secret give the same 404 page.",
        parameters: [
          pathParam("lang", { type: "string", enum: [...PAGE_LANGS] }, "The page's language."),
          UID,
          pathParam("secret", { type: "string" }, "The order's secret."),
        ],
        responses: { "200": html("The page."), "404": html("No such order, or a wrong secret.") },
      },
    };
  }
  return paths;
}
