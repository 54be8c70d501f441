// The sandbox's own control API under /_sandbox/: inspect and move orders, deliveries, the clock; real HTTP statuses.

import { Hono, type Context, type MiddlewareHandler } from "hono";
import type { z } from "zod";
import { cheapBodyLimit } from "../body-limit.js";
import type { Clock } from "../clock/index.js";
import { ControlError } from "../errors.js";
import { normalizeFault, type DeliveryRecord, type Dispatcher, type FaultSpec, type IpnFields } from "../ipn/index.js";
import { ipnFieldsFor, MoveRefused, type OrderService } from "../orders/service.js";
import { STATUSES } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";
import { ipnHostRefusal, isIpnHostAllowed } from "../secure.js";
import { StoreUnavailableError, type Store } from "../store/index.js";
import { createEventHub, type EventHubOptions } from "./events.js";
import { listDeliveries, listOrders } from "./listing.js";
import { storageRefusal } from "./storage-guard.js";
import { orderView } from "./views.js";
import { withZod } from "../zod.js";

export const CONTROL_BASE_PATH = "/_sandbox";

/** True for the control API, the dashboard and every extension's route: all of /_sandbox and below. */
export function isControlPath(path: string): boolean {
  return path === CONTROL_BASE_PATH || path.startsWith(`${CONTROL_BASE_PATH}/`);
}

/**
 * Refuses a body over `maxBytes` anywhere under /_sandbox with 413 JSON, extensions' routes included; install it on
 * the root app, before them, for the paths under CONTROL_BASE_PATH.
 */
export function controlBodyLimit(maxBytes: number): MiddlewareHandler {
  return cheapBodyLimit(maxBytes, (c) => {
    // The rest of the body stays unread, so the connection cannot be reused: tell the client to close it.
    c.header("Connection", "close");
    return c.json({ error: { type: "too_large", message: `The body is larger than ${maxBytes} bytes` } }, 413);
  });
}

export interface ControlDeps {
  version: string;
  /** The sandbox's seed, shown by /health so that a run can be repeated with --seed. */
  seed: number;
  store: Store;
  orders: OrderService;
  dispatcher: Dispatcher;
  clock: Clock;
  maintenance: { get(): boolean; set(on: boolean): void };
  /** The only hosts a test IPN may go to (canonical, see canonicalIpnHost); null allows any. */
  ipnAllow: readonly string[] | null;
  /** Bounds of the event stream's history and of each client's lag. */
  events?: EventHubOptions;
}

/** The bodies the control API takes, made from zod on first use; the OpenAPI description is made from them too. */
export const controlBodies = withZod((z) => {
  const statusSchema = z.enum(STATUSES);
  /** A fault name or `{type, ...params}`; a bad one gets normalizeFault's message, which lists the valid choices. */
  const faultSchema = z.custom<FaultSpec>().superRefine((value, ctx) => {
    const result = normalizeFault(value);
    if (!result.ok) ctx.addIssue({ code: "custom", message: result.message });
  });

  const moveBody = z.strictObject({
    status: statusSchema,
    fault: faultSchema.optional(),
    force: z.boolean().optional(),
  });
  const payBody = z.strictObject({ fault: faultSchema.optional() });
  const testIpnBody = z.strictObject({
    ipnUrl: z.url({ protocol: /^https?$/, error: "expected an absolute http or https URL" }),
    ipnSecret: z.string().min(1).max(256),
    status: statusSchema,
    fault: faultSchema.optional(),
    orderUID: z.number().int().positive().optional(),
  });
  const advanceBody = z.strictObject({ ms: z.number().int().min(0).max(10 * 365 * 24 * 3600_000) });
  const maintenanceBody = z.strictObject({ on: z.boolean() });
  return { moveBody, payBody, testIpnBody, advanceBody, maintenanceBody };
});

/** The docs' example order, used for a test IPN that names no order. */
export const SAMPLE_IPN: Omit<IpnFields, "newStatus" | "timestamp"> = {
  orderUID: "1409",
  orderId: "5d8e6002b80b7b4cd75a6424",
  inAmount: "2",
  outAmount: "317.42",
  xml_from: "ETH",
  xml_to: "WMZ",
  toValues: [{ key: "5d8e6002b80b7b4cd75a6425", name: "WMZ purse", value: "Z123456789012" }],
};

