// exchanger-sandbox start: parses its flags and runs a sandbox until stopped; owns no logic of its own.

import type { ParseArgsConfig } from "node:util";
import { API_BASE_PATH, loadCatalogFile, type Catalog, CLOCK_KINDS_HELP, CONTROL_BASE_PATH, DEFAULT_IPN_TIMEOUT_MS, MAX_IPN_TIMEOUT_MS, createLogger, LOG_FORMATS, type LogFormat, exampleCreateParams, createSandbox, drawSeed, MAX_CATALOG_SEED, DEFAULT_PORT, TEST_CREDENTIALS, VERSION, isLoopbackHost, maskSecret } from "../sandbox/index.js";
import { BUILTIN_SCENARIOS, findBuiltinScenario, scenarioDirector } from "../scenarios/index.js";
import { adminTokenFlag, clockFlag, hashFieldFlag, hostListFlag, integer, nonEmpty, parseFlags, untilAborted, urlFlag, UsageError, type CliIo } from "./args.js";

export { DEFAULT_PORT };

export const START_HELP = `Usage: exchanger-sandbox start [options]

Starts the sandbox: the merchant API under ${API_BASE_PATH}/, the control API and dashboard under ${CONTROL_BASE_PATH}/.

Options:
  --port N              port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR           address to bind (default 127.0.0.1, loopback only); any other needs --admin-token
  --admin-token TOKEN   require it on every /_sandbox request (Authorization: Bearer TOKEN; the dashboard:
                        open /_sandbox/?token=TOKEN once); at least 12 characters
  --ipn-allow HOST,...  send IPNs only to these hosts; order/create refuses an ipnUrl elsewhere
  --seed N              repeats a run: seeds order ids, secrets and addresses, and (up to ${MAX_CATALOG_SEED})
                        the routes (default: a new seed each start, shown in the banner; routes as seed 1)
  --catalog FILE        a JSON route catalogue ({"routes": [...]}) replacing the generated one
  --ipn-timeout MS      how long a merchant may take to answer an IPN (default ${DEFAULT_IPN_TIMEOUT_MS})
  --ipn-hash-field NAME the IPN checksum's form field (default hash)
  --data DIR            keep orders, deliveries and the clock in DIR across restarts (default: in memory);
                        one sandbox per DIR at a time
  --repair              with --data: drop journal lines that cannot be read instead of refusing to start
                        (a copy of the journal as it was is kept, and the log says what was dropped)
  --public-url URL      a URL clients reach the sandbox by, when that is by a host name other than
                        localhost (repeatable); requests naming any other host get 421
  --clock CLOCK         sandbox time: ${CLOCK_KINDS_HELP} (default real)
  --scenario NAME       play this built-in scenario on every new order (see: exchanger-sandbox scenarios)
  --api-key KEY         the API key accepted by the apikey/hash authorization (default ${TEST_CREDENTIALS.apiKey})
  --api-secret SECRET   its secret (default ${TEST_CREDENTIALS.apiSecret})
  --log-format FORMAT   pretty or json (default pretty)
  --quiet               print only the base URL (one line, e.g. http://127.0.0.1:7070), no banner, no log lines
  -h, --help            show this help

Example:
  exchanger-sandbox start --port 7070 --seed 42 --ipn-timeout 5000
`;

