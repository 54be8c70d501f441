// The dashboard at /_sandbox/: every order with a timeline of its moves and IPN deliveries, live, with actions.

import { Hono, type Context } from "hono";
import type { Child } from "hono/jsx";
import type { HtmlEscapedString } from "hono/utils/html";
import type { Clock } from "../clock/index.js";
import { FAULTS, type DeliveryRecord } from "../ipn/index.js";
import { maskSecret, maskUrlSecrets } from "../log/index.js";
import { UNPAID_STATUSES } from "../orders/service.js";
import { STATUSES, TRANSITIONS } from "../orders/statuses.js";
import type { HistoryEntry, Order } from "../orders/types.js";
import { pagePath } from "../pages/index.js";
import { InboxPanel, type Inbox } from "../inbox/index.js";
import type { Store } from "../store/index.js";
import { DASHBOARD_CSS, DASHBOARD_ICON_SVG, DASHBOARD_JS } from "./dashboard-assets.js";
import { CONTROL_BASE_PATH } from "./index.js";

export interface DashboardDeps {
  version: string;
  store: Store;
  clock: Clock;
  inbox: Inbox;
}

/** The dashboard's own files and card fragments: internal to the dashboard, not part of the stable control API. */
export const DASHBOARD_PATHS = {
  page: `${CONTROL_BASE_PATH}/`,
  stylesheet: `${CONTROL_BASE_PATH}/dashboard/dashboard.css`,
  script: `${CONTROL_BASE_PATH}/dashboard/dashboard.js`,
  icon: `${CONTROL_BASE_PATH}/dashboard/icon.svg`,
  orderCard: `${CONTROL_BASE_PATH}/dashboard/orders/:uid`,
  testIpns: `${CONTROL_BASE_PATH}/dashboard/test-ipns`,
  inbox: `${CONTROL_BASE_PATH}/dashboard/inbox`,
} as const;

const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

/** Builds the dashboard's app, with absolute paths; mount it at the root before the control API's catch-all. */
export function createDashboard(deps: DashboardDeps): Hono {
  const { store, clock } = deps;
  const app = new Hono();
  const html = async (c: Context, element: HtmlEscapedString | Promise<HtmlEscapedString>, prefix = "") => {
    for (const [name, value] of Object.entries(DASHBOARD_HEADERS)) c.header(name, value);
    return c.html(prefix + (await element));
  };
  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });

  app.get(DASHBOARD_PATHS.page, (c) =>
    html(
      c,
      Dashboard({ version: deps.version, clockKind: clock.kind, orders: store.listOrders(), deliveries: store.listDeliveries(), inboxes: deps.inbox.all() }),
      "<!doctype html>",
    ),
  );
  app.get(DASHBOARD_PATHS.stylesheet, asset(DASHBOARD_CSS, "text/css; charset=utf-8"));
  app.get(DASHBOARD_PATHS.script, asset(DASHBOARD_JS, "text/javascript; charset=utf-8"));
  app.get(DASHBOARD_PATHS.icon, asset(DASHBOARD_ICON_SVG, "image/svg+xml"));
  app.get(DASHBOARD_PATHS.orderCard, async (c) => {
    const raw = c.req.param("uid");
    const order = /^\d{1,16}$/.test(raw) ? store.getOrder(Number(raw)) : undefined;
    if (!order) return c.text(`No order ${raw}`, 404);
    return html(c, OrderCard({ order, deliveries: store.listDeliveries({ orderUID: order.uid }) }));
  });
  app.get(DASHBOARD_PATHS.testIpns, (c) => html(c, TestIpnList({ deliveries: testDeliveries(store.listDeliveries()) })));
  app.get(DASHBOARD_PATHS.inbox, (c) => html(c, InboxPanel({ boxes: deps.inbox.all(), base: CONTROL_BASE_PATH })));
  return app;
}

const testDeliveries = (deliveries: DeliveryRecord[]) => deliveries.filter((d) => d.orderUID === null).reverse();

interface DashboardData {
  version: string;
  clockKind: string;
  orders: Order[];
  deliveries: DeliveryRecord[];
  inboxes: ReturnType<Inbox["all"]>;
}

