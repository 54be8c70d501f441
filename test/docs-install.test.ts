// How the docs install and run exchanger-sandbox: the CI examples are whole, parse as YAML, run only the copy the
// project installed and only commands and flags the command line has; no page runs npx in a way that fails
// (a tarball as the command) or that would run whatever the registry holds (--yes).

import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { runCli } from "../cli/index.js";
import { allDocs, readDoc } from "./support/docs.js";
import { commandsOf, findBlocks, type DocBlock } from "./support/doc-examples.js";
import { merchantEnv, PACKAGE_VERSION, REPO } from "./support/package.js";

const CI_PAGE = "docs/contracts.md";
const ciBlocks = findBlocks(CI_PAGE, readDoc(CI_PAGE));
const yamlBlocks = ciBlocks.filter((b) => b.lang === "yaml");
const parsed = yamlBlocks.map((block) => {
  const document = parseDocument(block.text);
  return { block, document, value: document.toJS() as Record<string, unknown> };
});
const github = parsed.find((p) => "jobs" in p.value);
const gitlab = parsed.find((p) => !("jobs" in p.value));

/** Top-level keys of .gitlab-ci.yml that are settings, not jobs. */
const GITLAB_GLOBALS = new Set(["stages", "variables", "default", "include", "workflow", "image", "services", "before_script", "after_script", "cache"]);

/** Each job of an example with the shell scripts it runs, in order. */
function jobScripts(example: { value: Record<string, unknown> }): { job: string; scripts: string[] }[] {
  if (example === github) {
    return Object.entries(example.value.jobs as Record<string, { steps: { run?: string }[] }>).map(([job, spec]) => ({
      job,
      scripts: spec.steps.flatMap((step) => (typeof step.run === "string" ? [step.run] : [])),
    }));
  }
  return Object.entries(example.value)
    .filter(([key]) => !GITLAB_GLOBALS.has(key) && !key.startsWith("."))
    .map(([job, spec]) => ({ job, scripts: (spec as { script: string[] }).script }));
}

/**
 * Splits a shell script into its simple commands, as words: quotes removed; `&&`, `||`, `;`, `|`, `&` and line ends
 * between commands; redirections, `NAME=value` prefixes and the keywords of `until … do … done` dropped;
 * `sh -c 'SCRIPT'` and `timeout N COMMAND` opened up. Enough for the CI examples: it refuses `$(…)` and backquotes
 * rather than read them wrongly.
 */
export function shellCommands(script: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word: string | null = null;
  let redirect = false;
  const endWord = () => {
    if (word !== null) {
      if (redirect) redirect = false;
      else words.push(word);
    }
    word = null;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(...opened(words));
    words = [];
  };
  for (let i = 0; i < script.length; i++) {
    const c = script[i]!;
    if (c === "\\" && script[i + 1] === "\n") i++;
    else if (c === "\\") word = (word ?? "") + (script[++i] ?? "");
    else if (c === "'") {
      const end = script.indexOf("'", i + 1);
      if (end === -1) throw new Error(`an unclosed ' in ${JSON.stringify(script)}`);
      word = (word ?? "") + script.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = "";
      for (i++; i < script.length && script[i] !== '"'; i++) {
        if (script[i] === "\\" && '"\\$`'.includes(script[i + 1] ?? "")) i++;
        else if (script[i] === "`" || (script[i] === "$" && script[i + 1] === "(")) throw new Error(`command substitution is not read here: ${script}`);
        text += script[i];
      }
      word = (word ?? "") + text;
    } else if (c === "`" || (c === "$" && script[i + 1] === "(")) {
      throw new Error(`command substitution is not read here: ${script}`);
    } else if (c === "#" && word === null) {
      while (i + 1 < script.length && script[i + 1] !== "\n") i++;
    } else if (c === ">" || c === "<") {
      // `2>&1`, `> file`, `2> file`: a file descriptor's digits before it belong to the redirection.
      if (word !== null && /^\d+$/.test(word)) word = null;
      endWord();
      if (script[i + 1] === ">") i++;
      if (script[i + 1] === "&" && /\d/.test(script[i + 2] ?? "")) i += 2;
      else redirect = true;
    } else if (c === "&" || c === "|" || c === ";" || c === "\n") {
      endCommand();
      if ((c === "&" || c === "|") && script[i + 1] === c) i++;
    } else if (c === " " || c === "\t") {
      endWord();
    } else {
      word = (word ?? "") + c;
    }
  }
  endCommand();
  return commands;
}

