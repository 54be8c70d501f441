// One IPN delivery on the dashboard: its outcome, its signed string, "copy as curl" to replay it by hand, and the
// form that asks the doctor why it was rejected; and the list of test IPNs, which are deliveries too.

import { IPN_CONTENT_TYPE, type DeliveryRecord } from "../ipn/index.js";
import { maskUrlSecrets } from "../log/index.js";
import { CONTROL_BASE_PATH } from "./index.js";

/** The dashboard's own routes for one delivery: internal, not part of the stable control API. */
export const DELIVERY_PATHS = {
  curl: `${CONTROL_BASE_PATH}/dashboard/deliveries/:id/curl`,
  doctor: `${CONTROL_BASE_PATH}/dashboard/deliveries/:id/doctor`,
} as const;

export function deliveryPath(route: keyof typeof DELIVERY_PATHS, id: string): string {
  return DELIVERY_PATHS[route].replace(":id", encodeURIComponent(id));
}

/** A word for a POSIX shell, in single quotes: nothing inside is expanded, and a quote is closed, escaped, reopened. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The curl command that sends a delivery again by hand, as the sandbox sent it: the same body, byte for byte
 * (--data-binary), with the IPN's content type, to `url`. -i shows the answer's status and headers.
 */
export function curlCommand(url: string, body: string): string {
  return `curl -i ${shellQuote(url)} -H ${shellQuote(`Content-Type: ${IPN_CONTENT_TYPE}`)} --data-binary ${shellQuote(body)}`;
}

/** When a delivery happened for the timeline: sent, else due (held), else not yet (pending: last). */
export function deliveryTime(d: DeliveryRecord): number {
  return d.sentAt ?? d.dueAt ?? Number.MAX_SAFE_INTEGER;
}

/** Sandbox-clock time of day with milliseconds, in UTC: deliveries are often milliseconds apart. */
export function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
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

export function DeliveryItem({ delivery: d }: { delivery: DeliveryRecord }) {
  const at = deliveryTime(d);
  return (
    <li data-kind="delivery" id={`delivery-${d.id}`} data-delivery={d.id} data-outcome={d.outcome}>
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
        {/* A link, so that without JavaScript it opens the command as text; the script copies it instead. */}
        <a class="button secondary" href={deliveryPath("curl", d.id)} data-action="copy-curl" data-delivery={d.id}>
          copy as curl
        </a>
      </div>
      <p class="signed">
        <span class="muted">signed string</span> <code>{d.hashedString ?? "(no checksum sent)"}</code>
      </p>
      <details data-key={d.id}>
        <summary>
          <code>{maskUrlSecrets(d.url)}</code> · fields, hash, body, curl and answer
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
        </p>
        <p>body sent</p>
        <pre>{d.body}</pre>
        <p>as curl (secrets in the URL masked here; "copy as curl" copies it whole)</p>
        <pre class="curl">{curlCommand(maskUrlSecrets(d.url), d.body)}</pre>
        <p>
          answer:{" "}
          {d.response ? `HTTP ${d.response.status}` : d.error !== null ? `no answer (${d.error})` : "none yet"}
          {d.latencyMs === null ? "" : ` after ${d.latencyMs} ms`}
        </p>
        {d.response && d.response.bodyExcerpt !== "" ? <pre class="excerpt">{d.response.bodyExcerpt}</pre> : null}
      </details>
      <DoctorForm delivery={d} />
    </li>
  );
}

/** "Why was this rejected?": the hash the merchant's code computed, and the secret unless the order's is to be used. */
function DoctorForm({ delivery: d }: { delivery: DeliveryRecord }) {
  // A test IPN belongs to no order, so there is no stored secret to fall back on.
  const ownSecret = d.orderUID !== null;
  return (
    <details class="doctor" data-key={`doctor-${d.id}`}>
      <summary>why was this rejected?</summary>
      <form class="doctor" method="post" action={deliveryPath("doctor", d.id)} data-delivery={d.id}>
        <label>
          your hash{" "}
          <input name="hash" required size={40} maxlength={512} autocomplete="off" spellcheck={false} placeholder="the hash your code computed" data-keep={`hash-${d.id}`} />
        </label>
        <label>
          ipnSecret{" "}
          <input
            type="password"
            name="secret"
            required={!ownSecret}
            maxlength={256}
            autocomplete="off"
            placeholder={ownSecret ? `blank: order ${d.orderUID}'s own` : "the secret it was signed with"}
            data-keep={`secret-${d.id}`}
          />
        </label>
        <button type="submit">Diagnose</button>
      </form>
      <div class="diagnosis-slot" data-keep={`diagnosis-${d.id}`} aria-live="polite"></div>
    </details>
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
