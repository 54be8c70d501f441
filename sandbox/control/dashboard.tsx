// The dashboard at /_sandbox/: a server-rendered overview of orders and IPN deliveries (refresh to update).

import type { DeliveryRecord } from "../ipn/index.js";
import type { Order } from "../orders/types.js";

export interface DashboardData {
  version: string;
  orders: Order[];
  deliveries: DeliveryRecord[];
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2430}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dde2ea;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f9}code{font-size:12px}.muted{color:#6b7686}
.accepted{color:#137333}.rejected,.error,.timeout{color:#b3261e}.dropped,.pending{color:#8a6100}
`;

export function renderDashboard(data: DashboardData) {
  const orders = [...data.orders].reverse();
  const deliveries = [...data.deliveries].reverse();
  return (
    "<!doctype html>" +
    (
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>exchanger-sandbox dashboard</title>
          <style>{STYLE}</style>
        </head>
        <body>
          <h1>exchanger-sandbox {data.version}</h1>
          <p class="muted">
            Orders and IPN deliveries, newest first. Refresh to update. The JSON behind this page is under{" "}
            <code>/_sandbox/orders</code> and <code>/_sandbox/deliveries</code>.
          </p>
          <h2>Orders ({orders.length})</h2>
          {orders.length === 0 ? (
            <p class="muted">No orders yet: create one with public/exchanger/order/create.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>uid</th><th>status</th><th>route</th><th>in</th><th>out</th><th>IPN URL</th><th>history</th>
                </tr>
              </thead>
              <tbody>
                {orders.map((o) => (
                  <tr>
                    <td>{o.uid}</td>
                    <td>{o.status}</td>
                    <td>{o.route.from.xml} → {o.route.to.xml}</td>
                    <td>{o.inAmount} {o.route.from.symbol}</td>
                    <td>{o.outAmount} {o.route.to.symbol}</td>
                    <td><code>{o.ipnUrl ?? "—"}</code></td>
                    <td>{o.history.map((h) => h.to).join(" → ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h2>IPN deliveries ({deliveries.length})</h2>
          {deliveries.length === 0 ? (
            <p class="muted">No IPN sent yet: they are sent when an order with an ipnUrl changes status.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th>id</th><th>order</th><th>status</th><th>fault</th><th>outcome</th><th>answer</th><th>latency</th><th>URL</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr>
                    <td>{d.id}{d.resendOf ? ` (resend of ${d.resendOf})` : ""}</td>
                    <td>{d.orderUID ?? "test"}</td>
                    <td>{d.status}</td>
                    <td>{d.fault}</td>
                    <td class={d.outcome}>{d.outcome}</td>
                    <td>{d.response ? `${d.response.status} ${d.response.bodyExcerpt.slice(0, 80)}` : (d.error ?? "")}</td>
                    <td>{d.latencyMs === null ? "" : `${d.latencyMs} ms`}</td>
                    <td><code>{d.url}</code></td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </body>
      </html>
    ).toString()
  );
}