const KEYWORDS = new Set(["until", "while", "do", "done", "then", "if", "fi", "else"]);

function opened(words: string[]): string[][] {
  let rest = [...words];
  while (rest.length > 0 && (KEYWORDS.has(rest[0]!) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(rest[0]!))) rest = rest.slice(1);
  if (rest[0] === "timeout") return opened(rest.slice(2));
  if ((rest[0] === "sh" || rest[0] === "bash") && rest[1] === "-c") return shellCommands(rest[2] ?? "");
  return rest.length > 0 ? [rest] : [];
}

/** Every command a CI example runs, by job. */
function ciCommands(example: { value: Record<string, unknown> }): { job: string; commands: string[][] }[] {
  return jobScripts(example).map(({ job, scripts }) => ({ job, commands: scripts.flatMap(shellCommands) }));
}

/** The words after `npx`'s own options: `npx --no exchanger-sandbox verify …` → options [--no], then [exchanger-sandbox, verify, …]. */
function npxParts(command: string[]): { options: string[]; run: string[] } {
  const words = command.slice(1);
  const options: string[] = [];
  let i = 0;
  for (; i < words.length && words[i]!.startsWith("-"); i++) {
    options.push(words[i]!);
    if ((words[i] === "--package" || words[i] === "-p") && i + 1 < words.length) options.push(words[++i]!);
  }
  return { options, run: words.slice(i) };
}

/** The exchanger-sandbox command lines of a list of commands: [subcommand, ...its arguments]. */
function sandboxCommandLines(commands: string[][]): string[][] {
  return commands.flatMap((command) => {
    if (command[0] === "exchanger-sandbox") return [command.slice(1)];
    if (command[0] !== "npx") return [];
    const { run } = npxParts(command);
    return /^exchanger-sandbox(@|$)/.test(run[0] ?? "") ? [run.slice(1)] : [];
  });
}

const flagNames = (args: string[]) => args.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]!).sort();

/** Runs the command line's own parser on the words, with --help so that nothing else runs once they are read. */
async function parseWithTheCli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = "";
  const code = await runCli([...args, "--help"], { stdout: () => {}, stderr: (text) => (stderr += text) });
  return { code, stderr };
}

