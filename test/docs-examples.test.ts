// Every example block of README.md and docs/*.md runs and prints what the page shows, or is marked with why it cannot:
// an example can no longer rot. See test/support/doc-examples.ts for the markers.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams } from "../sandbox/index.js";
import { allDocs, readDoc } from "./support/docs.js";
import { commandsOf, findBlocks, matchJson, matchLogLines, matchText, normalise, trailingComments, type DocBlock } from "./support/doc-examples.js";
import { startMerchant } from "./support/merchant.js";
import { startReferenceMerchant } from "./support/reference-merchant.js";
import { freePort } from "./support/sink.js";
import { until } from "./support/wait.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CLI = join(ROOT, "dist", "cli", "main.js");
/** Inside the package, so that `import "exchanger-sandbox"` in an example resolves to the package itself (dist/). */
const WORK = join(ROOT, "test-results");
mkdirSync(WORK, { recursive: true });
const workDir = mkdtempSync(join(WORK, "docs-examples-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const PAGES = allDocs().map((page) => ({ page, blocks: findBlocks(page, readDoc(page)) }));
const ALL = PAGES.flatMap((p) => p.blocks);
const RUNNABLE = new Set(["sh", "ts", "js", "scenario", "ipn-body"]);
/** The address that stands for the sandbox in every example. */
const SANDBOX_ADDRESS = "127.0.0.1:7070";
const MERCHANT_ADDRESS = "127.0.0.1:3000";

/** A page's blocks of one session share a sandbox (started by a block, or for the first block that needs one) and a folder. */
interface Session {
  name: string;
  port: number;
  dir: string;
  log: string;
  pids: string;
  started: boolean;
  closers: (() => Promise<void>)[];
}

const sessions: Session[] = [];
afterAll(async () => {
  for (const session of sessions) {
    for (const close of session.closers) await close();
    if (!existsSync(session.pids)) continue;
    // Only the sandboxes this test started, by their process ids.
    for (const pid of readFileSync(session.pids, "utf8").split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        // Already gone.
      }
    }
  }
});

async function openSession(name: string): Promise<Session> {
  const dir = mkdtempSync(join(workDir, `${name.replace(/[^\w-]/g, "_")}-`));
  const session: Session = { name, port: await freePort(), dir, log: join(dir, "sandbox.log"), pids: join(dir, "sandbox.pids"), started: false, closers: [] };
  writeFileSync(session.log, "");
  sessions.push(session);
  return session;
}

/**
 * bash helpers: `exchanger-sandbox …` (bare or through npx) runs the built CLI; `start` runs in the background on the
 * session's port, and `verify` and `run --checkout-url` start their sandbox there.
 */
const PRELUDE = String.raw`
set -eo pipefail
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
npx() {
  if [ "$1" = exchanger-sandbox ]; then shift; exchanger-sandbox "$@"; else echo "the docs' examples run npx only for exchanger-sandbox, got: npx $*" >&2; return 1; fi
}
exchanger-sandbox() {
  if [ "$1" = start ]; then shift; __es_start "$@"; return; fi
  if [ "$1" = verify ] && [[ " $* " != *" --sandbox-port "* && " $* " != *" --sandbox-url "* ]]; then set -- "$@" --sandbox-port "$PORT"; fi
  if [ "$1" = run ] && [[ " $* " == *" --checkout-url "* && " $* " != *" --sandbox-port "* && " $* " != *" --sandbox "* ]]; then set -- "$@" --sandbox-port "$PORT"; fi
  node "$CLI" "$@"
}
__es_start() {
  if [[ " $* " != *" --port "* ]]; then set -- "$@" --port "$PORT"; fi
  node "$CLI" start "$@" >> "$LOG" 2>&1 &
  echo $! >> "$PIDS"
  disown
  for _ in $(seq 600); do
    # Any HTTP answer means it listens (a sandbox with an admin token answers 401); the banner is written before.
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/_sandbox/health")" != 000 ] && return 0
    kill -0 "$(tail -n1 "$PIDS")" 2>/dev/null || { cat "$LOG" >&2; return 1; }
    sleep 0.1
  done
  echo "the sandbox did not start within 60 s" >&2; return 1
}
`;

/** A block that runs the CLI, which starts a sandbox or brings its own. */
const RUNS_CLI = /(^|[\s;&|(])exchanger-sandbox\s+[a-z]/m;
const STARTS_SANDBOX = /(^|[\s;&|(])exchanger-sandbox\s+start\b/m;

interface Ran {
  stdout: string;
  stderr: string;
  code: number | null;
}

function run(command: string, args: string[], session: Session, input?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: session.dir,
      env: { ...process.env, CLI, PORT: String(session.port), LOG: session.log, PIDS: session.pids, NO_COLOR: "1" },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(input ?? "");
  });
}

/** Starts the session's sandbox for a block that talks to it without starting it. */
async function ensureSandbox(session: Session) {
  if (session.started) return;
  const ran = await run("bash", ["-c", `${PRELUDE}\n__es_start --quiet`], session);
  expect(ran.code, ran.stderr).toBe(0);
  session.started = true;
}

/** The block's text with the stand-in addresses replaced by the session's sandbox and merchant. */
async function substitute(block: DocBlock, session: Session): Promise<string> {
  let text = block.text.replaceAll(SANDBOX_ADDRESS, `127.0.0.1:${session.port}`);
  if (!block.marker!.options.merchant && text.includes(MERCHANT_ADDRESS)) {
    // The block runs its own merchant on the stand-in port: give it a free one.
    const port = String(await freePort());
    text = text.replaceAll(MERCHANT_ADDRESS, `127.0.0.1:${port}`).replace(/\bPORT=3000\b/g, `PORT=${port}`);
  }
  if (block.marker!.options.as) text = text.replaceAll(block.marker!.options.as, `127.0.0.1:${session.port}`);
  const merchant = block.marker!.options.merchant;
  if (merchant) {
    const [kind, secret = ""] = merchant.split(":");
    if (kind === "reference") {
      const m = await startReferenceMerchant({ sandboxUrl: `http://127.0.0.1:${session.port}`, secret });
      session.closers.push(() => m.close());
      text = text.replaceAll(MERCHANT_ADDRESS, new URL(m.url).host);
    } else if (kind === "verifier") {
      const m = await startMerchant(secret);
      session.closers.push(() => m.close());
      text = text.replaceAll(MERCHANT_ADDRESS, new URL(m.url).host);
    } else {
      throw new Error(`${block.page}:${block.line}: merchant=${merchant}: expected reference:SECRET or verifier:SECRET`);
    }
  }
  return text;
}

/** Runs a runnable block; returns what it printed (a block that starts the sandbox prints the sandbox's banner). */
async function runBlock(block: DocBlock, session: Session): Promise<string> {
  const where = `${block.page}:${block.line}`;
  const { kind, options } = block.marker!;
  if (kind === "ipn-body") return quickStartIpnBody();
  const text = await substitute(block, session);
  // A block that talks to the sandbox without running the CLI (which starts one, or brings its own) gets one.
  if (text.includes(`127.0.0.1:${session.port}`) && !RUNS_CLI.test(text)) await ensureSandbox(session);
  let ran: Ran;
  if (kind === "sh") {
    const startsSandbox = STARTS_SANDBOX.test(text);
    const logBefore = readFileSync(session.log, "utf8").length;
    ran = await run("bash", ["-c", `${PRELUDE}\n${text}`], session);
    if (startsSandbox) session.started = true;
    expect(ran.code, `${where} exited ${ran.code}\n${ran.stderr}\n${ran.stdout}`).toBe(0);
    return startsSandbox ? readFileSync(session.log, "utf8").slice(logBefore) + ran.stdout : ran.stdout;
  }
  if (kind === "ts" || kind === "js") {
    const file = join(session.dir, `example-${block.line}.${kind === "ts" ? "mts" : "mjs"}`);
    writeFileSync(file, text);
    ran = await run(process.execPath, kind === "ts" ? ["--import", "tsx", file] : [file], session);
  } else if (kind === "scenario") {
    const name = options.file;
    if (!name) throw new Error(`${where}: a scenario block needs file=NAME`);
    writeFileSync(join(session.dir, name), text);
    const merchant = await startMerchant("scenario-secret");
    session.closers.push(() => merchant.close());
    ran = await run(process.execPath, [CLI, "run", `./${name}`, "--ipn-url", merchant.url, "--ipn-secret", "scenario-secret"], session);
  } else {
    throw new Error(`${where}: ${kind} is not runnable`);
  }
  expect(ran.code, `${where} exited ${ran.code}\n${ran.stderr}\n${ran.stdout}`).toBe(0);
  return ran.stdout;
}

/** The body of the waitPayment IPN of the README's quick-start order, as docs/ipn.md shows it: brackets unescaped. */
async function quickStartIpnBody(): Promise<string> {
  const sandbox = createSandbox();
  try {
    const { url } = await sandbox.listen(0);
    const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
    const params = exampleCreateParams(route, { amount: "2", ipnUrl: `${url}/_sandbox/inbox/ipn-doc`, ipnSecret: "change-me" });
    const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) });
    const { data } = (await res.json()) as { data: { uid: number } };
    sandbox.orders.move(data.uid, "waitPayment", { cause: "docs" });
    await sandbox.dispatcher.idle();
    const [delivery] = sandbox.store.listDeliveries({ orderUID: data.uid });
    return decodeURIComponent(delivery!.body.replace(/\+/g, " "));
  } finally {
    await sandbox.close();
  }
}

