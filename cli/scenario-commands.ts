// exchanger-sandbox run and scenarios: play scripted order stories against a merchant and report what happened.

import type { ParseArgsConfig } from "node:util";
import { CLOCK_KINDS_HELP, DEFAULT_IPN_TIMEOUT_MS, drawSeed, MAX_CATALOG_SEED, MAX_IPN_TIMEOUT_MS } from "../sandbox/index.js";
import {
  BUILTIN_SCENARIOS,
  DEFAULT_RUN_SANDBOX_PORT,
  formatTranscriptJson,
  formatSeedLine,
  formatTranscriptText,
  resolveScenarios,
  runScenarios,
  type Transcript,
} from "../scenarios/index.js";
import { checkoutBodyFlag, clockFlag, hashFieldFlag, integer, nonEmpty, parseFlags, UsageError, urlFlag, type CliIo } from "./args.js";

export const RUN_HELP = `Usage: exchanger-sandbox run SCENARIO... --ipn-url URL --ipn-secret SECRET [options]
       exchanger-sandbox run SCENARIO... --checkout-url URL [--ipn-url URL] [options]

Plays each scenario on an order of its own and prints what happened: every status, every IPN (sent, dropped,
delayed, duplicated or tampered) and your server's answer. A SCENARIO is a built-in name (see: exchanger-sandbox
scenarios) or a file: .ts/.js (default export, see defineScenario), .json, .yaml.

Without --checkout-url, run creates each order itself with your --ipn-url and --ipn-secret. With it, run POSTs
your checkout for each scenario and plays on the order your backend creates, with its own ipnUrl and ipnSecret:
the way to play against a backend that only knows the orders its checkout made. Your backend must then talk to the
sandbox run starts (--sandbox-port) or to a running one (--sandbox).

Exit code: 0 when every expectation held, 1 when one did not, 2 on a usage error, or when your checkout fails or
its order is not the one a scenario plays on.

Options:
  --ipn-url URL         your IPN endpoint (required without --checkout-url; with it, optional: the ipnUrl your
                        checkout's orders must carry, for a sandbox others use too)
  --ipn-secret SECRET   the ipnSecret your endpoint checks hashes with (required without --checkout-url; refused
                        with it: your checkout passes its own)
  --checkout-url URL    run POSTs here; your backend must create an order on the sandbox, as its checkout does
  --checkout-body JSON  the JSON body of that POST (default {})
  --sandbox-port N      with --checkout-url: where run's sandbox listens for your backend (default ${DEFAULT_RUN_SANDBOX_PORT})
  --sandbox URL         use a running sandbox instead of an in-process one
  --admin-token TOKEN   that sandbox's --admin-token, if it was started with one
  --seed N              repeats a run: seeds order ids, secrets and addresses, and (up to ${MAX_CATALOG_SEED})
                        the routes (default: a new seed each run, shown at the end; routes as seed 1)
  --clock CLOCK         sandbox time: ${CLOCK_KINDS_HELP} (default instant)
  --start-at WHEN       where that time starts: now, or a date like 2026-01-01T00:00:00Z (default: now with
                        --checkout-url, since a real backend judges IPN timestamps by its own clock;
                        else 2026-01-01T00:00:00Z, so that the same --seed gives the same hashes)
  --ipn-timeout MS      how long your endpoint may take to answer (default ${DEFAULT_IPN_TIMEOUT_MS})
  --ipn-hash-field NAME the IPN checksum's form field (default hash)
  --json                print the transcripts as JSON (byte-identical for the same --seed)
  --timings             include your server's answer times (they differ from run to run)
  -h, --help            show this help

Examples:
  exchanger-sandbox run happy-path payout-error-then-done --ipn-url http://127.0.0.1:3000/ipn --ipn-secret S
  exchanger-sandbox run happy-path duplicate-ipn --checkout-url http://127.0.0.1:3000/checkout
`;