/** What is wrong with how a text runs npx: --yes, a tarball run as the command, a version other than ours. */
export function npxProblems(text: string): string[] {
  const problems: string[] = [];
  for (const line of text.split("\n")) {
    for (const at of [...line.matchAll(/\bnpx\s/g)].map((m) => m.index)) {
      // The command runs to the end of the line, of the inline code or of the shell command it is in.
      const command = line.slice(at).split(/`|&&|\|\||[;|)]/)[0]!.trim();
      const { options, run } = npxParts(command.split(/\s+/).map((word) => word.replace(/["']/g, "")));
      if (options.some((o) => o === "--yes" || o === "-y")) problems.push(`--yes lets npx fetch and run whatever the registry holds: ${command}`);
      if (run[0]?.endsWith(".tgz")) problems.push(`npx runs a tarball's path as a program (Permission denied); give it with --package: ${command}`);
    }
  }
  for (const m of text.matchAll(/exchanger-sandbox-(\d[\w.-]*?)\.tgz/g)) if (m[1] !== PACKAGE_VERSION) problems.push(`a tarball of version ${m[1]}, not package.json's ${PACKAGE_VERSION}: ${m[0]}`);
  for (const m of text.matchAll(/exchanger-sandbox@(\d[\w.-]*\w)/g)) if (m[1] !== PACKAGE_VERSION) problems.push(`exchanger-sandbox@${m[1]}, not package.json's ${PACKAGE_VERSION}`);
  return problems;
}

describe("the CI examples", () => {
  it("are a GitHub workflow and a GitLab job, and parse as YAML without errors or warnings", () => {
    expect(yamlBlocks).toHaveLength(2);
    expect(github, "a block with jobs:").toBeDefined();
    expect(gitlab, "a block without jobs:").toBeDefined();
    for (const { block, document } of parsed) {
      expect(document.errors.map(String), `${block.page}:${block.line}`).toEqual([]);
      expect(document.warnings.map(String), `${block.page}:${block.line}`).toEqual([]);
    }
  });

  it("has a whole GitHub workflow: a name, its triggers, and jobs whose steps each run a script or use a pinned action", () => {
    const workflow = github!.value;
    expect(typeof workflow.name).toBe("string");
    expect(workflow.on, "on: (YAML 1.2 keeps it a key, as GitHub reads it)").toBeTruthy();
    const jobs = Object.entries(workflow.jobs as Record<string, Record<string, unknown>>);
    expect(jobs.length).toBeGreaterThan(0);
    for (const [name, job] of jobs) {
      expect(typeof job["runs-on"], `jobs.${name}.runs-on`).toBe("string");
      const steps = job.steps as Record<string, unknown>[];
      expect(steps.length, `jobs.${name}.steps`).toBeGreaterThan(0);
      for (const step of steps) {
        expect(["run" in step, "uses" in step].filter(Boolean), JSON.stringify(step)).toHaveLength(1);
        if ("uses" in step) expect(step.uses, "an action at a fixed major version").toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });

  it("has a GitLab job with an image and a script of commands", () => {
    const jobs = Object.entries(gitlab!.value).filter(([key]) => !GITLAB_GLOBALS.has(key) && !key.startsWith("."));
    expect(jobs.length).toBeGreaterThan(0);
    for (const [name, job] of jobs as [string, Record<string, unknown>][]) {
      expect(typeof job.image, `${name}.image`).toBe("string");
      expect(Array.isArray(job.script) && job.script.every((line) => typeof line === "string"), `${name}.script`).toBe(true);
    }
  });

  it.each(parsed.map((p) => [p === github ? "GitHub" : "GitLab", p] as const))(
    "%s: runs exchanger-sandbox only as the copy npm ci installed (npx --no), and nothing else through npx",
    (_name, example) => {
      for (const { job, commands } of ciCommands(example)) {
        const npx = commands.filter((c) => c[0] === "npx");
        expect(npx.length, `job ${job} runs exchanger-sandbox through npx`).toBeGreaterThan(0);
        const installedAt = commands.findIndex((c) => c[0] === "npm" && c[1] === "ci");
        expect(installedAt, `job ${job} installs the project's devDependencies with npm ci`).toBeGreaterThanOrEqual(0);
        for (const command of npx) {
          const { options, run } = npxParts(command);
          expect(options, command.join(" ")).toContain("--no");
          expect(options.filter((o) => o === "--yes" || o === "-y"), command.join(" ")).toEqual([]);
          expect([`exchanger-sandbox`, `exchanger-sandbox@${PACKAGE_VERSION}`], command.join(" ")).toContain(run[0]);
          expect(commands.indexOf(command), `${command.join(" ")} runs after npm ci`).toBeGreaterThan(installedAt);
        }
      }
    },
  );

  it.each(parsed.map((p) => [p === github ? "GitHub" : "GitLab", p] as const))(
    "%s: calls only exchanger-sandbox commands and flags the command line has",
    async (_name, example) => {
      const lines = ciCommands(example).flatMap(({ commands }) => sandboxCommandLines(commands));
      expect(lines.length).toBeGreaterThan(0);
      for (const args of lines) {
        const { code, stderr } = await parseWithTheCli(args);
        expect(stderr, args.join(" ")).toBe("");
        expect(code, args.join(" ")).toBe(0);
      }
    },
  );

  it("would notice a flag the command line does not have", async () => {
    const [args] = ciCommands(github!).flatMap(({ commands }) => sandboxCommandLines(commands));
    const misspelt = args!.map((a) => (a === "--ipn-secret" ? "--ipn-secrt" : a));
    expect(misspelt).not.toEqual(args);
    const { code, stderr } = await parseWithTheCli(misspelt);
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown option --ipn-secrt; did you mean --ipn-secret\?/);
  });

  it.each(parsed.map((p) => [p === github ? "GitHub" : "GitLab", p] as const))(
    "%s: runs each exchanger-sandbox command with the flags of a block of the page that the docs' test runs",
    (_name, example) => {
      const runnable = ciBlocks.filter((b) => b.marker?.kind === "sh").flatMap((b) => commandsOf(b.text).flatMap(shellCommands));
      const shown = sandboxCommandLines(runnable).map((args) => `${args[0]} ${flagNames(args).join(" ")}`);
      for (const args of ciCommands(example).flatMap(({ commands }) => sandboxCommandLines(commands))) {
        expect(shown, args.join(" ")).toContain(`${args[0]} ${flagNames(args).join(" ")}`);
      }
    },
  );

  it.each(parsed.map((p) => [p === github ? "GitHub" : "GitLab", p] as const))(
    "%s: has what verify's walk in Chromium needs: Chromium in the job and playwright-core among the devDependencies",
    (_name, example) => {
      const install = ciBlocks.find((b) => b.lang === "sh" && /npm install --save-dev exchanger-sandbox@/.test(b.text));
      expect(install, `${CI_PAGE} shows the devDependencies to install`).toBeDefined();
      for (const { job, commands } of ciCommands(example)) {
        const walks = sandboxCommandLines(commands).filter((args) => args[0] === "verify" && args.includes("--checkout-url") && !args.includes("--no-browser"));
        if (walks.length === 0) continue;
        expect(install!.text.split(/\s+/), "playwright-core, an optional peer dependency").toContain("playwright-core");
        const chromium = commands.some((c) => c[0] === "apt-get" && c[1] === "install" && c.includes("chromium")) || walks.every((args) => args.includes("--chromium"));
        expect(chromium, `job ${job} installs chromium, or tells verify where one is`).toBe(true);
      }
    },
  );

  it("shows the devDependencies at package.json's version, marked as needing the published package", () => {
    const install = ciBlocks.find((b) => /npm install --save-dev exchanger-sandbox@/.test(b.text))!;
    expect(install.text).toContain(`exchanger-sandbox@${PACKAGE_VERSION} `);
    expect(install.marker?.kind).toBe("skip");
    expect(install.marker?.argument).toMatch(/^needs the published package/);
  });
});

describe("npx in the README and docs", () => {
  const blocks = allDocs().flatMap((page) => findBlocks(page, readDoc(page)));

  it.each(allDocs())("%s runs npx without --yes, a tarball only through --package, and names package.json's version", (page) => {
    expect(npxProblems(readDoc(page))).toEqual([]);
  });

  it.each([
    ["the tarball as the command", 'npm pack && (cd "$(mktemp -d)" && npx "$OLDPWD"/exchanger-sandbox-0.1.0.tgz start)'],
    ["a relative tarball as the command", "npx ./exchanger-sandbox-0.1.0.tgz start"],
    ["--yes", "npx --yes exchanger-sandbox verify --ipn-url U"],
    ["-y for another package", "npx -y wait-on http://127.0.0.1:3000/health"],
    ["--yes after --package", "npx --package ./exchanger-sandbox-0.1.0.tgz --yes exchanger-sandbox start"],
    ["another version", "npm install --save-dev exchanger-sandbox@9.9.9"],
  ])("notices %s", (_name, line) => {
    expect(npxProblems(line.replaceAll("0.1.0", PACKAGE_VERSION))).not.toEqual([]);
  });

  it("takes the README's own tarball line as it is", () => {
    expect(npxProblems(`npx --package ./exchanger-sandbox-${PACKAGE_VERSION}.tgz exchanger-sandbox start`)).toEqual([]);
  });

  it.each(blocks.filter((b: DocBlock) => /exchanger-sandbox@\d/.test(b.text)).map((b) => [`${b.page}:${b.line}`, b] as const))(
    "%s installs from npm, so it is marked as needing the published package",
    (_where, block) => {
      expect(block.marker?.kind).toBe("skip");
      expect(block.marker?.argument).toMatch(/^needs the published package/);
    },
  );

  it("runs the clone's own build as npx exchanger-sandbox in the clone, with nothing fetched", async () => {
    // dist/ was built by test/global-setup.ts, as `npm run build` builds it.
    const env = { ...merchantEnv(), npm_config_offline: "true", npm_config_yes: "false" };
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile("npx", ["exchanger-sandbox", "scenarios"], { cwd: REPO, env, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^happy-path\s/m);
  }, 60_000);
});
