// The dashboard at /_sandbox/: a page of orders at a time, newest first, as a compact table, each with a timeline of
// its moves and IPN deliveries, live, with actions, a search by uid and a status filter.

import { Hono, type Context } from "hono";
import type { Clock } from "../clock/index.js";
import type { DeliveryRecord } from "../ipn/index.js";
import { isOrderStatus, STATUSES, type OrderStatus } from "../orders/statuses.js";
import type { Order } from "../orders/types.js";
import { InboxPanel, type Inbox } from "../inbox/index.js";
import type { Store } from "../store/index.js";
import { DASHBOARD_CSS, DASHBOARD_ICON_SVG, DASHBOARD_JS } from "./dashboard-assets.js";
import { FaultSelect, OrderRow, OrderTableHead, StatusSelect } from "./dashboard-orders.js";
import { curlCommand, DELIVERY_PATHS, TestIpnList } from "./dashboard-delivery.js";
import { DoctorPage, doctorFor } from "./dashboard-doctor.js";
import { CONTROL_BASE_PATH } from "./index.js";

export interface DashboardDeps {
  version: string;
  store: Store;
  clock: Clock;
  inbox: Inbox;
}

/** The dashboard's own files and order rows: internal to the dashboard, not part of the stable control API. */
export const DASHBOARD_PATHS = {
  page: `${CONTROL_BASE_PATH}/`,
  stylesheet: `${CONTROL_BASE_PATH}/dashboard/dashboard.css`,
  script: `${CONTROL_BASE_PATH}/dashboard/dashboard.js`,
  icon: `${CONTROL_BASE_PATH}/dashboard/icon.svg`,
  orderRow: `${CONTROL_BASE_PATH}/dashboard/orders/:uid`,
  testIpns: `${CONTROL_BASE_PATH}/dashboard/test-ipns`,
  inbox: `${CONTROL_BASE_PATH}/dashboard/inbox`,
  ...DELIVERY_PATHS,
} as const;

/** Orders on one page of the dashboard, and the most a `limit` may ask for. */
export const DASHBOARD_PAGE_SIZE = 25;
const MAX_DASHBOARD_PAGE = 100;
/** Test IPNs shown, the latest first. */
const TEST_IPNS_SHOWN = 20;

const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/** What the page shows: its filters and where it starts, read leniently from the query (a bad value is ignored). */
interface View {
  status: OrderStatus | null;
  uid: number | null;
  /** Older than this uid; null for the first (newest) page. */
  before: number | null;
  limit: number;
}

