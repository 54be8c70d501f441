// The command line: help, version, usage errors, the start banner's ready-to-paste curl, log formats, and the real binary.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliIo } from "../cli/index.js";
import { until, within } from "./support/wait.js";

const REPO = dirname(dirname(fileURLToPath(import.meta.url)));
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;
const BIN = join(REPO, (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> }).bin["exchanger-sandbox"]!);
const FIXTURES = join(tmpdir(), `exchanger-sandbox-cli-test-${process.pid}`);
const BROKEN_CATALOG = join(FIXTURES, "broken-catalog.json");
const API_LINE = /API base\s+(http:\/\/\S+\/)/;

interface Captured extends CliIo {
  out: string[];
  err: string[];
  readonly stdoutText: string;
  readonly stderrText: string;
}

function capture(extra: Partial<CliIo> = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => void out.push(text),
    stderr: (text) => void err.push(text),
    get stdoutText() {
      return out.join("");
    },
    get stderrText() {
      return err.join("");
    },
    ...extra,
  };
}

/** An in-process `start` that test code can stop; every one started is stopped after its test. */
interface Started {
  io: Captured;
  url: string;
  apiBase: string;
  exit: Promise<number>;
  stop(): Promise<number>;
}

const running: AbortController[] = [];

async function startInProcess(args: string[]): Promise<Started> {
  const controller = new AbortController();
  running.push(controller);
  let listening!: (url: string) => void;
  const url = new Promise<string>((resolve) => (listening = resolve));
  const io = capture({ signal: controller.signal, onListening: (u) => listening(u) });
  const exit = runCli(["start", "--port", "0", ...args], io);
  const started = await within(
    Promise.race([url, exit.then((code) => Promise.reject(new Error(`start exited with ${code} before listening: ${io.stderrText}`)))]),
    10_000,
    "the sandbox to listen",
  );
  return {
    io,
    url: started,
    apiBase: `${started}/service/api/v1/`,
    exit,
    stop() {
      controller.abort();
      return within(exit, 5_000, "runCli to resolve after the abort");
    },
  };
}

afterEach(async () => {
  for (const controller of running.splice(0)) controller.abort();
});

beforeAll(() => {
  mkdirSync(FIXTURES, { recursive: true });
  writeFileSync(BROKEN_CATALOG, '{\n  "routes": [\n    { "from": oops }\n  ]\n}\n');
});

afterAll(() => {
  rmSync(FIXTURES, { recursive: true, force: true });
});

describe("help and version", () => {
  it.each([[["--help"]], [["help"]], [["-h"]], [[]]])("prints the main help and returns 0 for %j", async (argv) => {
    const io = capture();
    expect(await runCli(argv, io)).toBe(0);
    expect(io.stdoutText).toContain("Usage:");
    expect(io.stdoutText).toContain("exchanger-sandbox start [options]");
    expect(io.stdoutText).toContain("exchanger-sandbox --version");
    expect(io.stderrText).toBe("");
  });

  it("prints the start help listing every flag for start --help", async () => {
    const io = capture();
    expect(await runCli(["start", "--help"], io)).toBe(0);
    for (const flag of [
      "--port",
      "--host",
      "--seed",
      "--catalog",
      "--ipn-timeout",
      "--ipn-hash-field",
      "--api-key",
      "--api-secret",
      "--log-format",
      "--quiet",
      "--help",
    ]) {
      expect(io.stdoutText).toContain(flag);
    }
    expect(io.stderrText).toBe("");
  });

  it("prints package.json's version for --version", async () => {
    const io = capture();
    expect(await runCli(["--version"], io)).toBe(0);
    expect(io.stdoutText).toBe(`${PACKAGE_VERSION}\n`);
  });
});

