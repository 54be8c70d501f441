// createSandbox(): wires catalogue, store, clock, dispatcher, API and control API into one app that can listen.

import { createAdaptorServer, type HttpBindings } from "@hono/node-server";
import type { Server } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import { Hono } from "hono";
import { API_BASE_PATH, createApi } from "./api/index.js";
import { TEST_CREDENTIALS, type ApiCredentials } from "./api/auth.js";
import { createDefaultCatalog, type Catalog } from "./catalog/index.js";
import { createClock, type Clock } from "./clock/index.js";
import { CONTROL_BASE_PATH, controlBodyLimit, createControlApi } from "./control/index.js";
import { adminTokenGuard, assertAdminToken, crossSiteGuard } from "./control/admin-auth.js";
import { createDashboard } from "./control/dashboard.js";
import { createHostCheck, publicUrlHost, type HostCheck } from "./control/host-check.js";
import { storageGuard } from "./control/storage-guard.js";
import { ApiError } from "./errors.js";
import { createInbox } from "./inbox/index.js";
import { createDispatcher, DEFAULT_IPN_HASH_FIELD, type Dispatcher, type WallClock } from "./ipn/index.js";
import { createLogger, maskUrlSecrets, type Logger, type LoggerOptions } from "./log/index.js";
import { createIdFactory } from "./orders/ids.js";
import { createOrderService, type OrderService } from "./orders/service.js";
import { OPENAPI_PATH, openApiRoute } from "./openapi/index.js";
import { createPages } from "./pages/index.js";
import { canonicalIpnHost, isLoopbackHost } from "./secure.js";
import { createMemoryStore, openJournalStore, StoreUnavailableError, type JournalStore, type JournalStoreOptions, type Store } from "./store/index.js";
import { catalogSeedFor, DEFAULT_CATALOG_SEED, drawSeed } from "./seed.js";
import { VERSION } from "./version.js";

export interface SandboxOptions {
  /**
   * Seeds every order id, secret and deposit address, and, when it is at most 4294967295, the route catalogue too.
   * Default: a seed drawn for this sandbox (above 4294967295, so the catalogue is the default one); `sandbox.seed`
   * tells it, and `seed: sandbox.seed` gives the same ids again.
   */
  seed?: number;
  /** Replaces the generated route catalogue. */
  catalog?: Catalog;
  /** Where `listen()` binds when not told otherwise (default 0: any free port). */
  port?: number;
  /** Default 127.0.0.1: loopback only. */
  host?: string;
  /** How long an IPN may take before it is recorded as timed out (default DEFAULT_IPN_TIMEOUT_MS). */
  ipnTimeoutMs?: number;
  /** The IPN checksum's field name (default DEFAULT_IPN_HASH_FIELD). */
  ipnHashField?: string;
  /**
   * What IPN latency and the IPN timeout are measured on (default: the wall clock). A test hands in a manual clock
   * (`createClock("manual")`) and advances it to time an IPN out at once, instead of waiting `ipnTimeoutMs`.
   */
  ipnWallClock?: WallClock;
  /** A logger, or options for the built-in one (default: silent, as suits a merchant's own tests). */
  logger?: Logger | LoggerOptions;
  /** A clock, or a spec: "real" (default), "fast:N", "instant" or "manual". */
  clock?: Clock | string;
  /** Where a virtual clock made from a spec starts (default: now). */
  startAt?: number;
  store?: Store;
  /**
   * A folder that keeps orders, deliveries and the clock across restarts (an append-only journal); without it
   * everything stays in memory. Not with `store`.
   */
  dataDir?: string;
  /**
   * How the `dataDir` journal is kept: `repair` drops bad lines instead of refusing to start (a copy is kept);
   * compaction thresholds; the file system it writes through (tests hand in one that fails).
   */
  journal?: Omit<JournalStoreOptions, "log">;
  /**
   * The URLs clients reach the sandbox by, when that is by a host name other than localhost: a request whose Host
   * header names anything but an IP address, localhost, the bound host or one of these is refused with 421, as DNS
   * rebinding would send it.
   */
  publicUrls?: readonly string[];
  /** API key pairs accepted by the `apikey`/`hash` authorization (default: the test pair). */
  credentials?: readonly ApiCredentials[];
  /** Most bytes in one API or control API request body (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * When set, every request under /_sandbox/ (control API, events, dashboard, extensions) needs it, as
   * `Authorization: Bearer TOKEN` or the dashboard cookie `GET /_sandbox/?token=TOKEN` sets. Required to listen on
   * anything but a loopback address.
   */
  adminToken?: string;
  /**
   * The only hosts IPNs may go to (host names or IP addresses, no port): order/create and test IPNs naming another
   * host are refused, and the dispatcher records any other IPN as an error without sending it. Default: any host.
   */
  ipnAllow?: readonly string[];
  /** Add-ons built on the sandbox's public parts, such as the scenario engine; their routes go under /_sandbox/. */
  extensions?: readonly SandboxExtension[];
}

