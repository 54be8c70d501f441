// exchanger-sandbox run and scenarios from the command line: transcripts, exit codes and usage errors.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "./support/cli.js";
import { BUILTIN_SCENARIOS } from "../scenarios/index.js";
import { startMerchant } from "./support/merchant.js";
import { startSandbox } from "./support/sandbox.js";
import { startSink } from "./support/sink.js";

const SECRET = "cli-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});


async function merchantUrl() {
  const m = await startMerchant(SECRET);
  open.push(m);
  return m;
}

describe("exchanger-sandbox scenarios", () => {
  it("lists every built-in scenario with a line each", async () => {
    const { code, stdout } = await cli("scenarios");
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(BUILTIN_SCENARIOS.length);
    for (const [i, s] of BUILTIN_SCENARIOS.entries()) expect(lines[i]).toMatch(new RegExp(`^${s.name}\\s+${s.description.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`));
  });
});

describe("exchanger-sandbox run", () => {
  it("prints a transcript and exits 0 when every expectation holds", async () => {
    const m = await merchantUrl();
    const { code, stdout, stderr } = await cli("run", "payout-error-then-done", "--ipn-url", m.url, "--ipn-secret", SECRET);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("scenario payout-error-then-done:");
    expect(stdout).toMatch(/\+10m\s+status\s+errorPayout → inProgressPayout/);
    expect(stdout).toContain("passed: payout-error-then-done");
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("1 passed, 0 failed");
  });

  it("exits 1 against a merchant that answers 500 to everything", async () => {
    const broken = await startSink((_req, res) => res.writeHead(500).end("boom"));
    open.push(broken);
    const { code, stdout } = await cli("run", "happy-path", "--ipn-url", broken.url, "--ipn-secret", SECRET);
    expect(code).toBe(1);
    expect(stdout).toContain("FAILED: happy-path");
    expect(stdout).toContain("0 passed, 1 failed: happy-path");
  });

  it("prints byte-identical JSON for the same seed", async () => {
    const m = await merchantUrl();
    const args = ["run", "happy-path", "duplicate-ipn", "out-of-order", "--ipn-url", m.url, "--ipn-secret", SECRET, "--json", "--seed", "9"];
    const first = await cli(...args);
    const second = await cli(...args);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(JSON.parse(first.stdout)).toMatchObject({ passed: true, scenarios: [{ scenario: "happy-path" }, { scenario: "duplicate-ipn" }, { scenario: "out-of-order" }] });
  });

  it("draws a seed without --seed, shows it, and plays the same run again with it", async () => {
    const m = await merchantUrl();
    const args = ["run", "happy-path", "--ipn-url", m.url, "--ipn-secret", SECRET];
    const text = await cli(...args);
    const seed = /^seed (\d+): --seed \1 plays this run again with the same ids$/m.exec(text.stdout)?.[1];
    expect(seed, text.stdout).toBeDefined();
    const [first, second, other] = [await cli(...args, "--json", "--seed", seed!), await cli(...args, "--json", "--seed", seed!), await cli(...args, "--json")];
    expect(second.stdout).toBe(first.stdout);
    expect(JSON.parse(first.stdout).seed).toBe(Number(seed));
    // A run without --seed has its own, and its orders other ids: a merchant that keeps rows between runs meets new orders.
    expect(JSON.parse(other.stdout).seed).not.toBe(Number(seed));
    // Three runs of seed `seed` (one order id between them) and one of another seed.
    expect(new Set(m.verdicts.map((v) => v.fields?.orderId)).size).toBe(2);
  });

  it("plays on a running sandbox given by --sandbox, leaving the order there", async () => {
    const m = await merchantUrl();
    const sb = await startSandbox({ clock: "manual" });
    open.push(sb);
    const { code, stdout } = await cli("run", "hold-then-done", "--sandbox", sb.url, "--ipn-url", m.url, "--ipn-secret", SECRET);
    expect(code, stdout).toBe(0);
    const [order] = sb.sandbox.store.listOrders();
    expect(order!.status).toBe("done");
    expect(m.verdicts.map((v) => v.fields?.newStatus)).toEqual(["waitPayment", "inProgress", "hold", "inProgressPayout", "done"]);
  });

  it("runs a scenario file", async () => {
    const m = await merchantUrl();
    const dir = mkdtempSync(join(tmpdir(), "cli-run-"));
    const path = join(dir, "mine.yaml");
    writeFileSync(path, "name: mine\ndescription: Mine.\nsteps:\n  - move: waitPayment\n    expect: accepted\n  - move: deleted\n    expect: accepted\n");
    const { code, stdout } = await cli("run", path, "--ipn-url", m.url, "--ipn-secret", SECRET);
    expect(code).toBe(0);
    expect(stdout).toContain("passed: mine");
  });

  it.each<[string, string[], RegExp]>([
    ["no scenario", ["run", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /needs at least one scenario/],
    ["no --ipn-url", ["run", "happy-path", "--ipn-secret", "S"], /needs --ipn-url/],
    ["no --ipn-secret", ["run", "happy-path", "--ipn-url", "http://127.0.0.1:1/ipn"], /needs --ipn-secret/],
    ["an --ipn-url that is not a URL", ["run", "happy-path", "--ipn-url", "localhost:3000", "--ipn-secret", "S"], /--ipn-url takes an/],
    ["an unknown scenario", ["run", "happy-pat", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /unknown scenario "happy-pat"/],
    ["a missing scenario file", ["run", "./nope.yaml", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /nope\.yaml: file not found/],
    ["an unknown clock", ["run", "happy-path", "--clock", "slow", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /--clock: unknown clock "slow"/],
    ["--seed with --sandbox", ["run", "happy-path", "--sandbox", "http://127.0.0.1:1", "--seed", "2", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /apply to the in-process sandbox/],
    ["an unreachable --sandbox", ["run", "happy-path", "--sandbox", "http://127.0.0.1:1", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S"], /cannot reach the sandbox/],
    ["start with an unknown --scenario", ["start", "--scenario", "nope"], /--scenario: unknown scenario "nope"/],
    ["start with an unknown --clock", ["start", "--clock", "fast:0"], /--clock: fast:N takes N from 1/],
  ])("exits 2 with one line for %s", async (_name, args, message) => {
    const { code, stdout, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
