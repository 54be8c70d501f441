// One owner per --data folder: a second sandbox is refused with the holder's name; a dead holder's lock is taken over.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, DataDirLockedError, type Sandbox } from "../sandbox/index.js";
import { LOCK_FILE } from "../sandbox/store/index.js";
import { cli } from "./support/cli.js";

const REPO = new URL("..", import.meta.url).pathname;
const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const dataDir = () => mkdtempSync(join(tmpdir(), "sandbox-lock-"));

function start(dir: string): Sandbox {
  const sandbox = createSandbox({ dataDir: dir });
  open.push(sandbox);
  return sandbox;
}

function refusal(dir: string): Error {
  try {
    start(dir);
  } catch (error) {
    return error as Error;
  }
  throw new Error("the second sandbox started");
}

describe("the lock on a --data folder", () => {
  it("refuses a second sandbox on the folder, naming the folder and the process that holds it", () => {
    const dir = dataDir();
    start(dir);
    const error = refusal(dir);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect(error.message).toContain(dir);
    expect(error.message).toContain(`process ${process.pid}`);
  });

  it("makes a second `start` exit 2 with one line naming the folder and the holder", async () => {
    const dir = dataDir();
    start(dir);
    const { code, stdout, stderr } = await cli("start", "--port", "0", "--data", dir);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
    expect(stderr).toContain(`the data folder ${dir} is in use by process ${process.pid}`);
  });

  it("lets the folder go when the sandbox closes", async () => {
    const dir = dataDir();
    await start(dir).close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(() => start(dir)).not.toThrow();
  });

  it("takes over the lock of a sandbox killed with SIGKILL", async () => {
    const dir = dataDir();
    const child = spawn(process.execPath, ["dist/cli/main.js", "start", "--port", "0", "--data", dir, "--log-format", "json"], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        out += chunk;
        if (out.includes("listening on")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`the sandbox exited (${code}) before listening`)));
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(child.pid);
    child.kill("SIGKILL");
    await exited;
    start(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
  });

  it("takes over a lock whose pid now belongs to a process started later", (context) => {
    if (!existsSync(`/proc/${process.pid}/stat`)) return context.skip("no /proc here to tell a reused pid from its first owner");
    const dir = dataDir();
    const holder = { pid: process.pid, host: hostname(), startedAt: "2020-01-01T00:00:00.000Z", processStart: "1" };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(holder));
    expect(() => start(dir)).not.toThrow();
  });

  it("counts a lock taken on another host as held, and says how to clear it", () => {
    const dir = dataDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: "build-agent-7", startedAt: "2026-01-01T00:00:00.000Z", processStart: null }));
    const error = refusal(dir);
    expect(error.message).toContain("process 4242 on host build-agent-7");
    expect(error.message).toContain(`delete ${join(dir, LOCK_FILE)}`);
  });
});