/** Checks an output or log block against what ran. */
async function check(block: DocBlock, printed: string | null, session: Session) {
  const where = `${block.page}:${block.line}`;
  const shown = block.text.replaceAll(SANDBOX_ADDRESS, `127.0.0.1:${session.port}`);
  if (block.marker!.kind === "log") {
    // A log line for an IPN is written once the answer is in, which may be just after the command that caused it.
    const result = () => matchLogLines(shown, readFileSync(session.log, "utf8"));
    await until(() => result().ok, `${where}: the log lines it shows`).catch(() => {});
    expect(result(), where).toEqual({ ok: true });
    return;
  }
  expect(printed, `${where}: an output block must follow a block that runs`).not.toBeNull();
  const result = block.lang === "json" ? matchJson(shown, printed!) : matchText(shown, printed!);
  expect(result, where).toEqual({ ok: true });
}

describe("the docs' example blocks", () => {
  it("are all marked: runnable, or not with the reason", () => {
    expect(ALL.length).toBeGreaterThan(30);
    const unmarked = ALL.filter((b) => b.marker === null).map((b) => `${b.page}:${b.line} (\`\`\`${b.lang})`);
    expect(unmarked, "put <!-- example: … --> on the line before each fence (see test/support/doc-examples.ts)").toEqual([]);
  });

  it.each(ALL.filter((b) => b.marker?.kind === "skip").map((b) => [`${b.page}:${b.line}`, b] as const))("%s says why it cannot run", (_where, block) => {
    expect(block.marker!.argument.length, "a skip needs a reason a reader can check").toBeGreaterThan(30);
  });

  it.each(ALL.filter((b) => b.marker?.kind === "tested-by").map((b) => [`${b.page}:${b.line}`, b] as const))("%s is run by the test it names", (_where, block) => {
    const path = join(ROOT, block.marker!.argument);
    expect(existsSync(path), `${block.marker!.argument} exists`).toBe(true);
    expect(readFileSync(path, "utf8"), `${block.marker!.argument} reads ${block.page}`).toContain(`"${block.page}"`);
  });

  it.each(ALL.filter((b) => b.marker?.kind === "same-as").map((b) => [`${b.page}:${b.line}`, b] as const))("%s repeats a block that runs", (_where, block) => {
    const theirs = new Set(ALL.filter((b) => b.page === block.marker!.argument && RUNNABLE.has(b.marker?.kind ?? "")).flatMap((b) => commandsOf(b.text)));
    const missing = commandsOf(block.text).filter((command) => !theirs.has(command));
    expect(missing, `commands no runnable block of ${block.marker!.argument} runs`).toEqual([]);
  });

  it.each(ALL.filter((b) => b.marker?.kind === "output" || b.marker?.kind === "log").map((b) => [`${b.page}:${b.line}`, b] as const))(
    "%s follows the block it shows the output of",
    (_where, block) => {
      const before = PAGES.find((p) => p.page === block.page)!.blocks.filter((b) => b.line < block.line).at(-1);
      const earlier = PAGES.find((p) => p.page === block.page)!.blocks.filter((b) => b.line < block.line);
      const follows =
        block.marker!.kind === "log"
          ? earlier.some((b) => RUNNABLE.has(b.marker?.kind ?? "") && b.marker!.options.session === block.marker!.options.session)
          : RUNNABLE.has(before?.marker?.kind ?? "");
      expect(follows, `${block.page}:${block.line}`).toBe(true);
    },
  );
});