/** The parts an extension may build on. */
export interface SandboxParts {
  store: Store;
  clock: Clock;
  dispatcher: Dispatcher;
  orders: OrderService;
  catalog: Catalog;
  logger: Logger;
}

/** An add-on: it may return a Hono app whose routes are served under /_sandbox/, and a close hook. */
export type SandboxExtension = (parts: SandboxParts) => { routes?: Hono; close?: () => void | Promise<void> } | void;

export interface Sandbox {
  /** The Hono app: `app.request(...)` exercises it without a port. */
  readonly app: Hono;
  readonly store: Store;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly orders: OrderService;
  readonly catalog: Catalog;
  readonly credentials: readonly ApiCredentials[];
  readonly seed: number;
  readonly version: string;
  /** Starts serving; resolves with the base URL, e.g. http://127.0.0.1:54321. */
  listen(port?: number, host?: string): Promise<{ url: string; port: number; host: string }>;
  /** The base URL once listening, else null. */
  readonly url: string | null;
  /** Stops serving and aborts in-flight IPNs. */
  close(): Promise<void>;
}

/** The built-in catalogue's seed when none is given (order ids then come from a seed drawn for the sandbox). */
export const DEFAULT_SEED = DEFAULT_CATALOG_SEED;
/** Where `exchanger-sandbox start` and the contract kit's own sandbox listen unless told otherwise. */
export const DEFAULT_PORT = 7070;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const seed = options.seed ?? drawSeed();
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1024) {
    throw new RangeError(`maxBodyBytes must be an integer of at least 1024, got ${maxBodyBytes}`);
  }
  if (options.adminToken !== undefined) assertAdminToken(options.adminToken);
  const hostCheck = createHostCheck(
    (options.publicUrls ?? []).map((url) => {
      try {
        return publicUrlHost(url);
      } catch (error) {
        throw new Error(`publicUrls: ${(error as Error).message}`);
      }
    }),
  );
  const ipnAllow =
    options.ipnAllow === undefined
      ? null
      : options.ipnAllow.map((host) => {
          try {
            return canonicalIpnHost(host);
          } catch (error) {
            throw new Error(`ipnAllow: ${(error as Error).message}`);
          }
        });
  if (ipnAllow !== null && ipnAllow.length === 0) throw new Error("ipnAllow must name at least one host; leave it out to allow any");
  const credentials = options.credentials ?? [TEST_CREDENTIALS];
  for (const c of credentials) {
    if (!c.apiKey || !c.apiSecret) throw new Error("every credential needs a non-empty apiKey and apiSecret");
  }
  const logger = isLogger(options.logger) ? options.logger : createLogger(options.logger ?? { quiet: true });
  const catalog = options.catalog ?? createDefaultCatalog(catalogSeedFor(seed));
  if (options.dataDir !== undefined && options.store !== undefined) throw new Error("give dataDir or store, not both");
  if (options.journal !== undefined && options.dataDir === undefined) throw new Error("journal options need a dataDir");
  const journal =
    options.dataDir === undefined
      ? null
      : openJournalStore(options.dataDir, { ...options.journal, log: (level, message) => logger.log({ type: "info", message: `${level} ${message}` }) });
  try {
    return assemble(options, { seed, maxBodyBytes, ipnAllow, credentials, logger, catalog, journal, hostCheck });
  } catch (error) {
    // The folder's lock goes with the sandbox that could not be made.
    journal?.close();
    throw error;
  }
}

interface Checked {
  seed: number;
  maxBodyBytes: number;
  ipnAllow: string[] | null;
  credentials: readonly ApiCredentials[];
  logger: Logger;
  catalog: Catalog;
  journal: JournalStore | null;
  hostCheck: HostCheck;
}

