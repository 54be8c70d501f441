// The dashboard's "why was this rejected?": runs the IPN hash doctor on one recorded delivery with the secret the
// user gives or, left blank, the order's own ipnSecret (used here on the server, never shown), and shows the
// diagnosis with the secret masked wherever it stands in a string.

import { diagnoseIpnHash, IpnBodyError, type DeliveryRecord, type IpnHashDiagnosis } from "../ipn/index.js";
import { maskSecret } from "../log/index.js";
import { safeEqual } from "../secure.js";

const MAX_HASH_CHARS = 512;
const MAX_SECRET_CHARS = 256;

export type DoctorOutcome =
  | {
      kind: "diagnosis";
      diagnosis: IpnHashDiagnosis;
      /** The hash the user gave, as given. */
      given: string;
      secret: string;
      /** Where the secret came from: the form, or the order's stored ipnSecret. */
      secretFrom: "form" | "order";
    }
  | { kind: "refused"; status: 400 | 404; message: string };

export interface DoctorForm {
  hash?: string | undefined;
  secret?: string | undefined;
}

/**
 * Diagnoses the hash a user gave for a recorded delivery. `orderSecret` is the ipnSecret of the order the delivery
 * belongs to, when there is one; a blank secret in the form means "use it". Pure, like the doctor it runs.
 */
export function doctorFor(id: string, delivery: DeliveryRecord | undefined, orderSecret: string | null, form: DoctorForm): DoctorOutcome {
  if (!delivery) return { kind: "refused", status: 404, message: `No delivery ${id}: GET /_sandbox/deliveries lists them.` };
  const given = (form.hash ?? "").trim();
  if (given === "") return { kind: "refused", status: 400, message: "Paste the hash your code computed for this IPN, then ask again." };
  if (given.length > MAX_HASH_CHARS) return { kind: "refused", status: 400, message: `A hash is at most ${MAX_HASH_CHARS} characters here; the one given has ${given.length}.` };
  const typed = form.secret ?? "";
  if (typed.length > MAX_SECRET_CHARS) return { kind: "refused", status: 400, message: `An ipnSecret is at most ${MAX_SECRET_CHARS} characters; the one given has ${typed.length}.` };
  const secretFrom = typed === "" ? "order" : "form";
  const secret = typed === "" ? orderSecret : typed;
  if (secret === null || secret === "") {
    const why = delivery.orderUID === null ? "a test IPN belongs to no order" : `order ${delivery.orderUID} is not here any more`;
    return { kind: "refused", status: 400, message: `Give the ipnSecret this IPN was signed with: ${why}, so there is no stored secret to use.` };
  }
  try {
    const diagnosis = diagnoseIpnHash({ body: delivery.body, secret, hash: given, hashField: delivery.hashField, fault: delivery.fault });
    if (secretFrom === "form" && orderSecret !== null && !safeEqual(secret, orderSecret)) {
      diagnosis.notes.push(`The secret given is not the ipnSecret order ${delivery.orderUID} was created with: leave it blank to use that one.`);
    }
    return { kind: "diagnosis", diagnosis, given, secret, secretFrom };
  } catch (error) {
    if (error instanceof IpnBodyError) return { kind: "refused", status: 400, message: `Delivery ${id}: ${error.message}.` };
    throw error;
  }
}

/**
 * `text` with the secret masked wherever it stands as a value: bounded by ":" or the string's start, and by ":" or
 * the string's end; or simply ending the string (a line break after it aside), as when it follows a body. A field
 * whose value is the secret itself is masked too, which errs on the side of showing less.
 */
export function maskSecretIn(text: string, secret: string): string {
  if (secret === "") return text;
  const masked = maskSecret(secret);
  let out = "";
  let from = 0;
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
    if (at < from) continue;
    const end = at + secret.length;
    const ends = end === text.length || /^\r?\n$/.test(text.slice(end));
    const bounded = (at === 0 || text[at - 1] === ":") && (ends || text[end] === ":");
    if (!bounded && !ends) continue;
    out += text.slice(from, at) + masked;
    from = end;
  }
  return out + text.slice(from);
}

/** The diagnosis as the dashboard shows it; a refusal says what to change. Every string is escaped by JSX. */
export function DiagnosisView({ id, outcome }: { id: string; outcome: DoctorOutcome }) {
  if (outcome.kind === "refused") {
    return (
      <section class="diagnosis" data-delivery={id} data-verdict="refused">
        <p class="verdict bad">{outcome.message}</p>
      </section>
    );
  }
  const { diagnosis: d, given, secret } = outcome;
  const mask = (text: string) => shown(maskSecretIn(text, secret));
  const [first] = d.mistakes;
  const verdict = d.ok ? "right" : first ? "mistake" : "unexplained";
  return (
    <section class="diagnosis" data-delivery={id} data-verdict={verdict} data-mistakes={d.mistakes.map((m) => m.mistake).join(" ")}>
      <p class={`verdict ${d.ok ? "ok" : "bad"}`}>
        {d.ok
          ? "Your hash is right."
          : first
            ? `Your hash does not match: ${d.mistakes.map((m) => `${m.what} (${m.detail})`).join(", and ")}.`
            : "Your hash does not match, and no common mistake reproduces it."}
      </p>
      <dl class="strings">
        {first ? (
          <div>
            <dt>{first.mistake === "hmac" ? "HMAC over" : "you hashed"}</dt>
            <dd>
              <code>{mask(first.hashed)}</code>
            </dd>
          </div>
        ) : null}
        <div>
          <dt>{d.ok ? "hashed" : "should hash"}</dt>
          <dd>
            <code class="expected">{mask(d.expectedString)}</code>
          </dd>
        </div>
        <div>
          <dt>its sha256</dt>
          <dd>
            <code>{d.expectedHash}</code>
          </dd>
        </div>
        <div>
          <dt>your hash</dt>
          <dd>
            <code>{given}</code>
          </dd>
        </div>
      </dl>
      {d.mistakes.map((m) => (
        <p class="fix">Fix: {m.fix}.</p>
      ))}
      {d.notes.length > 0 ? (
        <ul class="notes">
          {d.notes.map((note) => (
            <li>{note}</li>
          ))}
        </ul>
      ) : null}
      <p class="muted">
        secret: {outcome.secretFrom === "order" ? "the order's own ipnSecret" : "the one given"}, {maskSecret(secret)}
      </p>
    </section>
  );
}

/** The doctor's answer as a page of its own, for a browser without JavaScript (the script takes only its section). */
export function DoctorPage({ id, outcome, back, stylesheet, icon }: { id: string; outcome: DoctorOutcome; back: string; stylesheet: string; icon: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Why was {id} rejected? · exchanger-sandbox</title>
        <link rel="icon" type="image/svg+xml" href={icon} />
        <link rel="stylesheet" href={stylesheet} />
      </head>
      <body>
        <main>
          <p>
            <a href={back}>« back to the dashboard</a>
          </p>
          <h2>Why was {id} rejected?</h2>
          <DiagnosisView id={id} outcome={outcome} />
        </main>
      </body>
    </html>
  );
}

/** A string as typed, or quoted with escapes when it holds a line break or other invisible characters. */
function shown(text: string): string {
  return /[\u0000-\u001f\u007f]|^\s|\s$/.test(text) ? JSON.stringify(text) : text;
}
