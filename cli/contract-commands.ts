// exchanger-sandbox verify and sign: run the contract kit against a merchant, and show how an IPN is signed.

import { writeFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";
import { DEFAULT_IPN_TIMEOUT_MS, DEFAULT_PORT, MAX_IPN_TIMEOUT_MS, IPN_HASH_FIELDS_ORDER, ipnHashString, signIpn, type IpnFields } from "../sandbox/index.js";
import { browserWalkAvailable, CHECKS, CONTRACT_GROUPS, formatCheckLine, formatCheckTable, formatReport, PLAYWRIGHT_MISSING, REPORTERS, runContracts, SetupError, type ContractGroup, type ReporterName } from "../contracts/index.js";
import { checkoutBodyFlag, hashFieldFlag, integer, nonEmpty, parseFlags, UsageError, urlFlag, type CliIo } from "./args.js";

export const VERIFY_HELP = `Usage: exchanger-sandbox verify --ipn-url URL --ipn-secret SECRET [options]
       exchanger-sandbox verify --list

Checks your IPN handling against the exchanger's contracts: signature, encoding, idempotency, ordering,
finality, timeliness, reconcile (lost IPN), callback (return page) and replay. Prints a verdict per check with
evidence and a fix hint; exits 1 if a required check fails, 0 otherwise, 2 on a usage error or when a URL
given cannot be reached (nothing is judged then).

Start the kit's sandbox where your backend expects the exchanger (--sandbox-port), or give one that runs
(--sandbox-url). Without --checkout-url and --state-url the kit judges only what HTTP answers show, and says
which checks it could not judge: not judged is never a pass.

Options:
  --ipn-url URL          your IPN endpoint (required)
  --ipn-secret SECRET    the ipnSecret your backend passes to order/create (required)
  --sandbox-port N       where the kit's sandbox listens (default ${DEFAULT_PORT})
  --seed N               the seed of the kit's sandbox: its routes, ids and amounts (default: the sandbox's)
  --sandbox-url URL      use a sandbox that is already running instead
  --admin-token TOKEN    that sandbox's --admin-token, if it was started with one
  --checkout-url URL     the kit POSTs here; your backend must create an order on the sandbox, as its checkout does
  --checkout-body JSON   the JSON body of that POST (default {})
  --state-url TEMPLATE   GET your view of an order as JSON; {orderId} and {orderUID} are filled in
  --state-field PATH     the status inside that JSON, as a dot path (default status)
  --callback-url URL     your return page (default: the clientCallbackUrl your checkout sends)
  --ipn-timeout MS       how long your endpoint may take to answer (default ${DEFAULT_IPN_TIMEOUT_MS})
  --ipn-hash-field NAME  the IPN checksum's form field (default hash)
  --require-reconcile    make the lost-IPN check required (it is advisory by default)
  --reconcile-timeout MS how long your backend has to find a lost IPN's status through order/get (default 15000)
  --chromium PATH        the Chromium for the return-page walk (default: CHROMIUM_PATH or /usr/bin/chromium)
  --no-browser           skip the walk in Chromium (reported as not judged)
  --only GROUPS          only these contracts, comma-separated: ${CONTRACT_GROUPS.join(",")}
  --reporter NAME        ${REPORTERS.join(", ")} (default text)
  --output FILE          write the report there (the text summary still goes to stdout)
  --list                 print every check (id, required or advisory, what passing means) and exit
  -h, --help             show this help

Example:
  exchanger-sandbox verify --ipn-url http://127.0.0.1:3000/ipn --ipn-secret S \\
    --checkout-url http://127.0.0.1:3000/checkout --state-url 'http://127.0.0.1:3000/orders/{orderId}' \\
    --reporter junit --output contract.xml
`;

const VERIFY_OPTIONS = {
  "ipn-url": { type: "string" },
  "ipn-secret": { type: "string" },
  "sandbox-port": { type: "string" },
  seed: { type: "string" },
  "sandbox-url": { type: "string" },
  "admin-token": { type: "string" },
  "checkout-url": { type: "string" },
  "checkout-body": { type: "string" },
  "state-url": { type: "string" },
  "state-field": { type: "string" },
  "callback-url": { type: "string" },
  "ipn-timeout": { type: "string" },
  "ipn-hash-field": { type: "string" },
  "require-reconcile": { type: "boolean" },
  "reconcile-timeout": { type: "string" },
  chromium: { type: "string" },
  "no-browser": { type: "boolean" },
  only: { type: "string" },
  reporter: { type: "string" },
  output: { type: "string" },
  list: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

export async function verifyCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("verify", args, VERIFY_OPTIONS);
  if (values.help) {
    io.stdout(VERIFY_HELP);
    return 0;
  }
  const only = onlyFlag(values.only);
  if (values.list) {
    io.stdout(formatCheckTable(CHECKS.filter((c) => !only || only.includes(c.group))));
    return 0;
  }
  const ipnUrl = urlFlag(values["ipn-url"], "ipn-url");
  if (!ipnUrl) throw new UsageError("verify needs --ipn-url: your IPN endpoint, e.g. http://127.0.0.1:3000/ipn");
  const ipnSecret = nonEmpty(values["ipn-secret"], "ipn-secret");
  if (ipnSecret === undefined) throw new UsageError("verify needs --ipn-secret: the ipnSecret your backend passes to order/create");
  const sandboxUrl = urlFlag(values["sandbox-url"], "sandbox-url");
  if (sandboxUrl && values["sandbox-port"] !== undefined) throw new UsageError("give --sandbox-port (the kit starts a sandbox) or --sandbox-url (one that runs), not both");
  const adminToken = nonEmpty(values["admin-token"], "admin-token");
  if (adminToken !== undefined && !sandboxUrl) throw new UsageError("--admin-token goes with --sandbox-url (a running sandbox)");
  const sandboxPort = integer(values["sandbox-port"], "sandbox-port", 0, 65535, DEFAULT_PORT);
  if (sandboxUrl && values.seed !== undefined) throw new UsageError("--seed seeds the kit's own sandbox; a running one (--sandbox-url) keeps its own");
  const seed = values.seed === undefined ? undefined : integer(values.seed, "seed", 0, Number.MAX_SAFE_INTEGER, 0);
  const checkoutUrl = urlFlag(values["checkout-url"], "checkout-url");
  const checkoutBody = checkoutBodyFlag(values["checkout-body"]);
  const stateUrl = values["state-url"];
  if (stateUrl !== undefined) {
    urlFlag(stateUrl.replaceAll("{orderId}", "x").replaceAll("{orderUID}", "1"), "state-url");
    if (!stateUrl.includes("{orderId}") && !stateUrl.includes("{orderUID}")) {
      throw new UsageError("--state-url needs {orderId} or {orderUID} in it, e.g. 'http://127.0.0.1:3000/orders/{orderId}'");
    }
    if (!checkoutUrl) throw new UsageError("--state-url needs --checkout-url: your server only knows the orders its checkout created");
  }
  const stateField = nonEmpty(values["state-field"], "state-field") ?? "status";
  const callbackUrl = urlFlag(values["callback-url"], "callback-url");
  const ipnTimeoutMs = integer(values["ipn-timeout"], "ipn-timeout", 1, MAX_IPN_TIMEOUT_MS, DEFAULT_IPN_TIMEOUT_MS);
  const ipnHashField = hashFieldFlag(values["ipn-hash-field"]);
  const reconcileTimeoutMs = integer(values["reconcile-timeout"], "reconcile-timeout", 0, 600_000, 15_000);
  const reporter = values.reporter ?? "text";
  if (!(REPORTERS as readonly string[]).includes(reporter)) throw new UsageError(`--reporter takes one of ${REPORTERS.join(", ")}, got ${JSON.stringify(reporter)}`);
  if (values["no-browser"] && values.chromium) throw new UsageError("give --chromium or --no-browser, not both");
  // Only a checkout makes the done order the walk needs; say what is missing now rather than after the other checks.
  if (!values["no-browser"] && checkoutUrl && (!only || only.includes("callback")) && !(await browserWalkAvailable())) throw new UsageError(PLAYWRIGHT_MISSING);

  const toStdout = reporter === "text" || values.output !== undefined;
  let report;
  try {
    report = await runContracts({
      ipnUrl,
      ipnSecret,
      ...(sandboxUrl ? { sandboxUrl, ...(adminToken ? { adminToken } : {}) } : { sandboxPort, ...(seed === undefined ? {} : { seed }) }),
      ...(checkoutUrl ? { checkoutUrl, checkoutBody } : {}),
      ...(stateUrl ? { stateUrl, stateField } : {}),
      ...(callbackUrl ? { callbackUrl } : {}),
      ipnTimeoutMs,
      ipnHashField,
      requireReconcile: values["require-reconcile"] ?? false,
      reconcileTimeoutMs,
      chromiumPath: values["no-browser"] ? null : (values.chromium ?? undefined),
      ...(only ? { only } : {}),
      // Progress as each check is judged, when stdout is not the report itself.
      ...(toStdout && reporter !== "text" ? { onCheck: (c) => io.stdout(formatCheckLine(c) + "\n") } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${sandboxPort} is in use; pick another --sandbox-port, or give --sandbox-url for a sandbox that runs there`);
    if (error instanceof SetupError) throw new UsageError(error.message);
    throw error;
  }
  const text = formatReport(report, reporter as ReporterName);
  if (values.output !== undefined) {
    await writeFile(values.output, text);
    if (reporter === "text") io.stdout(text);
    else io.stdout(formatReport(report, "text").split("\n").slice(-3).join("\n") + `report written to ${values.output}\n`);
  } else {
    io.stdout(text);
  }
  return report.passed ? 0 : 1;
}

/** Reads --only: contract groups, comma-separated. */
function onlyFlag(value: string | undefined): ContractGroup[] | undefined {
  if (value === undefined) return undefined;
  const only = value.split(",").map((g) => g.trim()) as ContractGroup[];
  const unknown = only.filter((g) => !(CONTRACT_GROUPS as readonly string[]).includes(g));
  if (unknown.length || only.length === 0) throw new UsageError(`--only takes contracts from ${CONTRACT_GROUPS.join(", ")}; got ${JSON.stringify(value)}`);
  return only;
}

export const SIGN_HELP = `Usage: exchanger-sandbox sign --orderId ID --newStatus S --inAmount A --outAmount B --xml_from X --xml_to Y --timestamp MS --secret SECRET

Prints the exact string the exchanger hashes for these IPN fields and its sha256, to put beside what your code builds.

Example (the docs' own):
  exchanger-sandbox sign --orderId 5d8e6002b80b7b4cd75a6424 --newStatus inProgress --inAmount 2 --outAmount 317.42 \\
    --xml_from ETH --xml_to WMZ --timestamp 1571328406072 --secret SECRET123
`;

export function signCommand(args: readonly string[], io: CliIo): number {
  const options = Object.fromEntries([...IPN_HASH_FIELDS_ORDER, "secret"].map((name) => [name, { type: "string" as const }]));
  const { values: raw } = parseFlags("sign", args, { ...options, help: { type: "boolean", short: "h" } });
  const values = raw as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.stdout(SIGN_HELP);
    return 0;
  }
  const missing = [...IPN_HASH_FIELDS_ORDER, "secret"].filter((name) => typeof values[name] !== "string");
  if (missing.length) throw new UsageError(`sign needs ${missing.map((m) => `--${m}`).join(", ")} (see sign --help)`);
  const fields = { ...Object.fromEntries(IPN_HASH_FIELDS_ORDER.map((k) => [k, String(values[k])])), orderUID: "", toValues: [] } as unknown as IpnFields;
  const secret = String(values.secret);
  io.stdout(`string: ${ipnHashString(fields, secret)}\nsha256: ${signIpn(fields, secret).hash}\n`);
  return 0;
}