describe.each(PAGES.filter((p) => p.blocks.some((b) => RUNNABLE.has(b.marker?.kind ?? ""))).map((p) => [p.page, p.blocks] as const))("%s", (page, blocks) => {
  it(
    "runs every runnable example and prints what the page shows",
    async () => {
      const open = new Map<string, Session>();
      const sessionFor = async (block: DocBlock) => {
        const name = block.marker!.options.session ?? `${page}:${block.line}`;
        if (!open.has(name)) open.set(name, await openSession(name));
        return open.get(name)!;
      };
      let printed: string | null = null;
      let last: Session | undefined;
      for (const block of blocks) {
        const kind = block.marker?.kind;
        if (kind === "file") {
          writeFileSync(join((await sessionFor(block)).dir, block.marker!.options.name!), block.text);
          printed = null;
        } else if (kind && RUNNABLE.has(kind)) {
          last = await sessionFor(block);
          printed = await runBlock(block, last);
          // Blocks that show their own output: the IPN body (one line on the wire, broken for reading) and `# ` comments.
          if (kind === "ipn-body") expect(matchText(block.text.replace(/\n/g, ""), printed), `${page}:${block.line}`).toEqual({ ok: true });
          if (block.marker!.options.output === "comments") {
            expect(matchText(trailingComments(block.text), printed), `${page}:${block.line}`).toEqual({ ok: true });
          }
        } else if (kind === "output" || kind === "log") {
          const session = kind === "log" ? open.get(block.marker!.options.session ?? "") : last;
          expect(session, `${page}:${block.line}: no session to compare with`).toBeDefined();
          await check(block, printed, session!);
        } else {
          printed = null;
        }
      }
    },
    180_000,
  );
});

