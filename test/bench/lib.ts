// Helpers the benchmark's parent and child processes share: spawning children, talking to them, timing and loading dist/.

import { fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../", import.meta.url));
export const DIST = new URL("../../dist/", import.meta.url);
export const HOST = "127.0.0.1";

/** The compiled sandbox (what users run), typed from the sources. Fails with the fix when dist/ is missing. */
export async function loadSandbox(): Promise<typeof import("../../sandbox/index.js")> {
  return (await import(distModule("sandbox/index.js"))) as typeof import("../../sandbox/index.js");
}

/** The compiled scenario engine, typed from the sources. */
export async function loadScenarios(): Promise<typeof import("../../scenarios/index.js")> {
  return (await import(distModule("scenarios/index.js"))) as typeof import("../../scenarios/index.js");
}

/** The compiled IPN module's public face (the dispatcher is not in the package's top-level API). */
export async function loadIpn(): Promise<typeof import("../../sandbox/ipn/index.js")> {
  return (await import(distModule("sandbox/ipn/index.js"))) as typeof import("../../sandbox/ipn/index.js");
}

export function distModule(path: string): string {
  const url = new URL(path, DIST);
  if (!existsSync(url)) throw new Error(`${fileURLToPath(url)} is missing; run \`npm run build\` first (npm run bench does)`);
  return url.href;
}

/** Messages a child sends its parent over the IPC channel. */
export type ChildMessage = { type: "ready"; port: number } | { type: "result"; result: unknown } | { type: "error"; message: string };

/** Sends a message to the parent, when there is one. */
export function tell(message: ChildMessage): void {
  process.send?.(message);
}

/** Runs a child's main function and reports its result or its failure to the parent, which then stops the child. */
export function runChild(main: () => Promise<unknown>): void {
  // Exit through process.exit when the parent stops the child, so that a --cpu-prof profile gets written.
  process.once("SIGTERM", () => process.exit(0));
  main().then(
    (result) => {
      if (result !== undefined) tell({ type: "result", result });
    },
    (error: unknown) => {
      tell({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exitCode = 1;
    },
  );
}

export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the first message of `type`; rejects if the child reports an error or exits first. */
  next<T extends ChildMessage["type"]>(type: T, timeoutMs?: number): Promise<Extract<ChildMessage, { type: T }>>;
  /** Sends a request and resolves with the child's answer (a message `{type: "answer", ...}`). */
  ask(request: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Asks the child to stop (SIGTERM), then kills it if it lingers; resolves once it has exited. */
  stop(): Promise<void>;
}

let profileDir: string | null = null;
let profileCount = 0;

/** From now on, children run under `node --cpu-prof` and write their profiles into `dir`. */
export function profileInto(dir: string): void {
  profileDir = dir;
}

/**
 * The flags that make a child write its CPU profiles into a folder of its own, named after `name`, when profiling is
 * on. A folder rather than a file name: a child run through tsx also profiles tsx's loader thread.
 */
export function profileFlags(name: string): string[] {
  if (profileDir === null) return [];
  const folder = `${String(++profileCount).padStart(2, "0")}-${name.replace(/[^a-z0-9]+/gi, "-")}`;
  return ["--cpu-prof", `--cpu-prof-dir=${profileDir}/${folder}`];
}

/**
 * Forks a TypeScript file of this folder (through tsx, so only its own code is compiled on load; what it benchmarks
 * is imported from dist/), or any other script with `execArgv` chosen by the caller.
 */
export function spawnChild(script: string, args: string[] = [], options: { execArgv?: string[]; env?: NodeJS.ProcessEnv; profile?: string } = {}): Child {
  const file = script.endsWith(".ts") ? fileURLToPath(new URL(script, import.meta.url)) : script;
  const execArgv = [
    ...(options.execArgv ?? (file.endsWith(".ts") ? ["--import", "tsx"] : [])),
    ...(options.profile === undefined ? [] : profileFlags(options.profile)),
  ];
  const child = fork(file, args, { cwd: REPO, execArgv, stdio: ["ignore", "ignore", "pipe", "ipc"], env: options.env ?? process.env });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const name = file.replace(REPO, "");

  const next: Child["next"] = (type, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
      };
      const onMessage = (message: ChildMessage) => {
        if (message.type === "error") {
          cleanup();
          reject(new Error(`${name} failed: ${message.message}`));
        } else if (message.type === type) {
          cleanup();
          resolve(message as never);
        }
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${name} exited (code ${code}) before sending ${type}${stderr ? `:\n${stderr.trim()}` : ""}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${name} sent no ${type} within ${timeoutMs} ms${stderr ? `:\n${stderr.trim()}` : ""}`));
      }, timeoutMs);
      child.on("message", onMessage);
      child.once("exit", onExit);
    });

  return {
    process: child,
    next,
    ask(request, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not answer ${JSON.stringify(request)}`)), timeoutMs);
        child.once("message", (message: Record<string, unknown>) => {
          clearTimeout(timer);
          resolve(message);
        });
        child.send(request);
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** A port free on loopback right now (for children that must be told their port before they start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One GET; resolves with the status and body. A fresh connection each time (no agent), so nothing is pooled. */
export function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}

/** One POST with a JSON body; resolves with the parsed answer. */
export function postJson(url: string, body: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const request = http.request(
      url,
      { method: "POST", agent: false, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()));
          } catch (error) {
            reject(error);
          }
        });
      },
    );
    request.on("error", reject);
    request.end(text);
  });
}

/** Polls `url` until it answers 200; resolves with the moment it did (performance.now()). */
export async function firstOk(url: string, deadlineMs = 15_000): Promise<number> {
  const deadline = performance.now() + deadlineMs;
  for (;;) {
    try {
      const { status } = await get(url);
      if (status === 200) return performance.now();
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The heap once garbage is gone, FinalizationRegistry clean-ups included (they run in later turns); needs --expose-gc. */
export async function heapAfterGc(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with node --expose-gc");
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return process.memoryUsage().heapUsed;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
