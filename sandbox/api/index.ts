// The exchanger's public merchant API under /service/api/v1/: order create/get/update-status and routes.

import { Hono, type Context } from "hono";
import { cheapBodyLimit } from "../body-limit.js";
import type { Catalog, Route } from "../catalog/types.js";
import type { Clock } from "../clock/index.js";
import { ApiError, invalidParam } from "../errors.js";
import type { Logger } from "../log/index.js";
import { AUTH_PARAMS, CREATE_PARAMS, validateCreate } from "../orders/create.js";
import { MoveRefused, type OrderService } from "../orders/service.js";
import { isOrderStatus, STATUSES } from "../orders/statuses.js";
import { paymentView, publicOrderJson, publicOrderView } from "../orders/view.js";
import { ipnHostRefusal, isIpnHostAllowed } from "../secure.js";
import { authenticate, type ApiCredentials } from "./auth.js";
import type { ApiCall, ApiCore } from "./call.js";
import { failureBody, JsonText, newRequestId, successJson } from "./envelope.js";
import { createNodeAdapter } from "./node-adapter.js";
import { readParams, readQueryParams, type Params } from "./params.js";

export const API_BASE_PATH = "/service/api/v1";

export interface ApiDeps {
  catalog: Catalog;
  orders: OrderService;
  clock: Clock;
  logger: Logger;
  credentials: readonly ApiCredentials[];
  /** Most bytes in one request body. */
  maxBodyBytes: number;
  /** When true every call answers the engine's "technical work" error. */
  isUnderMaintenance: () => boolean;
  /** The only hosts an ipnUrl may name (canonical, see canonicalIpnHost); null allows any. */
  ipnAllow: readonly string[] | null;
}

interface CallContext {
  params: Params;
  /** The API key of an authorized request, null for a public one. */
  merchant: string | null;
}

type Verb = "GET" | "POST" | "PUT";

/**
 * Every method of the API: the verb it is called with and the parameters it reads (others are reported in the log as
 * ignored). The OpenAPI description is made from this table.
 */
export const API_METHODS = {
  "public/exchanger/order/create": { verb: "POST", params: [...CREATE_PARAMS, ...AUTH_PARAMS] },
  "public/exchanger/order/get": { verb: "GET", params: ["orderUID", "orderSecret", "type", ...AUTH_PARAMS] },
  "public/exchanger/order/update-status": { verb: "PUT", params: ["orderUID", "orderSecret", "status", ...AUTH_PARAMS] },
  "public/exchanger/route/get": { verb: "GET", params: ["fromCurrencyId", "toCurrencyId", ...AUTH_PARAMS] },
  "public/exchanger/route/get/one": { verb: "GET", params: ["id", ...AUTH_PARAMS] },
} as const satisfies Record<string, { verb: Verb; params: readonly string[] }>;

export type ApiMethodName = keyof typeof API_METHODS;

type Handler = (call: CallContext) => unknown;

/** The merchant API: one core, reached through Hono or, under load, straight from the node server. */
export interface Api {
  /** The API as a Hono sub-app: mount it at API_BASE_PATH (app.request() and every request `serve` leaves go here). */
  app: Hono;
  /** The node server's way in (node-adapter.ts): the same core, without Hono's routing and context. */
  serve(request: Request, env: unknown): Response | Promise<Response> | null;
}

