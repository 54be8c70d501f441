// What every command shares: `help COMMAND`, values that start with a dash, the nearest option for a typo, and
// start --quiet's one URL line for scripts.

import { describe, expect, it } from "vitest";
import { DOCTOR_HELP, MAIN_HELP, RUN_HELP, SIGN_HELP, START_HELP, VERIFY_HELP } from "../cli/index.js";
import { nearest } from "../cli/args.js";
import { cli } from "./support/cli.js";
import { readDoc } from "./support/docs.js";
import { docBlock, runShell } from "./support/shell.js";

const HELPS: [string, string][] = [
  ["start", START_HELP],
  ["run", RUN_HELP],
  ["verify", VERIFY_HELP],
  ["sign", SIGN_HELP],
  ["doctor", DOCTOR_HELP],
];

/** Every long option a command's help lists in its Options section, e.g. --ipn-url. */
function optionsIn(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-\w, )?(--[A-Za-z_-]+)/gm)].map((m) => m[1]!);
}

async function usageError(...argv: string[]): Promise<string> {
  const { code, stdout, stderr } = await cli(...argv);
  expect(code, stderr).toBe(2);
  expect(stdout).toBe("");
  expect(stderr).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
  return stderr;
}

describe("help COMMAND", () => {
  it.each(HELPS)("docs/cli.md shows every flag of %s --help", (_command, help) => {
    const cliDoc = readDoc("docs/cli.md");
    for (const flag of optionsIn(help)) expect(cliDoc).toContain(flag);
  });

  it.each(HELPS)("prints %s's own help, as %s --help does", async (command, help) => {
    const viaHelp = await cli("help", command);
    expect(viaHelp).toEqual({ code: 0, stdout: help, stderr: "" });
    expect(await cli(command, "--help")).toEqual(viaHelp);
  });

  it("prints the scenarios command's help", async () => {
    const { code, stdout } = await cli("help", "scenarios");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: exchanger-sandbox scenarios/);
  });

  it("lists every command in the main help", () => {
    for (const command of ["start", "run", "scenarios", "verify", "sign", "doctor", "help"]) expect(MAIN_HELP).toContain(`exchanger-sandbox ${command}`);
  });

  it("returns 2 for help on an unknown command, with the nearest one", async () => {
    expect(await usageError("help", "strat")).toMatch(/unknown command "strat" \(did you mean start\?\)/);
  });
});

describe("values and typos", () => {
  it("judges a value that starts with a dash as a value: --port -1", async () => {
    expect(await usageError("start", "--port", "-1")).toBe('exchanger-sandbox: --port takes a whole number from 0 to 65535, got "-1"\n');
  });

  it("says a flag needs a value when the next word is another option", async () => {
    expect(await usageError("start", "--port", "--quiet")).toMatch(/^exchanger-sandbox: --port needs a value \(see exchanger-sandbox start --help\)/);
  });

  it("suggests the nearest command for a mistyped one", async () => {
    expect(await usageError("verfy")).toMatch(/unknown command "verfy" \(did you mean verify\?\)/);
  });

  it.each([
    ["run", "--ipn-ur", "--ipn-url"],
    ["start", "--prot", "--port"],
    ["start", "-port", "--port"],
    ["scenarios", "--jsno", "--json"],
    ["verify", "--secret", "--ipn-secret"],
    ["sign", "--orderid", "--orderId"],
    ["doctor", "--delivry", "--delivery"],
  ])("%s %s: did you mean %s?", async (command, typo, meant) => {
    expect(await usageError(command, typo, "x")).toContain(`unknown option ${typo}; did you mean ${meant}? (see exchanger-sandbox ${command} --help)`);
  });

  // Every option of every command, with one letter dropped, is recognised as that option mistyped.
  const dropped = HELPS.flatMap(([command, help]) =>
    optionsIn(help)
      .filter((option) => option.length > 5)
      .map((option) => [command, option, option.slice(0, 4) + option.slice(5)] as const),
  );

  it.each(dropped)("%s suggests %s for %s", async (command, option, typo) => {
    expect(await usageError(command, typo, "x")).toMatch(new RegExp(`unknown option ${typo}; did you mean (--[\\w-]+ or )*${option}[ ?]`));
  });

  it("suggests nothing when no option is near", async () => {
    expect(await usageError("start", "--frobnicate")).toBe("exchanger-sandbox: unknown option --frobnicate (see exchanger-sandbox start --help)\n");
  });

  it.each([
    ["ipn-url", ["--ipn-url", "--ipn-secret", "--sandbox-url"], ["--ipn-url"]],
    ["--PORT", ["--port", "--host"], ["--port"]],
    ["--url", ["--ipn-url", "--sandbox-url"], []],
    ["--x", ["--port"], []],
  ])("nearest(%j) among %j is %j", (word, candidates, expected) => {
    expect(nearest(word, candidates)).toEqual(expected);
  });
});

describe("start --quiet in a script", () => {
  it("runs docs/cli.md's example: the URL line leads curl to the sandbox", async () => {
    const { code } = docBlock(readDoc("docs/cli.md"), "# start-quiet (sh)");
    const result = await runShell(code);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
    expect(result.code).toBe(0);
  });
});
