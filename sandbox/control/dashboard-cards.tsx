// The dashboard's pieces: an order's card with its timeline of moves and IPN deliveries, and the test-IPN list.

import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { FAULTS, type DeliveryRecord } from "../ipn/index.js";
import { maskSecret, maskUrlSecrets } from "../log/index.js";
import { UNPAID_STATUSES } from "../orders/service.js";
import { TRANSITIONS } from "../orders/statuses.js";
import type { HistoryEntry, Order } from "../orders/types.js";
import { pagePath } from "../pages/index.js";

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

export function OrderCard({ order, deliveries }: { order: Order; deliveries: DeliveryRecord[] }) {
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

export function TestIpnList({ deliveries }: { deliveries: DeliveryRecord[] }) {
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
