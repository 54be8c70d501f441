// The dashboard's orders: a compact table row per order, with its actions, and under it the order's details and
// its timeline of moves and IPN deliveries.

import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { FAULTS, type DeliveryRecord } from "../ipn/index.js";
import { maskSecret, maskUrlSecrets } from "../log/index.js";
import { UNPAID_STATUSES } from "../orders/service.js";
import { TRANSITIONS } from "../orders/statuses.js";
import type { HistoryEntry, Order } from "../orders/types.js";
import { pagePath } from "../pages/index.js";
import { clockTime, DeliveryItem, deliveryTime } from "./dashboard-delivery.js";

export function StatusSelect({ name, statuses }: { name: string; statuses: readonly string[] }) {
  return (
    <select name={name}>
      {statuses.map((s) => (
        <option value={s}>{s}</option>
      ))}
    </select>
  );
}

/** Every delivery fault the dispatcher knows, straight from its list; the same on every card, so made once. */
let faultSelect: HtmlEscapedString | null = null;
export function FaultSelect() {
  faultSelect ??= raw(
    (
      <select name="fault">
        {FAULTS.map((f) => (
          <option value={f} selected={f === "deliver"}>
            {f}
          </option>
        ))}
      </select>
    ).toString(),
  );
  return faultSelect;
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

/** The order table's head: one column per cell of an order's row. */
export function OrderTableHead() {
  return (
    <thead>
      <tr>
        <th scope="col">order</th>
        <th scope="col">status</th>
        <th scope="col">exchange</th>
        <th scope="col">created</th>
        <th scope="col">IPNs, the last</th>
        <th scope="col">pages</th>
        <th scope="col">actions</th>
      </tr>
    </thead>
  );
}
const COLUMNS = 7;

/**
 * One order: a row with what QA scans for and the actions, then a row with its details and timeline, folded. The
 * two rows are one `tbody`, the unit the live updates replace.
 */
export function OrderRow({ order, deliveries }: { order: Order; deliveries: DeliveryRecord[] }) {
  const moves = TRANSITIONS[order.status];
  const payable = UNPAID_STATUSES.includes(order.status);
  const { from, to } = order.route;
  const last = deliveries.at(-1);
  return (
    <tbody class="order" id={`order-${order.uid}`} data-uid={String(order.uid)} data-status={order.status}>
      <tr>
        <th scope="row">#{order.uid}</th>
        <td>
          <span class="status">{order.status}</span>
        </td>
        <td>
          {order.inAmount} {from.xml} → {order.outAmount} {to.xml} <span class="muted">{order.route.manual ? "manual" : "auto"}</span>
        </td>
        <td>
          <time datetime={new Date(order.createdAt).toISOString()}>{clockTime(order.createdAt)}</time>
        </td>
        <td class="ipns">
          {last === undefined ? (
            <span class="muted">none</span>
          ) : (
            <>
              {deliveries.length} · {last.status} <span class={`outcome ${last.outcome}`}>{last.outcome}</span>
              {last.response ? ` HTTP ${last.response.status}` : ""}
            </>
          )}
        </td>
        <td>
          <a href={pagePath("payment", order.lang, order.uid, order.secret)} target="_blank" rel="noreferrer">
            payment page
          </a>{" "}
          · <a href={pagePath("order", order.lang, order.uid, order.secret)} target="_blank" rel="noreferrer">
            order page
          </a>
        </td>
        <td>
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
        </td>
      </tr>
      <tr class="more">
        <td colspan={COLUMNS}>
          <details data-key={`order-${order.uid}`}>
            <summary>
              details and timeline: {order.history.length} {order.history.length === 1 ? "move" : "moves"}, {deliveries.length}{" "}
              {deliveries.length === 1 ? "IPN" : "IPNs"}
            </summary>
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
            <Timeline history={order.history} deliveries={deliveries} />
          </details>
        </td>
      </tr>
    </tbody>
  );
}

type TimelineItem =
  | { at: number; anchor: number; rank: 0; entry: HistoryEntry }
  | { at: number; anchor: number; rank: 1; delivery: DeliveryRecord };

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
