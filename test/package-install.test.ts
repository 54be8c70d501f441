// The lean install: the packed tarball in a scratch project, without its optional peers (playwright-core, tsx),
// weighs at most 25 MB, runs no install script, and starts, runs scenarios and verifies; the features that need a
// missing peer say which to install, and find it once it is.

import { execFile, spawn } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDoc } from "./support/docs.js";
import { startMerchant, type Merchant } from "./support/merchant.js";
import { merchantEnv, packTarball, REPO } from "./support/package.js";
import { startReferenceMerchant, type ReferenceMerchant } from "./support/reference-merchant.js";
import { within } from "./support/wait.js";

/** The README's lines that install the packed tarball in a project and run it, as words. */
function readmeInstallLines(): string[][] {
  const lines = readDoc("README.md").split("\n");
  const at = lines.findIndex((l) => l.startsWith("npm install --save-dev /path/to/"));
  if (at === -1) throw new Error('README.md has no line that installs the tarball with "npm install --save-dev /path/to/…"');
  return lines.slice(at, at + 2).map((l) => l.replace(/\s+#.*$/, "").trim().split(/\s+/));
}

const MAX_INSTALLED_BYTES = 25 * 1024 * 1024;
const SECRET = "lean-install-secret";
const STORY = { name: "lean-story", description: "Paid, then done.", steps: [{ move: "waitPayment", expect: "accepted" }, { move: "done", expect: "accepted" }] };

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process (the merchants below live in it), bounded by `timeoutMs`. */
function run(command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: merchantEnv(), timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

/** Bytes the files under `dir` take on a disk of 4 KiB blocks, as `du` counts them; symlinks are not followed. */
function installedBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = installedBytes(path);
      bytes += inner.bytes;
      files += inner.files;
    } else if (entry.isFile()) {
      bytes += Math.ceil(lstatSync(path).size / 4096) * 4096;
      files += 1;
    }
  }
  return { bytes, files };
}

