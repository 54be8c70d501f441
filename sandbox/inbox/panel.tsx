// The inbox on the dashboard: what each inbox received, newest first, with the inbox's verdict.

import type { InboxEntry } from "./index.js";

/** The dashboard's fragment that lists every inbox; the page fetches it again when an IPN to an inbox is recorded. */
export function InboxPanel({ boxes, base }: { boxes: { name: string; entries: InboxEntry[]; dropped: number }[]; base: string }) {
  return (
    <div id="inbox">
      {boxes.length === 0 ? (
        <p class="muted">
          Nothing received yet. Give an order <code>ipnUrl</code> = this sandbox's <code>{base}/inbox/NAME</code>: it answers
          200 to any IPN and checks its hash with the order's ipnSecret.
        </p>
      ) : (
        boxes.map((box) => (
          <section data-inbox={box.name}>
            <h3>
              <a href={`${base}/inbox/${box.name}`}>{box.name}</a> ({box.entries.length + box.dropped} received
              {box.dropped > 0 ? `, the oldest ${box.dropped} no longer kept` : ""})
            </h3>
            <ol class="timeline">
              {[...box.entries].reverse().map((e) => (
                <li data-kind="inbox" data-verdict={e.verdict}>
                  <div class="row">
                    <time datetime={new Date(e.receivedAt).toISOString()}>{new Date(e.receivedAt).toISOString().slice(11, 23)}</time>
                    <span class="kind">in</span>
                    <span>
                      #{e.id} order {e.orderUID ?? "?"} <strong>{e.newStatus ?? "?"}</strong>
                    </span>
                    <span class={`outcome ${e.verdict === "valid" ? "accepted" : "rejected"}`}>{e.verdict}</span>
                    <span class="muted">{e.detail}</span>
                  </div>
                </li>
              ))}
            </ol>
          </section>
        ))
      )}
    </div>
  );
}
