// The command line: parses arguments and wires them to createSandbox; owns no logic of its own.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { API_BASE_PATH } from "../api/index.js";
import { CatalogError, loadCatalogFile, type Catalog } from "../catalog/index.js";
import { CONTROL_BASE_PATH } from "../control/index.js";
import { createSandbox, DEFAULT_SEED } from "../create-sandbox.js";
import { exampleCreateParams } from "../orders/create.js";
import { assertIpnHashField, DEFAULT_IPN_TIMEOUT_MS, MAX_IPN_TIMEOUT_MS } from "../ipn/index.js";
import { createLogger, LOG_FORMATS, type LogFormat } from "../log/index.js";
import { VERSION } from "../version.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborting it stops a running `start` (the binary wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
  /** Called once `start` is listening, with the base URL (tests use it). */
  onListening?: (url: string) => void;
}

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const DEFAULT_PORT = 7070;

export const MAIN_HELP = `exchanger-sandbox ${VERSION}: a local imitation of the exchanger's merchant API, with signed IPNs.

Usage:
  exchanger-sandbox start [options]   start the sandbox (see: exchanger-sandbox start --help)
  exchanger-sandbox help              show this help
  exchanger-sandbox --version         print the version

Docs: the README of the exchanger-sandbox package.
`;

export const START_HELP = `Usage: exchanger-sandbox start [options]

Starts the sandbox: the merchant API under ${API_BASE_PATH}/, the control API and dashboard under ${CONTROL_BASE_PATH}/.

Options:
  --port N              port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR           address to bind (default 127.0.0.1, loopback only)
  --seed N              seeds routes, ids, amounts and addresses (default ${DEFAULT_SEED})
  --catalog FILE        a JSON route catalogue ({"routes": [...]}) replacing the generated one
  --ipn-timeout MS      how long a merchant may take to answer an IPN (default ${DEFAULT_IPN_TIMEOUT_MS})
  --ipn-hash-field NAME the IPN checksum's form field (default hash)
  --api-key KEY         the API key accepted by the apikey/hash authorization (default sandbox-test-key)
  --api-secret SECRET   its secret (default sandbox-test-secret)
  --log-format FORMAT   pretty or json (default pretty)
  --quiet               no log lines
  -h, --help            show this help

Example:
  exchanger-sandbox start --port 7070 --seed 42 --ipn-timeout 5000
`;

const START_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  seed: { type: "string" },
  catalog: { type: "string" },
  "ipn-timeout": { type: "string" },
  "ipn-hash-field": { type: "string" },
  "api-key": { type: "string" },
  "api-secret": { type: "string" },
  "log-format": { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

/** Runs the CLI with `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(MAIN_HELP);
        return 0;
      case "--version":
      case "-v":
      case "version":
        io.stdout(`${VERSION}\n`);
        return 0;
      case "start":
        return await start(rest, io);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; the commands are: start, help (see exchanger-sandbox --help)`);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof CatalogError) {
      // Exactly one line, even should a message (a file name, a parser complaint) span several.
      io.stderr(`exchanger-sandbox: ${error.message.replace(/\s*[\r\n]+\s*/g, " ")}\n`);
      return 2;
    }
    throw error;
  }
}

/** Runs a parseArgs call, turning its complaint into a UsageError. */
function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // parseArgs' own messages are clear, but long and sometimes several lines; keep the first sentence.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0]!.replace(/\.$/, "") : String(error);
    throw new UsageError(`${message} (see --help)`);
  }
}

function integer(value: string | undefined, flag: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`--${flag} cannot be empty`);
  return value;
}

async function start(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parsed(() => parseArgs({ args: [...args], options: START_OPTIONS, allowPositionals: false, strict: true }));
  if (values.help) {
    io.stdout(START_HELP);
    return 0;
  }
  const port = integer(values.port, "port", 0, 65535, DEFAULT_PORT);
  const host = nonEmpty(values.host, "host") ?? "127.0.0.1";
  const seed = integer(values.seed, "seed", 0, Number.MAX_SAFE_INTEGER, DEFAULT_SEED);
  const ipnTimeoutMs = integer(values["ipn-timeout"], "ipn-timeout", 1, MAX_IPN_TIMEOUT_MS, DEFAULT_IPN_TIMEOUT_MS);
  const hashField = nonEmpty(values["ipn-hash-field"], "ipn-hash-field") ?? "hash";
  try {
    assertIpnHashField(hashField);
  } catch (error) {
    throw new UsageError(`--ipn-hash-field: ${(error as Error).message}`);
  }
  const logFormat = values["log-format"] ?? "pretty";
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    throw new UsageError(`--log-format takes one of ${LOG_FORMATS.join(", ")}, got ${JSON.stringify(logFormat)}`);
  }
  const apiKey = nonEmpty(values["api-key"], "api-key") ?? "sandbox-test-key";
  const apiSecret = nonEmpty(values["api-secret"], "api-secret") ?? "sandbox-test-secret";
  const catalog: Catalog | undefined = values.catalog === undefined ? undefined : await loadCatalogFile(values.catalog);

  const logger = createLogger({ format: logFormat as LogFormat, quiet: values.quiet ?? false, write: (line) => io.stdout(line + "\n") });
  let sandbox;
  try {
    sandbox = createSandbox({
      seed,
      ...(catalog ? { catalog } : {}),
      ipnTimeoutMs,
      ipnHashField: hashField,
      logger,
      credentials: [{ apiKey, apiSecret }],
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  let url: string;
  try {
    ({ url } = await sandbox.listen(port, host));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} on ${host} is in use; pick another with --port (0 picks a free one)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot bind to ${host}: no such address on this machine`);
    if (code === "EACCES") throw new UsageError(`not allowed to bind to port ${port}; use a port above 1023`);
    throw error;
  }

  if (logFormat === "json") {
    logger.log({ type: "info", message: `listening on ${url}` });
  } else if (!values.quiet) {
    io.stdout(banner(url, sandbox.catalog, seed, apiKey, apiSecret));
  }
  io.onListening?.(url);

  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) return resolve();
    io.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  await sandbox.close();
  return 0;
}

/** The start-up text: where things are, the test key, and a curl that creates a real order. */
export function banner(url: string, catalog: Catalog, seed: number, apiKey: string, apiSecret: string): string {
  const route = catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ") ?? catalog.routes[0]!;
  const body = JSON.stringify(exampleCreateParams(route, { ipnUrl: "http://127.0.0.1:3000/ipn", ipnSecret: "change-me" }));
  return `exchanger-sandbox ${VERSION} (seed ${seed}, ${catalog.routes.length} routes)
  API base   ${url}${API_BASE_PATH}/
  Dashboard  ${url}${CONTROL_BASE_PATH}/
  API key    ${apiKey}   secret ${apiSecret}   (optional: without it an order is public)

Create an order (${route.from.symbol} → ${route.to.symbol}); point ipnUrl at your IPN handler:
  curl -s ${url}${API_BASE_PATH}/public/exchanger/order/create/ -H 'Content-Type: application/json' -d '${body}'
Then move it, which sends the IPN:
  curl -s -X POST ${url}${CONTROL_BASE_PATH}/orders/<uid>/status -H 'Content-Type: application/json' -d '{"status":"waitPayment"}'

`;
}