/** Builds the merchant API. */
export function createApi(deps: ApiDeps): Api {
  const { catalog, orders, clock, logger } = deps;
  const methods: Record<ApiMethodName, Handler> = {
    "public/exchanger/order/create"({ params, merchant }) {
      const input = validateCreate(params, catalog);
      if (input.ipnUrl !== null) {
        const url = new URL(input.ipnUrl);
        if (!isIpnHostAllowed(url, deps.ipnAllow)) {
          throw invalidParam("ipnUrl", `${ipnHostRefusal(url)}; this sandbox sends IPNs only to ${deps.ipnAllow!.join(", ")}`, { err: "url" });
        }
      }
      const order = orders.create(input, merchant);
      return {
        _id: order._id,
        uid: order.uid,
        rid: order.rid,
        secret: order.secret,
        route: {
          from: { name: order.route.from.name, symbol: order.route.from.symbol },
          to: { name: order.route.to.name, symbol: order.route.to.symbol },
        },
        inAmount: order.inAmount,
        outAmount: order.outAmount,
      };
    },
    "public/exchanger/order/get"({ params }) {
      const order = findOrder(params);
      const type = params.type ?? "order";
      if (type !== "order" && type !== "payment") {
        throw invalidParam("type", `expected order or payment, got ${JSON.stringify(type)}`, { err: "type" });
      }
      orders.noteRead(order, "api");
      if (type === "payment") return { order: { ...publicOrderView(order), payment: paymentView(order) }, verifications: [] };
      return new JsonText(`{"order":${publicOrderJson(order)},"verifications":[]}`);
    },
    "public/exchanger/order/update-status"({ params }) {
      const order = findOrder(params);
      const status = params.status;
      if (!isOrderStatus(status)) {
        throw invalidParam("status", `expected one of ${STATUSES.join(", ")}, got ${JSON.stringify(status ?? null)}`, { err: "type" });
      }
      try {
        const moved = orders.move(order.uid, status, { cause: "api:update-status", rules: "merchant" });
        return { ok: true, oldStatus: order.status, newStatus: moved.status };
      } catch (error) {
        if (error instanceof MoveRefused && error.reason === "automatic") {
          throw invalidParam("status", error.message, { err: "notManual" });
        }
        if (error instanceof MoveRefused) {
          throw new ApiError(
            "badTransition",
            `${error.message}. A merchant may move waitPayment → inProgress after a manual payment, and new or waitPayment → deleted`,
            { from: error.from, to: error.to, allowed: error.allowed },
          );
        }
        throw error;
      }
    },
    "public/exchanger/route/get"({ params }) {
      const from = optionalId(params.fromCurrencyId, "fromCurrencyId");
      const to = optionalId(params.toCurrencyId, "toCurrencyId");
      return catalog.routes
        .filter((r) => (from === null || r.from._id === from) && (to === null || r.to._id === to))
        .map(routeView);
    },
    "public/exchanger/route/get/one"({ params }) {
      const id = optionalId(params.id, "id");
      if (id === null) throw invalidParam("id", "required: the route's _id", { err: "required" });
      const route = catalog.routes.find((r) => r._id === id);
      if (!route) throw new ApiError("notFound", `No route ${id}; GET public/exchanger/route/get lists the routes`, { id });
      return routeView(route);
    },
  };

  const findOrder = (params: Params) => {
    if (params.orderUID === undefined || params.orderUID === "") {
      throw invalidParam("orderUID", "required: the order's uid from order/create", { err: "required" });
    }
    // A number, or a string of digits as a query or form sends it; not a list, an exponent or padding.
    const raw = params.orderUID;
    const uid = typeof raw === "number" || (typeof raw === "string" && /^\d{1,16}$/.test(raw)) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(uid) || uid < 1) {
      throw invalidParam("orderUID", `expected a positive integer, got ${JSON.stringify(params.orderUID)}`, { err: "type" });
    }
    if (typeof params.orderSecret !== "string" || params.orderSecret === "") {
      throw invalidParam("orderSecret", "required: the order's secret from order/create", { err: "required" });
    }
    const order = orders.find(uid, params.orderSecret);
    if (!order) throw new ApiError("notFound", `No order with uid ${uid} and that secret`, { orderUID: uid });
    return order;
  };

  const tooLargeError = () => new ApiError("bodyTooLarge", `The body is larger than ${deps.maxBodyBytes} bytes`, { limit: deps.maxBodyBytes });
  // The rest of the body stays unread, so the connection cannot be reused: tell the client to close it.
  const CLOSE = { "Content-Type": "application/json", Connection: "close" };
  const refuseTooLarge = (call: ApiCall) => respond(call, clock, logger, performance.now(), tooLargeError(), CLOSE);

  /** Answers one call, whichever way it came in; not async, so that a GET is answered in the same turn. */
  const answer = (call: ApiCall): Response | Promise<Response> => {
    const started = performance.now();
    const name = methodName(call.path);
    const fail = (error: unknown) => {
      if (error instanceof ApiError) return respond(call, clock, logger, started, error);
      throw error;
    };
    const run = (method: ApiMethodName, { params, rawBody }: { params: Params; rawBody: string | null }) => {
      try {
        const merchant = authenticate({ apikey: call.header("apikey"), hash: call.header("hash"), params, rawBody, now: clock.now() }, deps.credentials);
        if (logger.quiet !== true) warnIgnored(logger, name, params, API_METHODS[method].params);
        return respond(call, clock, logger, started, methods[method]({ params, merchant }));
      } catch (error) {
        return fail(error);
      }
    };
    try {
      if (deps.isUnderMaintenance()) throw new ApiError("maintenance", "Technical work is in progress; try again later");
      if (!isApiMethod(name)) {
        throw new ApiError("unknownMethod", `No API method ${JSON.stringify(name)}; the methods are ${Object.keys(API_METHODS).join(", ")}`, { method: name });
      }
      const { verb } = API_METHODS[name];
      if (call.method !== verb) {
        throw new ApiError("unknownMethod", `${name} is called with ${verb}, not ${call.method}`, { method: name, verb });
      }
      if (call.method === "GET") return run(name, readQueryParams(call.url));
      return call.readBody().then((read) => run(name, read), fail);
    } catch (error) {
      return fail(error);
    }
  };

  const core: ApiCore = { answer, refuseTooLarge, maxBodyBytes: deps.maxBodyBytes };
  const app = new Hono();
  // Only the verbs the API reads a body for: a GET then matches its handler alone, which Hono runs without composing.
  app.on(["POST", "PUT"], "/*", cheapBodyLimit(deps.maxBodyBytes, (c) => refuseTooLarge(honoCall(c))));
  app.all("/*", (c) => answer(honoCall(c)));
  return { app, serve: createNodeAdapter(core) };
}

