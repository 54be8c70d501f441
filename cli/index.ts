// The command line: reads the command and hands it to its module; one line and exit code 2 for any usage mistake.

import { CatalogError, VERSION } from "../sandbox/index.js";
import { ScenarioError } from "../scenarios/index.js";
import { nearest, UsageError, type CliIo } from "./args.js";
import { signCommand, verifyCommand } from "./contract-commands.js";
import { doctorCommand } from "./doctor.js";
import { runCommand, scenariosCommand } from "./scenario-commands.js";
import { start } from "./start.js";

export { UsageError, type CliIo } from "./args.js";
export { START_HELP, DEFAULT_PORT, banner } from "./start.js";
export { RUN_HELP } from "./scenario-commands.js";
export { SIGN_HELP, VERIFY_HELP } from "./contract-commands.js";
export { DOCTOR_HELP, formatDiagnosis } from "./doctor.js";

export const MAIN_HELP = `exchanger-sandbox ${VERSION}: a local imitation of the exchanger's merchant API, with signed IPNs.

Usage:
  exchanger-sandbox start [options]              start the sandbox (see: exchanger-sandbox start --help)
  exchanger-sandbox run SCENARIO... [options]    play scenarios against your IPN handler (see: run --help)
  exchanger-sandbox scenarios                    list the built-in scenarios
  exchanger-sandbox verify --ipn-url URL ...     check your IPN handling against the contracts (see: verify --help)
  exchanger-sandbox sign --orderId ... --secret S  print the string an IPN hash is made from, and the hash
  exchanger-sandbox doctor --body RAW --secret S --hash H  say why your IPN hash does not match (see doctor --help)
  exchanger-sandbox help [COMMAND]               show this help, or that command's
  exchanger-sandbox --version                    print the version

Docs: README.md and docs/ in the exchanger-sandbox package.
`;

/** Each command and what runs it; `help COMMAND` and `COMMAND --help` print the same text. */
const COMMANDS: Record<string, (args: readonly string[], io: CliIo) => number | Promise<number>> = {
  start,
  run: runCommand,
  scenarios: scenariosCommand,
  verify: verifyCommand,
  sign: signCommand,
  doctor: doctorCommand,
};

/** Runs the CLI with `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const [command, ...rest] = argv;
    switch (command) {
      case undefined:
      case "--help":
      case "-h":
        io.stdout(MAIN_HELP);
        return 0;
      case "help":
        if (rest.length === 0) {
          io.stdout(MAIN_HELP);
          return 0;
        }
        if (rest.length > 1) throw new UsageError(`help takes one command, got ${rest.join(" ")} (see exchanger-sandbox help)`);
        return await commandFor(rest[0]!)(["--help"], io);
      case "--version":
      case "-v":
      case "version":
        io.stdout(`${VERSION}\n`);
        return 0;
      default:
        return await commandFor(command)(rest, io);
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof CatalogError || error instanceof ScenarioError) {
      // Exactly one line, even should a message (a file name, a parser complaint) span several.
      io.stderr(`exchanger-sandbox: ${error.message.replace(/\s*[\r\n]+\s*/g, " ")}\n`);
      return 2;
    }
    throw error;
  }
}

function commandFor(name: string): (args: readonly string[], io: CliIo) => number | Promise<number> {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command) return command;
  const names = [...Object.keys(COMMANDS), "help"];
  const suggestion = nearest(name, names);
  throw new UsageError(
    `unknown command ${JSON.stringify(name)}${suggestion.length ? ` (did you mean ${suggestion.join(" or ")}?)` : ""}; the commands are: ${names.join(", ")} (see exchanger-sandbox --help)`,
  );
}