function Dashboard(data: DashboardData) {
  const orders = [...data.orders].reverse();
  const byOrder = new Map<number, DeliveryRecord[]>();
  for (const d of data.deliveries) {
    if (d.orderUID !== null) byOrder.set(d.orderUID, [...(byOrder.get(d.orderUID) ?? []), d]);
  }
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
      <body data-base={CONTROL_BASE_PATH}>
        <header class="top">
          <h1>exchanger-sandbox {data.version}</h1>
          <span class="muted">clock: {data.clockKind}</span>
          <span id="live" class="live" data-live="false">
            ○ not live (refresh to update)
          </span>
          <span class="muted">
            JSON: <a href={`${CONTROL_BASE_PATH}/orders`}>orders</a> · <a href={`${CONTROL_BASE_PATH}/deliveries`}>deliveries</a>
          </span>
        </header>
        <main>
          <noscript>
            <p>Without JavaScript this page shows a snapshot; the actions need JavaScript (or the control API).</p>
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
            <TestIpnList deliveries={testDeliveries(data.deliveries)} />
          </section>
          <section class="card">
            <h2>IPN inbox</h2>
            <InboxPanel boxes={data.inboxes} base={CONTROL_BASE_PATH} />
          </section>
          <h2>
            Orders (<span id="order-count">{orders.length}</span>), newest first
          </h2>
          <p id="no-orders" class="muted" hidden={orders.length > 0}>
            No orders yet: create one with public/exchanger/order/create.
          </p>
          <div id="orders">
            {orders.map((order) => (
              <OrderCard order={order} deliveries={byOrder.get(order.uid) ?? []} />
            ))}
          </div>
        </main>
      </body>
    </html>
  );
}

function StatusSelect({ name, statuses }: { name: string; statuses: readonly string[] }) {
  return (
    <select name={name}>
      {statuses.map((s) => (
        <option value={s}>{s}</option>
      ))}
    </select>
  );
}

/** Every delivery fault the dispatcher knows, straight from its list. */
function FaultSelect() {
  return (
    <select name="fault">
      {FAULTS.map((f) => (
        <option value={f} selected={f === "deliver"}>
          {f}
        </option>
      ))}
    </select>
  );
}