/** The Hono way in: a call read from Hono's context. */
function honoCall(c: Context): ApiCall {
  return {
    method: c.req.method,
    path: c.req.path,
    url: c.req.url,
    header: (name) => c.req.header(name),
    readBody: () => readParams(c.req.raw),
  };
}

function isApiMethod(name: string): name is ApiMethodName {
  return Object.hasOwn(API_METHODS, name);
}

/** "public/exchanger/order/get" from ".../service/api/v1/public/exchanger/order/get/". */
function methodName(path: string): string {
  let end = path.length;
  while (end > API_BASE_PATH.length && path.charCodeAt(end - 1) === 47) end--;
  return path.slice(API_BASE_PATH.length + 1, end);
}

function respond(call: ApiCall, clock: Clock, logger: Logger, started: number, result: unknown, headers: Record<string, string> = JSON_TYPE) {
  const meta = { latencyMs: Math.round(performance.now() - started), requestId: newRequestId(clock.now()) };
  const failed = result instanceof ApiError;
  const body = failed
    ? JSON.stringify(failureBody(result, meta))
    : successJson(result instanceof JsonText ? result.text : (JSON.stringify(result) ?? "null"), meta);
  const uid = !failed && typeof result === "object" && result !== null && "uid" in result ? Number(result.uid) : undefined;
  if (logger.quiet !== true) {
    logger.log({
      type: "api",
      method: call.method,
      path: call.path + querySuffix(call.url),
      httpStatus: 200,
      outcome: failed ? `error ${result.errorCode}: ${result.message}${result.hint === null ? "" : ` (${result.hint})`}` : "ok",
      latencyMs: meta.latencyMs,
      requestId: meta.requestId,
      ...(uid === undefined ? {} : { uid }),
    });
  }
  return new Response(body, { status: 200, headers });
}

const JSON_TYPE = { "Content-Type": "application/json" };

/** The `?…` part of a request URL, as URL.search gives it, without parsing the URL on every call. */
function querySuffix(url: string): string {
  const at = url.indexOf("?");
  if (at === -1) return "";
  const hash = url.indexOf("#", at);
  const search = hash === -1 ? url.slice(at) : url.slice(at, hash);
  return search === "?" ? "" : search;
}

/** The real service ignores parameters it does not know; the sandbox does too, but says so in the log. */
function warnIgnored(logger: Logger, method: string, params: Params, known: readonly string[]) {
  for (const key of Object.keys(params)) {
    if (known.includes(key)) continue;
    const near = known.find((k) => k.toLowerCase() === key.toLowerCase());
    logger.log({ type: "info", message: `warn ${method}: ignored unknown parameter ${key}${near ? ` (did you mean ${near}?)` : ""}` });
  }
}

function optionalId(value: unknown, param: string): string | null {
  if (value === undefined || value === "") return null;
  if (typeof value !== "string" || !/^[0-9a-f]{24}$/.test(value)) {
    throw invalidParam(param, `expected a 24-hex id, got ${JSON.stringify(value)}`, { err: "type" });
  }
  return value;
}

/** A route as route/get shows it. */
function routeView(route: Route) {
  const currency = ({ _id, name, symbol, xml, decimal }: Route["from"]) => ({ _id, name, symbol, xml, decimal });
  return {
    _id: route._id,
    from: currency(route.from),
    to: currency(route.to),
    rate: route.rate,
    min: route.min,
    max: route.max,
    reserve: route.reserve,
    manual: route.manual,
    paymentWindowMinutes: route.paymentWindowMinutes,
    fromFields: route.fromFields,
    toFields: route.toFields,
    routeFields: route.routeFields,
  };
}