describe("the output matcher", () => {
  it.each([
    ["the same text", "a\nb", "a\nb", true],
    ["a different line", "a\nb", "a\nc", false],
    ["a missing line", "a\nb", "a", false],
    ["an extra line", "a", "a\nb", false],
    ["… within a line", "seed …, 12 routes", "seed 42, 12 routes", true],
    ["… as lines", "a\n…\nz", "a\nb\nc\nz", true],
    ["… as no line", "a\n…\nz", "a\nz", true],
    ["durations", "ok 2ms", "ok 815ms", true],
    ["durations are not any word", "ok 2ms", "ok slow", false],
  ])("matches text: %s", (_name, shown, actual, ok) => {
    expect(matchText(shown, actual).ok).toBe(ok);
  });

  it.each([
    ["the same object", '{"a":1}', '{"a":1}', true],
    ["a bare … for any value", '{"a":…}', '{"a":[1,2]}', true],
    ["a quoted … for any value", '{"a":"…"}', '{"a":7}', true],
    ["… inside a string", '{"a":"x=…&h=…"}', '{"a":"x=1&y=2&h=3"}', true],
    ["an extra key", '{"a":1}', '{"a":1,"b":2}', false],
    ["another value", '{"a":1}', '{"a":2}', false],
    ["a longer list", "[1]", "[1,1]", false],
  ])("matches JSON: %s", (_name, shown, actual, ok) => {
    expect(matchJson(shown, actual).ok).toBe(ok);
  });

  it("finds log lines in order, with durations and timestamps as any", () => {
    expect(matchLogLines("x 1ms\ny", "w\nx 30ms\nz\ny").ok).toBe(true);
    expect(matchLogLines("y\nx", "x\ny").ok).toBe(false);
    expect(normalise("at 1796032683176 in 4 ms")).toBe("at <ms> in <duration>");
  });
});