function readView(c: Context): View {
  const whole = (raw: string | undefined) => (raw !== undefined && /^\d{1,15}$/.test(raw) && Number(raw) > 0 ? Number(raw) : null);
  const status = c.req.query("status");
  const limit = whole(c.req.query("limit"));
  return {
    status: status !== undefined && isOrderStatus(status) ? status : null,
    uid: whole(c.req.query("uid")?.trim().replace(/^#/, "")),
    before: whole(c.req.query("cursor")),
    limit: limit === null ? DASHBOARD_PAGE_SIZE : Math.min(limit, MAX_DASHBOARD_PAGE),
  };
}

/** Builds the dashboard's app, with absolute paths; mount it at the root before the control API's catch-all. */
export function createDashboard(deps: DashboardDeps): Hono {
  const { store, clock } = deps;
  const app = new Hono();
  /** Renders a page or fragment; one with rows that wait for their turn renders to a promise. */
  const html = async (c: Context, element: { toString(): string | Promise<string> }, prefix = "", status: 200 | 400 | 404 = 200) => {
    for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) c.header(name, value);
    return c.html(prefix + (await element.toString()), status);
  };
  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });
  const testIpns = () => store.pageDeliveries({ limit: TEST_IPNS_SHOWN, newestFirst: true, orderUID: null }).items;

  app.get(DASHBOARD_PATHS.page, (c) => {
    const view = readView(c);
    const page = store.pageOrders({
      limit: view.limit,
      newestFirst: true,
      ...(view.before === null ? {} : { after: view.before }),
      ...(view.status === null ? {} : { status: view.status }),
      ...(view.uid === null ? {} : { uid: view.uid }),
    });
    const newest = store.pageOrders({ limit: 1, newestFirst: true }).items[0]?.uid ?? 0;
    const rows = page.items.map((order) => ({ order, deliveries: store.listDeliveries({ orderUID: order.uid }) }));
    return html(
      c,
      Dashboard({ version: deps.version, clockKind: clock.kind, view, rows, next: page.next, total: store.countOrders(), newest, testIpns: testIpns(), inboxes: deps.inbox.all() }),
      "<!doctype html>",
    );
  });
  app.get(DASHBOARD_PATHS.stylesheet, asset(DASHBOARD_CSS, "text/css; charset=utf-8"));
  app.get(DASHBOARD_PATHS.script, asset(DASHBOARD_JS, "text/javascript; charset=utf-8"));
  app.get(DASHBOARD_PATHS.icon, asset(DASHBOARD_ICON_SVG, "image/svg+xml"));
  app.get(DASHBOARD_PATHS.orderRow, async (c) => {
    const raw = c.req.param("uid");
    const order = /^\d{1,16}$/.test(raw) ? store.getOrder(Number(raw)) : undefined;
    if (!order) return c.text(`No order ${raw}`, 404);
    return html(c, OrderRow({ order, deliveries: store.listDeliveries({ orderUID: order.uid }) }));
  });
  // The one delivery asked for, whole, as GET /_sandbox/deliveries/{id} shows it: the page masks the URL's secrets.
  app.get(DASHBOARD_PATHS.curl, (c) => {
    const delivery = store.getDelivery(c.req.param("id"));
    if (!delivery) return c.text(`No delivery ${c.req.param("id")}`, 404);
    return c.text(`${curlCommand(delivery.url, delivery.body)}\n`, 200, { "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff" });
  });
  app.post(DASHBOARD_PATHS.doctor, async (c) => {
    const id = c.req.param("id");
    const delivery = store.getDelivery(id);
    // A body that is no form reads as an empty one, which the doctor refuses with what to send.
    const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
    const text = (name: string) => (typeof form[name] === "string" ? form[name] : undefined);
    const orderSecret = delivery?.orderUID == null ? null : (store.getOrder(delivery.orderUID)?.ipnSecret ?? null);
    const outcome = doctorFor(id, delivery, orderSecret, { hash: text("hash"), secret: text("secret") });
    const back = delivery?.orderUID == null ? `${DASHBOARD_PATHS.page}#test-ipns` : `${DASHBOARD_PATHS.page}?uid=${delivery.orderUID}#order-${delivery.orderUID}`;
    const page = DoctorPage({ id, outcome, back, stylesheet: DASHBOARD_PATHS.stylesheet, icon: DASHBOARD_PATHS.icon });
    return html(c, page, "<!doctype html>", outcome.kind === "refused" ? outcome.status : 200);
  });
  app.get(DASHBOARD_PATHS.testIpns, (c) => html(c, TestIpnList({ deliveries: testIpns() })));
  app.get(DASHBOARD_PATHS.inbox, (c) => html(c, InboxPanel({ boxes: deps.inbox.all(), base: CONTROL_BASE_PATH })));
  return app;
}

interface DashboardData {
  version: string;
  clockKind: string;
  view: View;
  rows: { order: Order; deliveries: DeliveryRecord[] }[];
  /** Where the next (older) page starts, or null. */
  next: number | null;
  total: number;
  /** The highest uid in the store: anything above it that the event stream announces is new. */
  newest: number;
  testIpns: DeliveryRecord[];
  inboxes: ReturnType<Inbox["all"]>;
}

/** Orders rendered between two turns of the event loop: a page is never rendered in one step. */
const ROWS_PER_TURN = 5;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A few orders, rendered after letting the event loop turn: an API call that arrives while the page renders is
 * answered between two groups of orders, not after the whole page.
 */
async function RowsAfterATurn({ rows }: { rows: DashboardData["rows"] }) {
  await new Promise((resolve) => setImmediate(resolve));
  return (
    <>
      {rows.map(({ order, deliveries }) => (
        <OrderRow order={order} deliveries={deliveries} />
      ))}
    </>
  );
}