/** Builds the sandbox from options already checked, around its store. */
function assemble(options: SandboxOptions, checked: Checked): Sandbox {
  const { seed, maxBodyBytes, ipnAllow, credentials, logger, catalog, journal, hostCheck } = checked;
  const clockSpec = typeof options.clock === "object" ? null : (options.clock ?? "real");
  const startAt = resumeAt(clockSpec, journal?.restored.clock ?? null) ?? options.startAt;
  const clock = typeof options.clock === "object" ? options.clock : createClock(clockSpec!, startAt === undefined ? {} : { startAt });
  const store = journal ?? options.store ?? createMemoryStore();
  const dispatcher = createDispatcher({
    store,
    clock,
    logger,
    ...(options.ipnTimeoutMs === undefined ? {} : { timeoutMs: options.ipnTimeoutMs }),
    ...(options.ipnHashField === undefined ? {} : { hashField: options.ipnHashField }),
    ...(options.ipnWallClock === undefined ? {} : { wallClock: options.ipnWallClock }),
    userAgent: `exchanger-sandbox/${VERSION}`,
    ...(ipnAllow === null ? {} : { allowedHosts: ipnAllow }),
  });
  // After a restart, ids come from another stream of the same seed, so they do not repeat the first orders' ids (those
  // of orders a reset forgot included).
  const restoredUids = journal ? store.lastUid() : 0;
  const orders = createOrderService({ store, clock, ids: createIdFactory(restoredUids ? seed + restoredUids : seed), dispatcher });
  if (journal) {
    // What was under way when the sandbox stopped goes on: unpaid orders still expire, held IPNs are still sent.
    orders.rearmTimers();
    dispatcher.restore(store.listDeliveries().filter((d) => d.outcome === "held" || d.outcome === "pending"));
    const { restored } = journal;
    if (restored.orders || restored.deliveries) {
      logger.log({ type: "info", message: `restored ${restored.orders} orders and ${restored.deliveries} deliveries from ${journal.path}` });
    }
  }
  const inbox = createInbox({ store, clock, hashField: options.ipnHashField ?? DEFAULT_IPN_HASH_FIELD });
  const clockWriter = journal ? setInterval(() => journal.recordClock(clock.now()), 1000) : null;
  clockWriter?.unref();
  let maintenance = false;
  const parts: SandboxParts = { store, clock, dispatcher, orders, catalog, logger };
  const installed = (options.extensions ?? []).map((extension) => extension(parts) ?? {});

  const app = new Hono();
  // Before any route, and only there: they guard every path under /_sandbox (the pattern matches /_sandbox itself),
  // extensions' included, and cost the merchant API nothing.
  const guarded = `${CONTROL_BASE_PATH}/*`;
  app.use(guarded, crossSiteGuard());
  // Before the admin token: the sandbox's own IPNs to its inbox carry none. Posting only adds a verdict to a bounded list.
  app.post(`${CONTROL_BASE_PATH}/inbox/:name`, controlBodyLimit(maxBodyBytes), (c) => inbox.post(c));
  if (options.adminToken !== undefined) app.use(guarded, adminTokenGuard(options.adminToken));
  app.use(guarded, controlBodyLimit(maxBodyBytes));
  app.use(guarded, storageGuard(store));
  // Also while the data folder cannot be written: the engine's "technical work" until it can.
  const underMaintenance = () => maintenance || store.unavailable() !== null;
  const api = createApi({ catalog, orders: guardedOrders(orders, store, apiRefusal), clock, logger, credentials, maxBodyBytes, ipnAllow, isUnderMaintenance: underMaintenance });
  app.route(API_BASE_PATH, api.app);
  app.get(CONTROL_BASE_PATH, (c) => c.redirect(`${CONTROL_BASE_PATH}/`));
  app.route("/", createDashboard({ version: VERSION, store, clock, inbox }));
  app.route(CONTROL_BASE_PATH, inbox.routes);
  // Behind the admin token like the rest of /_sandbox: the package's openapi.json is the public copy.
  app.get(OPENAPI_PATH, openApiRoute({ ipnHashField: options.ipnHashField, adminToken: options.adminToken !== undefined, exampleRoute: catalog.routes[0] }));
  // Extensions' routes first: the control API ends with a catch-all that answers 404.
  for (const { routes } of installed) if (routes) app.route(CONTROL_BASE_PATH, routes);
  app.route(
    CONTROL_BASE_PATH,
    createControlApi({
      version: VERSION,
      seed,
      store,
      orders: guardedOrders(orders, store, (error) => error),
      dispatcher,
      clock,
      maintenance: { get: () => maintenance, set: (on) => void (maintenance = on) },
      ipnAllow,
    }),
  );
  app.route("/", createPages({ orders, store, clock }));
  app.notFound((c) =>
    c.text(`Not found: ${maskUrlSecrets(c.req.path)}. The API lives under ${API_BASE_PATH}/ and the control API under ${CONTROL_BASE_PATH}/.`, 404, {
      "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
    }),
  );
  /** The answer to an error the sandbox did not expect, logged with its stack: a bug, whichever way the request came. */
  const internalError = (error: unknown, method: string, path: string): Response => {
    const what = error instanceof Error ? (error.stack ?? error.message) : String(error);
    logger.log({ type: "info", message: `error ${method} ${maskUrlSecrets(path)}: ${what}` });
    const body = { error: { type: "internal", message: "The sandbox hit an unexpected error; this is a bug in the sandbox, please report it" } };
    return new Response(JSON.stringify(body), { status: 500, headers: { "Content-Type": "application/json" } });
  };
  app.onError((error, c) => internalError(error, c.req.method, c.req.path));
  // What the server runs: a call to the merchant API, the path under load, is answered by the API's core straight
  // away, without matching it against every page and control route and without Hono's context; anything the core
  // leaves (and everything else) goes to the whole app, where the same core is mounted, so app.request() sees the same.
  const serverFetch = (request: Request, env: unknown): Response | Promise<Response> => {
    const host = (env as Partial<HttpBindings> | undefined)?.incoming?.headers.host;
    if (!hostCheck.allows(host)) return hostCheck.refuse(host!);
    if (!isApiUrl(request.url)) return app.fetch(request, env);
    const fail = (error: unknown) => internalError(error, request.method, new URL(request.url).pathname);
    try {
      const answered = api.serve(request, env);
      if (answered === null) return app.fetch(request, env);
      return answered instanceof Promise ? answered.catch(fail) : answered;
    } catch (error) {
      return fail(error);
    }
  };

  let server: Server | null = null;
  let url: string | null = null;

  return {
    app,
    store,
    clock,
    dispatcher,
    orders,
    catalog,
    credentials,
    seed,
    version: VERSION,
    get url() {
      return url;
    },
    async listen(port = options.port ?? 0, host = options.host ?? "127.0.0.1") {
      if (server) throw new Error(`the sandbox is already listening on ${url}`);
      if (!isLoopbackHost(host) && options.adminToken === undefined) {
        throw new Error(
          `refusing to listen on ${host} without an adminToken: anyone who can reach it could drive the control API; ` +
            "pass adminToken (and ipnAllow), or listen on 127.0.0.1",
        );
      }
      const created = createAdaptorServer({ fetch: serverFetch }) as Server;
      await new Promise<void>((resolve, reject) => {
        created.once("error", reject);
        created.listen(port, host, () => {
          created.off("error", reject);
          resolve();
        });
      });
      server = created;
      // Bound by a name: that name reaches it too.
      if (isIP(host.replace(/^\[(.*)\]$/, "$1")) === 0) hostCheck.allowName(host);
      const address = created.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      url = `http://${shownHost}:${address.port}`;
      return { url, port: address.port, host: address.address };
    },
    async close() {
      for (const { close } of installed) await close?.();
      if (clockWriter) clearInterval(clockWriter);
      journal?.recordClock(clock.now());
      clock.dispose();
      // With a journal, held IPNs stay held on disk for the next start rather than being cancelled.
      await dispatcher.close({ keepHeld: journal !== null });
      journal?.close();
      const current = server;
      server = null;
      url = null;
      if (!current) return;
      current.closeAllConnections();
      await new Promise<void>((resolve) => current.close(() => resolve()));
    },
  };
}