const START_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  "admin-token": { type: "string" },
  "ipn-allow": { type: "string" },
  seed: { type: "string" },
  catalog: { type: "string" },
  "ipn-timeout": { type: "string" },
  "ipn-hash-field": { type: "string" },
  data: { type: "string" },
  repair: { type: "boolean" },
  "public-url": { type: "string", multiple: true },
  clock: { type: "string" },
  scenario: { type: "string" },
  "api-key": { type: "string" },
  "api-secret": { type: "string" },
  "log-format": { type: "string" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

export async function start(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags("start", args, START_OPTIONS);
  if (values.help) {
    io.stdout(START_HELP);
    return 0;
  }
  const port = integer(values.port, "port", 0, 65535, DEFAULT_PORT);
  const host = nonEmpty(values.host, "host") ?? "127.0.0.1";
  const adminToken = adminTokenFlag(values["admin-token"]);
  const ipnAllow = hostListFlag(values["ipn-allow"], "ipn-allow");
  const exposed = !isLoopbackHost(host);
  if (exposed && adminToken === undefined) {
    throw new UsageError(
      `--host ${host} is reachable from other machines, and so would be the control API: add --admin-token TOKEN (see docs/service.md, "Running as a shared service")`,
    );
  }
  // Drawn here rather than by createSandbox, so that a bad flag below is refused before anything is drawn or bound.
  const seed = values.seed === undefined ? drawSeed() : integer(values.seed, "seed", 0, Number.MAX_SAFE_INTEGER, 0);
  const ipnTimeoutMs = integer(values["ipn-timeout"], "ipn-timeout", 1, MAX_IPN_TIMEOUT_MS, DEFAULT_IPN_TIMEOUT_MS);
  const hashField = hashFieldFlag(values["ipn-hash-field"]);
  const clock = clockFlag(values.clock, "real");
  const scenarioName = nonEmpty(values.scenario, "scenario");
  const defaultScenario = scenarioName === undefined ? undefined : findBuiltinScenario(scenarioName);
  if (scenarioName !== undefined && !defaultScenario) {
    throw new UsageError(`--scenario: unknown scenario ${JSON.stringify(scenarioName)}; the built-in ones are ${BUILTIN_SCENARIOS.map((s) => s.name).join(", ")}`);
  }
  const logFormat = values["log-format"] ?? "pretty";
  if (!(LOG_FORMATS as readonly string[]).includes(logFormat)) {
    throw new UsageError(`--log-format takes one of ${LOG_FORMATS.join(", ")}, got ${JSON.stringify(logFormat)}`);
  }
  const apiKey = nonEmpty(values["api-key"], "api-key") ?? TEST_CREDENTIALS.apiKey;
  const apiSecret = nonEmpty(values["api-secret"], "api-secret") ?? TEST_CREDENTIALS.apiSecret;
  const catalog: Catalog | undefined = values.catalog === undefined ? undefined : await loadCatalogFile(values.catalog);
  if (values.repair && values.data === undefined) throw new UsageError("--repair mends the journal of a --data folder: give --data DIR too");
  const publicUrls = (values["public-url"] ?? []).map((url) => urlFlag(url, "public-url")!);

  const logger = createLogger({ format: logFormat as LogFormat, quiet: values.quiet ?? false, write: (line) => io.stdout(line + "\n") });
  let sandbox;
  try {
    sandbox = createSandbox({
      seed,
      ...(catalog ? { catalog } : {}),
      ipnTimeoutMs,
      ipnHashField: hashField,
      ...(values.data === undefined ? {} : { dataDir: nonEmpty(values.data, "data")! }),
      ...(values.repair ? { journal: { repair: true } } : {}),
      ...(publicUrls.length > 0 ? { publicUrls } : {}),
      clock,
      logger,
      extensions: [scenarioDirector({ library: BUILTIN_SCENARIOS, ipnTimeoutMs, ...(defaultScenario ? { defaultScenario } : {}) })],
      credentials: [{ apiKey, apiSecret }],
      ...(adminToken === undefined ? {} : { adminToken }),
      ...(ipnAllow === undefined ? {} : { ipnAllow }),
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  let url: string;
  try {
    ({ url } = await sandbox.listen(port, host));
  } catch (error) {
    // Let go of the data folder's lock before saying why.
    await sandbox.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`port ${port} on ${host} is in use; pick another with --port (0 picks a free one)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot bind to ${host}: no such address on this machine`);
    if (code === "EACCES") throw new UsageError(`not allowed to bind to port ${port}; use a port above 1023`);
    throw error;
  }

  if (exposed && ipnAllow === undefined) {
    io.stderr(
      `exchanger-sandbox: warning: listening on ${host} without --ipn-allow: anyone who can reach the API can make the sandbox POST to any host it can reach (a request relay); add --ipn-allow HOST[,HOST]\n`,
    );
  }
  if (values.quiet) {
    // The one line a script needs, and nothing after it: the base URL (docs/cli.md, "Scripts").
    io.stdout(`${url}\n`);
  } else if (logFormat === "json") {
    logger.log({ type: "info", message: `listening on ${url}` });
  } else {
    io.stdout(banner(url, sandbox.catalog, seed, apiKey, apiSecret, adminToken !== undefined));
    if (defaultScenario || clock !== "real") {
      io.stdout(`Clock ${clock}${defaultScenario ? `; every new order plays scenario ${defaultScenario.name}` : ""}.\n\n`);
    }
  }
  io.onListening?.(url);

  await untilAborted(io.signal);
  await sandbox.close();
  return 0;
}

/** The start-up text: where things are, the test key, and a curl that creates a real order. */
export function banner(url: string, catalog: Catalog, seed: number, apiKey: string, apiSecret: string, adminToken = false): string {
  const route = catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ") ?? catalog.routes[0]!;
  // The sandbox's own inbox takes the IPNs, so the example works on a machine with no merchant running yet.
  const body = JSON.stringify(exampleCreateParams(route, { ipnUrl: `${url}${CONTROL_BASE_PATH}/inbox/quickstart`, ipnSecret: "change-me" }));
  // The token itself is never printed: whoever started the sandbox has it, and logs are often shared.
  const auth = adminToken ? ` -H "Authorization: Bearer $ADMIN_TOKEN"` : "";
  // The test pair is public (it is in the docs); a secret of the user's own is masked like every other secret.
  const shownSecret = apiSecret === TEST_CREDENTIALS.apiSecret ? apiSecret : maskSecret(apiSecret);
  const dashboard = adminToken ? `${url}${CONTROL_BASE_PATH}/?token=<admin token>   (once; it sets a cookie)` : `${url}${CONTROL_BASE_PATH}/`;
  return `exchanger-sandbox ${VERSION} (seed ${seed}, ${catalog.routes.length} routes)
  API base   ${url}${API_BASE_PATH}/
  Dashboard  ${dashboard}
  API key    ${apiKey}   secret ${shownSecret}   (optional: without it an order is public)

Create an order (${route.from.symbol} → ${route.to.symbol}); its IPNs go to the sandbox's own inbox until you point ipnUrl at your handler:
  curl -s ${url}${API_BASE_PATH}/public/exchanger/order/create/ -H 'Content-Type: application/json' -d '${body}'
Then move it, which sends the IPN, and see what the inbox made of it:
  curl -s -X POST ${url}${CONTROL_BASE_PATH}/orders/<uid>/status${auth} -H 'Content-Type: application/json' -d '{"status":"waitPayment"}'
  curl -s ${url}${CONTROL_BASE_PATH}/inbox/quickstart${auth}

`;
}
