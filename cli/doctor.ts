// exchanger-sandbox doctor: says why a merchant's IPN hash does not match, from a body or a recorded delivery.

import type { ParseArgsConfig } from "node:util";
import { CONTROL_BASE_PATH, diagnoseIpnHash, IpnBodyError, type DeliveryRecord, type IpnHashDiagnosis } from "../sandbox/index.js";
import { adminTokenFlag, hashFieldFlag, nonEmpty, parseFlags, UsageError, urlFlag, type CliIo } from "./args.js";
import { DEFAULT_PORT } from "./start.js";

const DEFAULT_SANDBOX = `http://127.0.0.1:${DEFAULT_PORT}`;

export const DOCTOR_HELP = `Usage: exchanger-sandbox doctor (--body RAW | --delivery ID) --secret SECRET --hash HASH [options]

Says why your IPN hash does not match. Recomputes the checksum of the IPN body with your secret; when your hash
differs, finds the common mistake that reproduces it (secret left out, fields in another order, timestamp in
seconds, values url-decoded wrongly, upper-case hex, an HMAC, amounts reformatted, a trailing newline, the whole
body hashed), and prints the exact string that should have been hashed.
Exit code: 0 when your hash is right, 1 when it is not, 2 on a usage error.

Options:
  --body RAW            the IPN's form-urlencoded body, exactly as your server received it
  --delivery ID         or a delivery the sandbox recorded (e.g. d7; see GET ${CONTROL_BASE_PATH}/deliveries)
  --sandbox URL         the running sandbox that recorded it (default ${DEFAULT_SANDBOX})
  --admin-token TOKEN   that sandbox's --admin-token, if it was started with one
  --secret SECRET       the ipnSecret the order was created with (required)
  --hash HASH           the hash your code computed (required)
  --ipn-hash-field NAME the body's checksum field (default hash; a delivery knows its own)
  -h, --help            show this help

Example (the docs' IPN, hashed without the secret):
  exchanger-sandbox doctor --secret SECRET123 \\
    --body 'orderUID=1409&orderId=5d8e6002b80b7b4cd75a6424&newStatus=inProgress&inAmount=2&outAmount=317.42&xml_from=ETH&xml_to=WMZ&timestamp=1571328406072&hash=af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48' \\
    --hash 017fb8b54c226a10de4441a166ad6f619c25be2dbdfb2ce9fa1c9b755419f7fa
`;

const DOCTOR_OPTIONS = {
  body: { type: "string" },
  delivery: { type: "string" },
  sandbox: { type: "string" },
  "admin-token": { type: "string" },
  secret: { type: "string" },
  hash: { type: "string" },
  "ipn-hash-field": { type: "string" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

export async function doctorCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("doctor", args, DOCTOR_OPTIONS);
  if (values.help) {
    io.stdout(DOCTOR_HELP);
    return 0;
  }
  const secret = nonEmpty(values.secret, "secret");
  if (secret === undefined) throw new UsageError("doctor needs --secret: the ipnSecret the order was created with");
  const hash = nonEmpty(values.hash, "hash");
  if (hash === undefined) throw new UsageError("doctor needs --hash: the hash your code computed for this IPN");
  const body = values.body;
  const deliveryId = nonEmpty(values.delivery, "delivery");
  if ((body === undefined) === (deliveryId === undefined)) throw new UsageError("doctor needs --body RAW (the IPN body) or --delivery ID (one the sandbox recorded), one of them");
  if (body !== undefined && (values.sandbox !== undefined || values["admin-token"] !== undefined)) {
    throw new UsageError("--sandbox and --admin-token go with --delivery (a delivery the sandbox recorded)");
  }
  if (deliveryId !== undefined && values["ipn-hash-field"] !== undefined) throw new UsageError("--ipn-hash-field goes with --body: a delivery knows its own checksum field");

  const delivery =
    deliveryId === undefined
      ? undefined
      : await fetchDelivery(urlFlag(values.sandbox, "sandbox") ?? DEFAULT_SANDBOX, deliveryId, adminTokenFlag(values["admin-token"]));
  let diagnosis: IpnHashDiagnosis;
  try {
    diagnosis = diagnoseIpnHash({
      body: delivery?.body ?? body!,
      secret,
      hash,
      hashField: delivery?.hashField ?? hashFieldFlag(values["ipn-hash-field"]),
      ...(delivery ? { fault: delivery.fault } : {}),
    });
  } catch (error) {
    if (error instanceof IpnBodyError) throw new UsageError(`${delivery ? `delivery ${delivery.id}: ` : "--body: "}${error.message}`);
    throw error;
  }
  io.stdout(formatDiagnosis(diagnosis));
  return diagnosis.ok ? 0 : 1;
}

/** The diagnosis as the terminal shows it: the verdict, the strings side by side, the fix, the notes. */
export function formatDiagnosis(d: IpnHashDiagnosis): string {
  const lines: string[] = [];
  if (d.ok) {
    lines.push("Your hash is right.", `  hashed       ${shown(d.expectedString)}`, `  sha256       ${d.expectedHash}`);
  } else if (d.mistakes.length === 0) {
    lines.push("Your hash does not match, and no common mistake reproduces it.", `  should hash  ${shown(d.expectedString)}`, `  its sha256   ${d.expectedHash}`);
  } else {
    const [first] = d.mistakes;
    lines.push(`Your hash does not match: ${d.mistakes.map((m) => `${m.what} (${m.detail})`).join(", and ")}.`);
    lines.push(`  ${first!.mistake === "hmac" ? "HMAC over  " : "you hashed "}  ${shown(first!.hashed)}`);
    lines.push(`  should hash  ${shown(d.expectedString)}`, `  its sha256   ${d.expectedHash}`);
    for (const m of d.mistakes) lines.push(`Fix: ${m.fix}.`);
  }
  for (const note of d.notes) lines.push(`Note: ${note}`);
  return lines.join("\n") + "\n";
}

/** A string as typed, or quoted with escapes when it holds a line break or other invisible characters. */
function shown(text: string): string {
  return /[\u0000-\u001f\u007f]|^\s|\s$/.test(text) ? JSON.stringify(text) : text;
}

async function fetchDelivery(sandbox: string, id: string, adminToken: string | undefined): Promise<DeliveryRecord> {
  const base = sandbox.replace(/\/+$/, "");
  let res: Response;
  try {
    res = await fetch(`${base}${CONTROL_BASE_PATH}/deliveries/${encodeURIComponent(id)}`, {
      headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
    throw new UsageError(`cannot reach the sandbox at ${base}: ${cause} (is it running? give its address with --sandbox URL)`);
  }
  if (res.status === 401 || res.status === 403) throw new UsageError(`the sandbox at ${base} answered ${res.status}: give its admin token with --admin-token`);
  if (res.status === 404) throw new UsageError(`the sandbox at ${base} has no delivery ${JSON.stringify(id)} (GET ${CONTROL_BASE_PATH}/deliveries lists them)`);
  const record = (await res.json().catch(() => null)) as Partial<DeliveryRecord> | null;
  if (!res.ok || typeof record?.body !== "string" || typeof record.hashField !== "string") {
    throw new UsageError(`the sandbox at ${base} answered ${res.status} without a delivery record; is ${base} an exchanger-sandbox?`);
  }
  return record as DeliveryRecord;
}