const repoVersion = (name: string) => (JSON.parse(readFileSync(join(REPO, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;

describe("installed from the tarball without its optional peers", () => {
  let dir: string;
  let project: string;
  let bin: string;
  let install: Ran;
  let merchant: Merchant;
  const stopAfter: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "exchanger-sandbox-lean-"));
    project = join(dir, "project");
    const tarball = packTarball(dir);
    await run("mkdir", [project], dir);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "merchant-project", private: true }));
    // The README's line, `npm install --save-dev /path/to/exchanger-sandbox-<version>.tgz`, from the local npm cache
    // where it can (the repo's own install put every dependency there).
    const [npm, ...readmeArgs] = readmeInstallLines()[0]!;
    expect([npm, ...readmeArgs]).toEqual(["npm", "install", "--save-dev", `/path/to/${basename(tarball)}`]);
    install = await run("npm", [...readmeArgs.map((arg) => arg.replace("/path/to", dir)), "--prefer-offline", "--no-audit", "--no-fund"], project, 180_000);
    expect(install.code, install.stderr).toBe(0);
    bin = join(project, "node_modules", ".bin", "exchanger-sandbox");
    merchant = await startMerchant(SECRET);
    stopAfter.push(() => merchant.close());
  }, 240_000);

  afterAll(async () => {
    for (const stop of stopAfter.reverse()) await stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it("weighs at most 25 MB, without playwright-core, tsx or esbuild", () => {
    const modules = join(project, "node_modules");
    for (const name of ["playwright-core", "tsx", "esbuild"]) expect(existsSync(join(modules, name)), `${name} was installed`).toBe(false);
    const { bytes, files } = installedBytes(modules);
    const packages = readdirSync(modules).flatMap((name) => (name.startsWith("@") ? readdirSync(join(modules, name)) : name.startsWith(".") ? [] : [name]));
    console.info(`lean install: ${packages.length} packages, ${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB on disk`);
    expect(bytes).toBeLessThanOrEqual(MAX_INSTALLED_BYTES);
  });

  it("runs as npx exchanger-sandbox from the project's own install, with nothing fetched", async () => {
    expect((JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { devDependencies?: Record<string, string> }).devDependencies).toHaveProperty("exchanger-sandbox");
    const line = readmeInstallLines()[1]!;
    expect(line).toEqual(["npx", "exchanger-sandbox", "scenarios"]);
    // Offline, and told to install nothing: it can only run the copy in node_modules.
    const result = await run("sh", ["-c", `npm_config_offline=true npm_config_yes=false ${line.join(" ")}`], project);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^happy-path\s/m);
  }, 60_000);

  it("ran no install script of its own", () => {
    expect(`${install.stdout}\n${install.stderr}`).not.toMatch(/exchanger-sandbox@[^\s]* \((preinstall|install|postinstall|prepare)/);
  });

  it("starts, and start --quiet prints the one URL line a script reads", async () => {
    const child = spawn(bin, ["start", "--port", "0", "--quiet"], { cwd: project, env: merchantEnv(), stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let stdout = "";
    const url = await within(
      new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          stdout += chunk;
          if (stdout.includes("\n")) resolve(stdout.split("\n")[0]!);
        });
        void exited.then((code) => reject(new Error(`start exited with ${code} before printing its URL`)));
      }),
      30_000,
      "start --quiet's URL line",
    );
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/_sandbox/health`)).json()).toMatchObject({ ok: true });
    child.kill("SIGTERM");
    expect(await within(exited, 10_000, "start to exit on SIGTERM")).toBe(0);
    expect(stdout).toBe(`${url}\n`);
  }, 60_000);

  it("runs a built-in scenario and scenario files in YAML, JSON and JavaScript", async () => {
    const yaml = `name: lean-story\ndescription: Paid, then done.\nsteps:\n  - move: waitPayment\n    expect: accepted\n  - move: done\n    expect: accepted\n`;
    writeFileSync(join(project, "story.yaml"), yaml);
    writeFileSync(join(project, "story.json"), JSON.stringify(STORY));
    writeFileSync(join(project, "story.mjs"), `import { defineScenario } from "exchanger-sandbox/scenarios";\nexport default defineScenario(${JSON.stringify(STORY)});\n`);
    const result = await run(bin, ["run", "happy-path", "story.yaml", "story.json", "story.mjs", "--ipn-url", merchant.url, "--ipn-secret", SECRET], project);
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("4 passed, 0 failed");
    expect(result.code).toBe(0);
  }, 60_000);

  it("verifies a merchant without the browser walk", async () => {
    const sandbox = spawn(bin, ["start", "--port", "0", "--quiet"], { cwd: project, env: merchantEnv(), stdio: ["ignore", "pipe", "ignore"] });
    stopAfter.push(() => void sandbox.kill("SIGTERM"));
    const url = await within(new Promise<string>((resolve) => sandbox.stdout.setEncoding("utf8").once("data", (chunk: string) => resolve(chunk.trim()))), 30_000, "the sandbox's URL");
    const shop: ReferenceMerchant = await startReferenceMerchant({ sandboxUrl: url, secret: SECRET, reconcileEveryMs: 200 });
    stopAfter.push(() => shop.close());
    const args = ["verify", "--sandbox-url", url, "--ipn-url", shop.ipnUrl, "--ipn-secret", SECRET, "--checkout-url", shop.checkoutUrl, "--state-url", shop.stateUrlTemplate, "--only", "signature,idempotency"];
    const verified = await run(bin, [...args, "--no-browser"], project, 90_000);
    expect(verified.stderr).toBe("");
    expect(verified.code, verified.stdout).toBe(0);

    // Without --no-browser the walk would need playwright-core: said at once, before any check runs.
    const refused = await run(bin, [...args, "--only", "callback"], project);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^exchanger-sandbox: [^\n]*needs playwright-core, which is not installed: npm install --save-dev playwright-core \(or skip the walk with --no-browser\)\n$/);
  }, 120_000);

  it("says to install tsx for a TypeScript scenario file", async () => {
    writeFileSync(join(project, "story.ts"), `import { defineScenario } from "exchanger-sandbox/scenarios";\nconst story: Parameters<typeof defineScenario>[0] = ${JSON.stringify(STORY)};\nexport default defineScenario(story);\n`);
    const result = await run(bin, ["run", "story.ts", "--ipn-url", merchant.url, "--ipn-secret", SECRET], project);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      "exchanger-sandbox: scenario story.ts: TypeScript scenario files need tsx, which is not installed: npm install --save-dev tsx (or write the scenario as .js, .json or .yaml)\n",
    );
  }, 60_000);

  it("finds playwright-core and tsx once they are installed beside it", async () => {
    const peers = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", `tsx@${repoVersion("tsx")}`, `playwright-core@${repoVersion("playwright-core")}`], project, 180_000);
    expect(peers.code, peers.stderr).toBe(0);
    const result = await run(bin, ["run", "story.ts", "--ipn-url", merchant.url, "--ipn-secret", SECRET], project);
    expect(result.stderr).toBe("");
    expect(result.code, result.stdout).toBe(0);
    const probe = await run(process.execPath, ["--input-type=module", "-e", 'console.log(await (await import("exchanger-sandbox/contracts")).browserWalkAvailable())'], project);
    expect(probe.stdout.trim(), probe.stderr).toBe("true");
  }, 240_000);
});