/** Builds the control sub-app; mount it at CONTROL_BASE_PATH. */
export function createControlApi(deps: ControlDeps): Hono {
  const { store, orders, dispatcher, clock } = deps;
  const app = new Hono();
  const events = createEventHub(store, deps.events);

  app.onError((error, c) => {
    if (error instanceof ControlError) return c.json({ error: { type: error.type, message: error.message } }, error.status);
    if (error instanceof StoreUnavailableError) return storageRefusal(c, error.reason);
    throw error;
  });

  app.get("/health", (c) => c.json({ ok: true, version: deps.version, seed: deps.seed }));

  app.get("/orders", (c) => listOrders(c, store, orders));

  app.get("/orders/:uid", (c) => {
    const order = requireOrder(c.req.param("uid"));
    return c.json(orderView(order, store.listDeliveries({ orderUID: order.uid }), orders.readCount(order.uid)));
  });

  app.post("/orders/:uid/status", async (c) => {
    const order = requireOrder(c.req.param("uid"));
    const body = await readBody(c, controlBodies().moveBody);
    const moved = moveOrRefuse(() =>
      orders.move(order.uid, body.status, { cause: "control", force: body.force ?? false, fault: body.fault ?? "deliver" }),
    );
    return c.json(orderView(moved, store.listDeliveries({ orderUID: moved.uid }), orders.readCount(moved.uid)));
  });

  app.post("/orders/:uid/pay", async (c) => {
    const order = requireOrder(c.req.param("uid"));
    const body = await readBody(c, controlBodies().payBody);
    const moved = moveOrRefuse(() => orders.pay(order.uid, "control:pay", body.fault ?? "deliver"));
    return c.json(orderView(moved, store.listDeliveries({ orderUID: moved.uid }), orders.readCount(moved.uid)));
  });

  app.get("/deliveries", (c) => listDeliveries(c, store));

  app.get("/deliveries/:id", (c) => c.json(requireDelivery(c.req.param("id"))));

  app.post("/deliveries/:id/resend", (c) => {
    const original = requireDelivery(c.req.param("id"));
    const resent = store.guard(() => dispatcher.resend(original.id));
    if (!resent) throw new ControlError(404, "not_found", `No delivery ${original.id}`);
    return c.json({ deliveries: resent.records }, 201);
  });

  app.post("/ipn", async (c) => {
    const body = await readBody(c, controlBodies().testIpnBody);
    const target = new URL(body.ipnUrl);
    if (!isIpnHostAllowed(target, deps.ipnAllow)) {
      throw new ControlError(400, "bad_request", `ipnUrl: ${ipnHostRefusal(target)}; this sandbox sends IPNs only to ${deps.ipnAllow!.join(", ")}`);
    }
    const order = body.orderUID === undefined ? undefined : requireOrder(String(body.orderUID));
    const fields: IpnFields = order
      ? ipnFieldsFor({ ...order, status: body.status }, clock.now())
      : { ...SAMPLE_IPN, newStatus: body.status, timestamp: String(clock.now()) };
    const { records } = store.guard(() =>
      dispatcher.dispatch({
        orderUID: null,
        url: body.ipnUrl,
        secret: body.ipnSecret,
        fields,
        fault: body.fault ?? "deliver",
      }),
    );
    return c.json({ deliveries: records }, 201);
  });

  app.get("/clock", (c) => c.json(clockView(clock)));

  app.post("/clock/advance", async (c) => {
    const body = await readBody(c, controlBodies().advanceBody);
    clock.advance(body.ms);
    return c.json(clockView(clock));
  });

  app.post("/reset", (c) => {
    store.guard(() => store.reset());
    return c.json({ ok: true });
  });

  app.get("/maintenance", (c) => c.json({ on: deps.maintenance.get() }));

  app.post("/maintenance", async (c) => {
    const body = await readBody(c, controlBodies().maintenanceBody);
    deps.maintenance.set(body.on);
    return c.json({ on: deps.maintenance.get() });
  });

  app.get("/events", (c) => events.serve(c, deps.version));

  // A catch-all route rather than notFound(): a mounted sub-app's notFound handler is not consulted.
  app.all("/*", (c) =>
    c.json({ error: { type: "not_found", message: `No control endpoint ${c.req.method} ${c.req.path}; see docs/control-api.md in the exchanger-sandbox package` } }, 404),
  );

  function requireOrder(raw: string): Order {
    const uid = parseUid(raw);
    const order = store.getOrder(uid);
    if (!order) throw new ControlError(404, "not_found", `No order ${uid}`);
    return order;
  }

  function requireDelivery(id: string): DeliveryRecord {
    const record = store.getDelivery(id);
    if (!record) throw new ControlError(404, "not_found", `No delivery ${id}`);
    return record;
  }

  return app;
}

function parseUid(raw: string): number {
  const uid = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(uid) || uid < 1) {
    throw new ControlError(400, "bad_request", `An order uid is a positive integer, got ${JSON.stringify(raw)}`);
  }
  return uid;
}

function moveOrRefuse(move: () => Order): Order {
  try {
    return move();
  } catch (error) {
    if (error instanceof MoveRefused) {
      const anyway = error.reason === "same" ? `send "force": true to send ${error.to} again, as a late duplicate would` : `send "force": true to move it anyway`;
      throw new ControlError(409, "transition_not_allowed", `${error.message}; ${anyway}`);
    }
    throw error;
  }
}

async function readBody<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const text = await c.req.text();
  let json: unknown = {};
  if (text.trim() !== "") {
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new ControlError(400, "bad_request", `The body is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
    throw new ControlError(400, "bad_request", `${where}${issue.message}`);
  }
  return parsed.data;
}

function clockView(clock: Clock) {
  const now = clock.now();
  return { kind: clock.kind, speed: clock.speed, now, iso: new Date(now).toISOString() };
}