/** True when an absolute request URL's path is under API_BASE_PATH, as the app's router would match it. */
function isApiUrl(url: string): boolean {
  const pathAt = url.indexOf("/", url.indexOf("://") + 3);
  if (pathAt === -1 || !url.startsWith(API_BASE_PATH, pathAt)) return false;
  const next = url.charAt(pathAt + API_BASE_PATH.length);
  return next === "/" || next === "" || next === "?";
}

/** Where a clock restored from a journal resumes: the real clock keeps its advances; the others resume where they were. */
function resumeAt(spec: string | null, saved: { now: number; wall: number } | null): number | undefined {
  if (spec === null || saved === null) return undefined;
  return spec === "real" ? Date.now() + (saved.now - saved.wall) : saved.now;
}

function isLogger(value: unknown): value is Logger {
  return typeof value === "object" && value !== null && typeof (value as Logger).log === "function";
}

/**
 * The order service as a request sees it: each change runs under the store's guard, so that one the store cannot
 * write changes nothing and is refused (`refusal` makes the error the caller answers with).
 */
function guardedOrders(orders: OrderService, store: Store, refusal: (error: StoreUnavailableError) => Error): OrderService {
  const guard = <T>(change: () => T): T => {
    try {
      return store.guard(change);
    } catch (error) {
      throw error instanceof StoreUnavailableError ? refusal(error) : error;
    }
  };
  return {
    ...orders,
    create: (input, merchant) => guard(() => orders.create(input, merchant)),
    move: (uid, to, moveOptions) => guard(() => orders.move(uid, to, moveOptions)),
    pay: (uid, cause, fault) => guard(() => orders.pay(uid, cause, fault)),
  };
}

/** The merchant API's answer while the data folder cannot be written: the engine's "technical work". */
function apiRefusal(): ApiError {
  return new ApiError("maintenance", "Technical work is in progress; try again later");
}