function Meta({ items }: { items: [string, Child][] }) {
  return (
    <dl class="meta">
      {items.map(([name, value]) => (
        <div>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function OrderCard({ order, deliveries }: { order: Order; deliveries: DeliveryRecord[] }) {
  const moves = TRANSITIONS[order.status];
  const payable = UNPAID_STATUSES.includes(order.status);
  const { from, to } = order.route;
  return (
    <article class="card order" id={`order-${order.uid}`} data-uid={String(order.uid)} data-status={order.status}>
      <header>
        <h3>
          #{order.uid} <span class="status">{order.status}</span>
        </h3>
        <span>
          {order.inAmount} {from.xml} → {order.outAmount} {to.xml} · {order.route.manual ? "manual" : "auto"} payment
        </span>
        <span>
          <a href={pagePath("payment", order.lang, order.uid, order.secret)} target="_blank" rel="noreferrer">
            payment page
          </a>{" "}
          · <a href={pagePath("order", order.lang, order.uid, order.secret)} target="_blank" rel="noreferrer">
            order page
          </a>
        </span>
      </header>
      <Meta
        items={[
          ["secret", <code>{maskSecret(order.secret)}</code>],
          ["IPN URL", <code>{order.ipnUrl === null ? "—" : maskUrlSecrets(order.ipnUrl)}</code>],
          ["ipnSecret", <code>{order.ipnSecret === null ? "—" : maskSecret(order.ipnSecret)}</code>],
          ["merchant", order.merchant === null ? "public" : <code>{maskSecret(order.merchant)}</code>],
          ["partner", order.partner ?? "—"],
          ["lang", order.lang],
          ["hideOutData", String(order.hideOutData)],
          ["return URL", <code>{order.clientCallbackUrl === null ? "—" : maskUrlSecrets(order.clientCallbackUrl)}</code>],
          ["expires", <time datetime={new Date(order.expiresAt).toISOString()}>{clockTime(order.expiresAt)}</time>],
        ]}
      />
      <form class="actions">
        <label>
          fault <FaultSelect />
        </label>
        {payable ? (
          <button type="button" data-action="pay">
            Pay (client)
          </button>
        ) : null}
        {moves.length > 0 ? (
          <>
            <label>
              move to <StatusSelect name="status" statuses={moves} />
            </label>
            <button type="button" data-action="move">
              Move
            </button>
          </>
        ) : (
          <span class="muted">final: no further moves</span>
        )}
      </form>
      <Timeline history={order.history} deliveries={deliveries} />
    </article>
  );
}

type TimelineItem =
  | { at: number; anchor: number; rank: 0; entry: HistoryEntry }
  | { at: number; anchor: number; rank: 1; delivery: DeliveryRecord };

/** When a delivery happened for the timeline: sent, else due (held), else not yet (pending: last). */
function deliveryTime(d: DeliveryRecord): number {
  return d.sentAt ?? d.dueAt ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Status changes and IPN deliveries in time order. Moves often share a millisecond with their IPNs, so within one
 * millisecond each delivery goes right after the move it reports (the latest earlier move to the status it carries).
 */
function Timeline({ history, deliveries }: { history: HistoryEntry[]; deliveries: DeliveryRecord[] }) {
  const anchorOf = (d: DeliveryRecord, at: number) => {
    let anchor = 0;
    history.forEach((h, i) => {
      if (h.at <= at && h.to === d.status) anchor = i;
    });
    return anchor;
  };
  const items: TimelineItem[] = [
    ...history.map((entry, i) => ({ at: entry.at, anchor: i, rank: 0 as const, entry })),
    ...deliveries.map((delivery) => {
      const at = deliveryTime(delivery);
      return { at, anchor: anchorOf(delivery, at), rank: 1 as const, delivery };
    }),
  ].sort((a, b) => a.at - b.at || a.anchor - b.anchor || a.rank - b.rank);
  return (
    <ol class="timeline">
      {items.map((item) =>
        "entry" in item ? (
          <li data-kind="status">
            <div class="row">
              <time datetime={new Date(item.at).toISOString()}>{clockTime(item.at)}</time>
              <span class="kind">status</span>
              <span>
                {item.entry.from === null ? "created as " : `${item.entry.from} → `}
                <strong>{item.entry.to}</strong>
              </span>
              <span class="muted">
                by {item.entry.cause}
                {item.entry.forced ? " (forced)" : ""}
              </span>
            </div>
          </li>
        ) : (
          <DeliveryItem delivery={item.delivery} />
        ),
      )}
    </ol>
  );
}

function TestIpnList({ deliveries }: { deliveries: DeliveryRecord[] }) {
  return (
    <div id="test-ipns">
      {deliveries.length === 0 ? (
        <p class="muted">No test IPN sent yet.</p>
      ) : (
        <ol class="timeline">
          {deliveries.map((d) => (
            <DeliveryItem delivery={d} />
          ))}
        </ol>
      )}
    </div>
  );
}

function DeliveryItem({ delivery: d }: { delivery: DeliveryRecord }) {
  const at = deliveryTime(d);
  return (
    <li data-kind="delivery" data-delivery={d.id} data-outcome={d.outcome}>
      <div class="row">
        <time datetime={at === Number.MAX_SAFE_INTEGER ? undefined : new Date(at).toISOString()}>
          {at === Number.MAX_SAFE_INTEGER ? "queued" : clockTime(at)}
        </time>
        <span class="kind">IPN</span>
        <span>
          {d.id} <strong>{d.status}</strong>
          {d.resendOf ? ` (resend of ${d.resendOf})` : ""}
        </span>
        <span class={`outcome ${d.outcome}`}>{d.outcome}</span>
        <span class="response-code">{d.response ? `HTTP ${d.response.status}` : (d.error ?? "")}</span>
        <span>{d.latencyMs === null ? "" : `${d.latencyMs} ms`}</span>
        <span class="muted">
          fault {describeFault(d.fault)}
          {d.faultDetail ? `: ${d.faultDetail}` : ""}
        </span>
        <button type="button" class="secondary" data-action="resend" data-delivery={d.id}>
          Resend
        </button>
      </div>
      <details data-key={d.id}>
        <summary>
          <code>{maskUrlSecrets(d.url)}</code> · fields, hash and answer
        </summary>
        <table class="fields">
          <tbody>
            {formPairs(d.body).map(([name, value]) => (
              <tr>
                <th>{name}</th>
                <td>
                  <code>{value}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>
          checksum field <code>{d.hashField}</code> = <code>{d.hash ?? "(none sent)"}</code>
          <br />
          hashed string <code>{d.hashedString ?? "(none)"}</code>
        </p>
        <p>body sent</p>
        <pre>{d.body}</pre>
        <p>
          answer:{" "}
          {d.response ? `HTTP ${d.response.status}` : d.error !== null ? `no answer (${d.error})` : "none yet"}
          {d.latencyMs === null ? "" : ` after ${d.latencyMs} ms`}
        </p>
        {d.response && d.response.bodyExcerpt !== "" ? <pre class="excerpt">{d.response.bodyExcerpt}</pre> : null}
      </details>
    </li>
  );
}

/** The body's fields exactly as sent, in order (a malformed body shows what a lenient form parser would read). */
function formPairs(body: string): [string, string][] {
  return [...new URLSearchParams(body)];
}

/** A fault as recorded: a name, or (as fault specs grow parameters) an object. */
function describeFault(fault: unknown): string {
  return typeof fault === "string" ? fault : JSON.stringify(fault);
}

/** Sandbox-clock time of day with milliseconds, in UTC: deliveries are often milliseconds apart. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}
