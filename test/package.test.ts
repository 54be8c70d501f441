// The published shape: what `npm pack` puts in the tarball, and that `npx` runs it from an empty folder as the README says.

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readDoc } from "./support/docs.js";
import { merchantEnv, packTarball, PACKAGE_VERSION, REPO } from "./support/package.js";
import { until, within } from "./support/wait.js";

/** The README's way to run the packed tarball, as words: `npx --package ./exchanger-sandbox-<version>.tgz …`. */
function readmeTarballLine(): string[] {
  const line = readDoc("README.md")
    .split("\n")
    .find((l) => l.startsWith("npx --package ./"));
  if (line === undefined) throw new Error('README.md has no line that runs the tarball with "npx --package ./…"');
  return line.replace(/\s+#.*$/, "").trim().split(/\s+/);
}

const API_LINE = /API base\s+(http:\/\/\S+\/)/;
const BANNER_TIMEOUT_MS = 180_000;

/** npx installs into <npm cache>/_npx/<hash>/; removes the folders it made for this tarball. */
function removeNpxInstalls(tarball: string): void {
  let cache: string;
  try {
    cache = execFileSync("npm", ["config", "get", "cache"], { cwd: REPO, encoding: "utf8", env: merchantEnv() }).trim();
  } catch {
    cache = join(homedir(), ".npm");
  }
  const npx = join(cache, "_npx");
  if (!existsSync(npx)) return;
  for (const name of readdirSync(npx)) {
    try {
      const manifest = JSON.parse(readFileSync(join(npx, name, "package.json"), "utf8")) as { _npx?: { packages?: string[] } };
      if (manifest._npx?.packages?.includes(tarball)) rmSync(join(npx, name), { recursive: true, force: true });
    } catch {
      // not one of ours, or half-made by another npx: leave it
    }
  }
}

describe("the npm package", () => {
  let packDir: string;
  let emptyDir: string;
  let tarball: string;
  let entries: string[];
  let child: ChildProcess | undefined;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  let apiBase: string;
  let stderr = "";
  const startedAt = Date.now();
  const timings: Record<string, number> = {};

  function killGroup(signal: NodeJS.Signals): void {
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      // npx runs npm, which runs a shell, which runs node: signal the whole process group.
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }

  beforeAll(async () => {
    packDir = mkdtempSync(join(tmpdir(), "exchanger-sandbox-pack-"));
    emptyDir = mkdtempSync(join(tmpdir(), "exchanger-sandbox-npx-"));

    tarball = packTarball(packDir);
    timings.pack = Date.now() - startedAt;
    entries = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter((line) => line !== "");

    // The README's line, `npx --package ./exchanger-sandbox-<version>.tgz exchanger-sandbox start`: `--package <tgz>`
    // rather than `npx <tgz>`, which npm 11 runs as a command (sh: …tgz: Permission denied). Its `./` path is made
    // absolute, as from the folder it was packed in, so that npx's cache folder (keyed by the path as written) is
    // this run's own; merchantEnv() answers npx's question before it installs.
    const [npx, ...readmeArgs] = readmeTarballLine();
    expect([npx, ...readmeArgs]).toEqual(["npx", "--package", `./${basename(tarball)}`, "exchanger-sandbox", "start"]);
    child = spawn("npx", [...readmeArgs.map((arg) => (arg.endsWith(".tgz") ? resolve(packDir, arg) : arg)), "--port", "0"], {
      cwd: emptyDir,
      env: merchantEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const spawned = child;
    exited = new Promise((resolve) => spawned.once("exit", (code, signal) => resolve({ code, signal })));
    let stdout = "";
    spawned.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    apiBase = await within(
      new Promise<string>((resolve, reject) => {
        spawned.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          stdout += chunk;
          const match = API_LINE.exec(stdout);
          if (match) resolve(match[1]!);
        });
        void exited!.then(({ code, signal }) =>
          reject(new Error(`npx exited (${code ?? signal}) before the banner:\n${stdout}\n${stderr}`)),
        );
      }),
      BANNER_TIMEOUT_MS,
      "the banner of npx exchanger-sandbox",
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nstdout so far:\n${stdout.slice(-2000)}\nstderr so far:\n${stderr.slice(-2000)}`);
    });
    timings.banner = Date.now() - startedAt;
  }, 240_000);

  afterAll(async () => {
    killGroup("SIGTERM");
    if (exited) {
      await within(exited, 5_000, "npx to exit").catch(() => killGroup("SIGKILL"));
    }
    if (tarball) removeNpxInstalls(tarball);
    for (const dir of [packDir, emptyDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    console.info(`package test: npm pack ${timings.pack ?? "-"} ms, npx banner ${timings.banner ?? "-"} ms, total ${Date.now() - startedAt} ms`);
  }, 15_000);

  it("packs the binary with a node shebang", () => {
    expect(entries).toContain("package/dist/cli/main.js");
    const main = execFileSync("tar", ["-xzOf", tarball, "package/dist/cli/main.js"], { encoding: "utf8" });
    expect(main.split("\n")[0]).toBe("#!/usr/bin/env node");
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as {
      bin: Record<string, string>;
    };
    expect(manifest.bin).toEqual({ "exchanger-sandbox": "dist/cli/main.js" });
  });

  it("packs the MIT LICENSE that package.json names", () => {
    expect(entries).toContain("package/LICENSE");
    const license = execFileSync("tar", ["-xzOf", tarball, "package/LICENSE"], { encoding: "utf8" });
    expect(license.split("\n")[0]).toBe("MIT License");
    expect(license).toMatch(/^Copyright \(c\) \d{4} exchanger-sandbox contributors$/m);
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as { license: string };
    expect(manifest.license).toBe("MIT");
  });

  it("runs no script when installed: it is built on prepack, not on prepare", () => {
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as { scripts: Record<string, string> };
    // npm runs these when a package is installed from a tarball or a registry (prepare also from git).
    expect(Object.keys(manifest.scripts).filter((name) => ["preinstall", "install", "postinstall", "prepare"].includes(name))).toEqual([]);
    expect(manifest.scripts.prepack).toBe("npm run build");
  });

  it("packs no tests and no TypeScript sources other than declarations", () => {
    expect(entries.filter((entry) => /(^|\/)test\//.test(entry) || /\.(test|spec)\.[cm]?[jt]s$/.test(entry))).toEqual([]);
    expect(entries.filter((entry) => /\.[cm]?tsx?$/.test(entry) && !/\.d\.[cm]?ts$/.test(entry))).toEqual([]);
  });

  it("runs with npx from an empty folder and serves /_sandbox/health", async () => {
    const res = await fetch(new URL("/_sandbox/health", apiBase));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, version: PACKAGE_VERSION, seed: expect.any(Number) });
  });

  it("answers an API call: route/get lists at least 8 routes", async () => {
    const res = await fetch(`${apiBase}public/exchanger/route/get/`);
    expect(res.status).toBe(200);
    const envelope = (await res.json()) as { success: boolean; data: unknown[] };
    expect(envelope.success).toBe(true);
    expect(envelope.data.length).toBeGreaterThanOrEqual(8);
  });

  it("stops on SIGTERM", async () => {
    killGroup("SIGTERM");
    const { code, signal } = await within(exited!, 5_000, "npx to exit after SIGTERM");
    // npm itself dies of the signal; the sandbox under it exits 0 (test/cli.test.ts checks that on the binary).
    expect(code === 0 || signal === "SIGTERM", `exited with ${code ?? signal}: ${stderr}`).toBe(true);
    // And the sandbox under npx really stopped: its port no longer answers.
    const answers = () => fetch(new URL("/_sandbox/health", apiBase), { signal: AbortSignal.timeout(5_000) }).then(() => true, () => false);
    await until(async () => !(await answers()), "the sandbox under npx to stop answering after SIGTERM");
  });
});