describe("usage errors", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/],
    ["an unknown flag", ["start", "--prot", "1"], /--prot/],
    ["a port that is not a number", ["start", "--port", "abc"], /--port .*"abc"/],
    ["a port above 65535", ["start", "--port", "70000"], /--port .*"70000"/],
    ["a negative seed", ["start", "--seed", "-1"], /--seed/],
    ["an IPN timeout of 0", ["start", "--ipn-timeout", "0"], /--ipn-timeout .*"0"/],
    ["an unknown log format", ["start", "--log-format", "xml"], /--log-format .*"xml"/],
    ["an IPN hash field that is not a field name", ["start", "--ipn-hash-field", "a b"], /--ipn-hash-field: .*"a b"/],
    ["an IPN hash field that collides with an IPN field", ["start", "--ipn-hash-field", "orderId"], /--ipn-hash-field: .*"orderId" is already an IPN field/],
    ["a catalogue file that does not exist", ["start", "--catalog", "/nonexistent.json"], /\/nonexistent\.json.*not found/],
    ["a catalogue file that is not valid JSON", ["start", "--catalog", BROKEN_CATALOG], new RegExp(`${BROKEN_CATALOG.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}.*JSON`)],
    ["an empty API key", ["start", "--api-key", ""], /--api-key cannot be empty/],
  ];

  it.each(cases)("returns 2 with one line on stderr and nothing on stdout for %s", async (_name, argv, message) => {
    // Already aborted: should a case wrongly start the sandbox, it stops at once instead of hanging the test.
    const io = capture({ signal: AbortSignal.abort() });
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stdoutText).toBe("");
    expect(io.stderrText).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
    expect(io.stderrText).toMatch(message);
  });

  describe("with the port taken", () => {
    let server: Server;
    beforeAll(async () => {
      server = createServer((_req, res) => res.end("taken"));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it("returns 2 saying the port is in use", async () => {
      const { port } = server.address() as AddressInfo;
      const io = capture({ signal: AbortSignal.timeout(5_000) });
      expect(await runCli(["start", "--port", String(port)], io)).toBe(2);
      expect(io.stdoutText).toBe("");
      expect(io.stderrText).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
      expect(io.stderrText).toContain(`port ${port}`);
      expect(io.stderrText).toContain("in use");
    });
  });
});