/** The dashboard's address for a view: its filters, and where the page starts. */
function viewHref(view: View, before: number | null): string {
  const query = new URLSearchParams();
  if (view.uid !== null) query.set("uid", String(view.uid));
  if (view.status !== null) query.set("status", view.status);
  if (view.limit !== DASHBOARD_PAGE_SIZE) query.set("limit", String(view.limit));
  if (before !== null) query.set("cursor", String(before));
  const text = query.toString();
  return text === "" ? DASHBOARD_PATHS.page : `${DASHBOARD_PATHS.page}?${text}`;
}

function Dashboard(data: DashboardData) {
  const { view } = data;
  const filtered = view.status !== null || view.uid !== null;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>exchanger-sandbox dashboard</title>
        <link rel="icon" type="image/svg+xml" href={DASHBOARD_PATHS.icon} />
        <link rel="stylesheet" href={DASHBOARD_PATHS.stylesheet} />
        <script src={DASHBOARD_PATHS.script} defer></script>
      </head>
      <body
        data-base={CONTROL_BASE_PATH}
        data-first-page={String(view.before === null)}
        data-status={view.status ?? ""}
        data-uid={view.uid === null ? "" : String(view.uid)}
        data-page-size={String(view.limit)}
        data-newest={String(data.newest)}
      >
        <header class="top">
          <h1>exchanger-sandbox {data.version}</h1>
          <span class="muted">clock: {data.clockKind}</span>
          <span id="live" class="live" data-live="false">
            ○ not live (refresh to update)
          </span>
          <span class="muted">
            JSON: <a href={`${CONTROL_BASE_PATH}/orders?limit=100&order=newest`}>orders</a> ·{" "}
            <a href={`${CONTROL_BASE_PATH}/deliveries?limit=100&order=newest`}>deliveries</a>
          </span>
        </header>
        <main>
          <noscript>
            <p>
              Without JavaScript this page shows a snapshot: "why was this rejected?" works, "copy as curl" opens the
              command, and the other actions need JavaScript (or the control API).
            </p>
          </noscript>
          <p id="notice" role="status"></p>
          <section class="card">
            <h2>Fire a test IPN at any URL</h2>
            <form id="test-ipn-form" class="test-ipn">
              <label>
                URL <input type="url" name="ipnUrl" required placeholder="http://127.0.0.1:3000/ipn" />
              </label>
              <label>
                ipnSecret <input type="password" name="ipnSecret" required autocomplete="off" />
              </label>
              <label>
                status <StatusSelect name="status" statuses={STATUSES} />
              </label>
              <label>
                fault <FaultSelect />
              </label>
              <label>
                order uid <input type="number" name="orderUID" min="1" placeholder="(docs' example)" />
              </label>
              <button type="submit">Send test IPN</button>
            </form>
            <TestIpnList deliveries={data.testIpns} />
          </section>
          <section class="card">
            <h2>IPN inbox</h2>
            <InboxPanel boxes={data.inboxes} base={CONTROL_BASE_PATH} />
          </section>
          <h2>
            Orders, newest first (<span id="order-count">{data.total}</span> in all)
          </h2>
          <form id="filter" class="filter" method="get" action={DASHBOARD_PATHS.page} role="search">
            <label>
              uid <input type="search" name="uid" inputmode="numeric" value={view.uid === null ? "" : String(view.uid)} placeholder="e.g. 1001" />
            </label>
            <label>
              status{" "}
              <select name="status">
                <option value="">any</option>
                {STATUSES.map((s) => (
                  <option value={s} selected={s === view.status}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Show</button>
            {filtered ? <a href={DASHBOARD_PATHS.page}>clear</a> : null}
          </form>
          <p id="no-orders" class="muted" hidden={data.rows.length > 0}>
            {filtered ? "No order matches." : view.before === null ? "No orders yet: create one with public/exchanger/order/create." : "No older orders."}
          </p>
          <table id="orders" class="orders">
            <OrderTableHead />
            {chunks(data.rows, ROWS_PER_TURN).map((rows) => (
              <RowsAfterATurn rows={rows} />
            ))}
          </table>
          <nav class="pager" aria-label="pages">
            {view.before === null ? null : <a href={viewHref(view, null)}>« newest</a>}
            {data.next === null ? null : (
              <a id="older" href={viewHref(view, data.next)}>
                older »
              </a>
            )}
          </nav>
        </main>
      </body>
    </html>
  );
}