const RUN_OPTIONS = {
  "ipn-url": { type: "string" },
  "ipn-secret": { type: "string" },
  "checkout-url": { type: "string" },
  "checkout-body": { type: "string" },
  "sandbox-port": { type: "string" },
  sandbox: { type: "string" },
  "admin-token": { type: "string" },
  seed: { type: "string" },
  clock: { type: "string" },
  "start-at": { type: "string" },
  "ipn-timeout": { type: "string" },
  "ipn-hash-field": { type: "string" },
  json: { type: "boolean" },
  timings: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

export async function runCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags("run", args, RUN_OPTIONS, { positionals: true });
  if (values.help) {
    io.stdout(RUN_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("run needs at least one scenario name or file (see: exchanger-sandbox scenarios)");
  const checkoutUrl = urlFlag(values["checkout-url"], "checkout-url");
  const checkoutBody = checkoutBodyFlag(values["checkout-body"]);
  if (values["checkout-body"] !== undefined && checkoutUrl === undefined) throw new UsageError("--checkout-body goes with --checkout-url: it is the body run POSTs there");
  const ipnUrl = urlFlag(values["ipn-url"], "ipn-url");
  const ipnSecret = nonEmpty(values["ipn-secret"], "ipn-secret");
  if (checkoutUrl === undefined) {
    if (ipnUrl === undefined) throw new UsageError("run needs --ipn-url: your IPN endpoint, e.g. http://127.0.0.1:3000/ipn (or --checkout-url, to have your backend create the orders)");
    if (ipnSecret === undefined) throw new UsageError("run needs --ipn-secret: the secret your IPN endpoint checks hashes with");
  } else if (ipnSecret !== undefined) {
    throw new UsageError("--ipn-secret goes with the orders run creates itself; with --checkout-url your backend passes its own ipnSecret to order/create");
  }
  const sandboxUrl = urlFlag(values.sandbox, "sandbox");
  if (sandboxUrl !== undefined && (values.clock !== undefined || values.seed !== undefined || values["start-at"] !== undefined)) {
    throw new UsageError("--clock, --start-at and --seed apply to the in-process sandbox; a running one (--sandbox) keeps its own");
  }
  if (values["sandbox-port"] !== undefined) {
    if (checkoutUrl === undefined) throw new UsageError("--sandbox-port goes with --checkout-url: it is where run's sandbox listens for your backend");
    if (sandboxUrl !== undefined) throw new UsageError("give --sandbox-port (run starts a sandbox there) or --sandbox (one that runs), not both");
  }
  const sandboxPort = integer(values["sandbox-port"], "sandbox-port", 0, 65535, DEFAULT_RUN_SANDBOX_PORT);
  const adminToken = nonEmpty(values["admin-token"], "admin-token");
  if (adminToken !== undefined && sandboxUrl === undefined) throw new UsageError("--admin-token goes with --sandbox (a running sandbox)");
  // A running sandbox keeps its own seed; an in-process one gets the one given, or a new one that the output shows.
  const seed = sandboxUrl !== undefined ? undefined : values.seed === undefined ? drawSeed() : integer(values.seed, "seed", 0, Number.MAX_SAFE_INTEGER, 0);
  const clock = clockFlag(values.clock, "instant");
  if (clock === "real" && values["start-at"] !== undefined) throw new UsageError("--start-at sets where a virtual clock starts; the real clock is always now");
  const startAt = startAtFlag(values["start-at"] ?? (checkoutUrl === undefined ? undefined : "now"));
  const ipnTimeoutMs = integer(values["ipn-timeout"], "ipn-timeout", 1, MAX_IPN_TIMEOUT_MS, DEFAULT_IPN_TIMEOUT_MS);
  const ipnHashField = hashFieldFlag(values["ipn-hash-field"]);
  const scenarios = await resolveScenarios(positionals);
  const format = { timings: values.timings ?? false };

  let transcripts: Transcript[];
  try {
    transcripts = await runScenarios({
      scenarios,
      ...(ipnUrl === undefined ? {} : { ipnUrl }),
      ...(ipnSecret === undefined ? {} : { ipnSecret }),
      ...(checkoutUrl === undefined ? {} : { checkout: { url: checkoutUrl, body: checkoutBody }, ...(sandboxUrl ? {} : { sandboxPort }) }),
      ...(seed === undefined ? {} : { seed }),
      clock,
      ...(startAt === undefined ? {} : { startAt }),
      ipnTimeoutMs,
      ipnHashField,
      ...(sandboxUrl ? { sandboxUrl } : {}),
      ...(adminToken ? { adminToken } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      // Text is printed as each scenario ends, so a long run shows progress.
      ...(values.json ? {} : { onTranscript: (t: Transcript) => io.stdout(formatTranscriptText(t, format) + "\n") }),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new UsageError(`port ${sandboxPort} is in use; pick another --sandbox-port, or give --sandbox for a sandbox that runs there`);
    }
    // A route missing from the catalogue, an unreachable --sandbox, a checkout that fails or makes another order
    // than a scenario plays on: the command cannot run as asked.
    throw new UsageError((error as Error).message);
  }
  const passed = transcripts.every((t) => t.passed);
  if (values.json) {
    io.stdout(formatTranscriptJson(transcripts, { ...format, seed: seed ?? null }));
  } else {
    const failed = transcripts.filter((t) => !t.passed).map((t) => t.scenario);
    if (seed !== undefined) io.stdout(`${formatSeedLine(seed)}\n`);
    io.stdout(passed ? `${transcripts.length} passed, 0 failed\n` : `${transcripts.length - failed.length} passed, ${failed.length} failed: ${failed.join(", ")}\n`);
  }
  return passed ? 0 : 1;
}

export function scenariosCommand(args: readonly string[], io: CliIo): number {
  const { values } = parseFlags("scenarios", args, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (values.help) {
    io.stdout("Usage: exchanger-sandbox scenarios [--json]\n\nLists the built-in scenarios, a line each.\n");
    return 0;
  }
  if (values.json) {
    io.stdout(JSON.stringify({ scenarios: BUILTIN_SCENARIOS.map(({ name, description }) => ({ name, description })) }, null, 2) + "\n");
    return 0;
  }
  const width = Math.max(...BUILTIN_SCENARIOS.map((s) => s.name.length));
  io.stdout(BUILTIN_SCENARIOS.map((s) => `${s.name.padEnd(width)}  ${s.description}`).join("\n") + "\n");
  return 0;
}

/** Reads --start-at: `now`, or an ISO 8601 date and time (a zone is required, so the moment is not the machine's guess). */
function startAtFlag(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value === "now") return Date.now();
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) throw new UsageError(`--start-at takes now or a date and time with its zone, like 2026-01-01T00:00:00Z; got ${JSON.stringify(value)}`);
  return ms;
}