describe("start, in process", () => {
  it("prints a banner with the API base, the dashboard, the test key and a curl that really creates an order", async () => {
    const sandbox = await startInProcess([]);
    const banner = sandbox.io.stdoutText;
    expect(banner).toContain(sandbox.apiBase);
    expect(banner).toContain(`${sandbox.url}/_sandbox/`);
    expect(banner).toContain("sandbox-test-key");

    const curl = /^\s*curl -s (http:\/\/\S+) -H 'Content-Type: application\/json' -d '([^']*)'$/m.exec(banner);
    expect(curl, `no create-order curl in the banner:\n${banner}`).not.toBeNull();
    const [, curlUrl, curlBody] = curl!;
    expect(curlUrl!.startsWith(sandbox.apiBase)).toBe(true);
    const res = await fetch(curlUrl!, { method: "POST", headers: { "Content-Type": "application/json" }, body: curlBody! });
    expect(res.status).toBe(200);
    const envelope = (await res.json()) as { success: boolean; data?: { uid: number }; error?: unknown };
    expect(envelope, JSON.stringify(envelope.error)).toMatchObject({ success: true });
    expect(Number.isSafeInteger(envelope.data!.uid) && envelope.data!.uid > 0).toBe(true);

    expect(await sandbox.stop()).toBe(0);
  });

  it("masks the API secret in the banner, as every other secret", async () => {
    const sandbox = await startInProcess(["--api-key", "merchant-key-1", "--api-secret", "my-own-api-secret-123"]);
    const banner = sandbox.io.stdoutText;
    expect(banner).toContain("API key    merchant-key-1   secret my••••••••23");
    expect(banner).not.toContain("my-own-api-secret-123");
    expect(await sandbox.stop()).toBe(0);
  });

  it("shows a seed of its own in the banner and /health without --seed, and the one given with it", async () => {
    const drawn = await startInProcess([]);
    const seed = Number(/\(seed (\d+), 12 routes\)/.exec(drawn.io.stdoutText)?.[1]);
    expect(seed).toBeGreaterThan(0xffff_ffff);
    expect(((await (await fetch(`${drawn.url}/_sandbox/health`)).json()) as { seed: number }).seed).toBe(seed);
    expect(await drawn.stop()).toBe(0);
    const given = await startInProcess(["--seed", "42"]);
    expect(given.io.stdoutText).toContain("(seed 42, 12 routes)");
    expect(((await (await fetch(`${given.url}/_sandbox/health`)).json()) as { seed: number }).seed).toBe(42);
    expect(await given.stop()).toBe(0);
  });

  it.each([[[]], [["--log-format", "json"]]])("prints only the base URL line with --quiet %j, even for API calls", async (extra) => {
    const sandbox = await startInProcess(["--quiet", ...extra]);
    const res = await fetch(`${sandbox.apiBase}public/exchanger/route/get/`);
    expect(((await res.json()) as { success: boolean }).success).toBe(true);
    expect(await sandbox.stop()).toBe(0);
    expect(sandbox.io.stdoutText).toBe(`${sandbox.url}\n`);
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.io.stderrText).toBe("");
  });

  it("prints only JSON lines with --log-format json, one of them per API call", async () => {
    const sandbox = await startInProcess(["--log-format", "json"]);
    const res = await fetch(`${sandbox.apiBase}public/exchanger/route/get/`);
    expect(((await res.json()) as { success: boolean }).success).toBe(true);

    const lines = () => sandbox.io.stdoutText.split("\n").filter((line) => line !== "");
    const apiLines = () => lines().map((line) => JSON.parse(line) as Record<string, unknown>).filter((e) => e.type === "api");
    // The line is written once the answer has gone out, maybe just after the client had it.
    await until(() => apiLines().length > 0, "the API call's log line");
    expect(await sandbox.stop()).toBe(0);

    expect(sandbox.io.stdoutText.endsWith("\n")).toBe(true);
    for (const line of lines()) expect(() => JSON.parse(line), line).not.toThrow();
    expect(lines().some((line) => line.includes(sandbox.url))).toBe(true);
    expect(apiLines()).toHaveLength(1);
    expect(apiLines()[0]).toMatchObject({ type: "api", method: "GET" });
    expect(String(apiLines()[0]!.path)).toContain("route/get");
  });
});

describe("the built binary", () => {
  const children = new Set<ChildProcess>();

  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    children.clear();
  });

  function run(args: string[]) {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    return {
      child,
      exit,
      stdout: () => stdout,
      stderr: () => stderr,
      /** Resolves with the API base URL from the banner; rejects if the process exits first. */
      apiBase: () =>
        within(
          new Promise<string>((resolve, reject) => {
            const check = () => {
              const match = API_LINE.exec(stdout);
              if (match) resolve(match[1]!);
            };
            child.stdout!.on("data", check);
            check();
            void exit.then(({ code, signal }) => reject(new Error(`exited (${code ?? signal}) before the banner: ${stderr}`)));
          }),
          10_000,
          "the banner's API line",
        ),
    };
  }

  it("serves /_sandbox/health and exits 0 on SIGTERM", async () => {
    const sandbox = run(["start", "--port", "0"]);
    const apiBase = await sandbox.apiBase();
    const health = await fetch(new URL("/_sandbox/health", apiBase));
    expect(health.status).toBe(200);
    // Started without --seed: a seed of its own, above the range that also seeds the catalogue.
    expect(await health.json()).toEqual({ ok: true, version: PACKAGE_VERSION, seed: expect.any(Number) });

    sandbox.child.kill("SIGTERM");
    expect(await within(sandbox.exit, 3_000, "the process to exit after SIGTERM")).toEqual({ code: 0, signal: null });
    expect(sandbox.stderr()).toBe("");
  });

  it("exits 2 with one line on stderr for start --port abc", async () => {
    const sandbox = run(["start", "--port", "abc"]);
    expect(await within(sandbox.exit, 10_000, "the process to exit")).toEqual({ code: 2, signal: null });
    expect(sandbox.stdout()).toBe("");
    expect(sandbox.stderr()).toMatch(/^exchanger-sandbox: [^\n]*--port[^\n]*\n$/);
  });
});
