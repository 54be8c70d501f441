// exchanger-sandbox verify and sign from the command line: exit codes, reports and usage errors.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "./support/cli.js";
import { createSandbox } from "../sandbox/index.js";
import { startReferenceMerchant, type MerchantBug } from "./support/reference-merchant.js";
import { startSink } from "./support/sink.js";

const SECRET = "cli-verify-secret";
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});


async function merchantArgs(bugs: MerchantBug[] = []) {
  const sandbox = createSandbox({ ipnTimeoutMs: 5000 });
  const { url } = await sandbox.listen(0);
  const m = await startReferenceMerchant({ sandboxUrl: url, secret: SECRET, bugs, reconcileEveryMs: 200 });
  open.push(m, sandbox);
  return ["--sandbox-url", url, "--ipn-url", m.ipnUrl, "--ipn-secret", SECRET, "--checkout-url", m.checkoutUrl, "--state-url", m.stateUrlTemplate, "--ipn-timeout", "5000", "--reconcile-timeout", "3000", "--no-browser"];
}

describe("exchanger-sandbox verify", () => {
  it("exits 0 for a correct merchant and writes a JUnit report", async () => {
    const output = join(mkdtempSync(join(tmpdir(), "verify-")), "contract.xml");
    const { code, stdout, stderr } = await cli("verify", ...(await merchantArgs()), "--only", "signature,idempotency", "--reporter", "junit", "--output", output);
    expect(stderr).toBe("");
    expect(code, stdout).toBe(0);
    expect(stdout).toContain(`report written to ${output}`);
    const xml = readFileSync(output, "utf8");
    expect(xml).toContain('<testsuite name="signature"');
    expect(xml).not.toContain("<failure");
  }, 30_000);

  it("exits 1 when a required contract fails, naming the check and the evidence", async () => {
    const { code, stdout } = await cli("verify", ...(await merchantArgs(["creditsTwice"])), "--only", "idempotency");
    expect(code).toBe(1);
    expect(stdout).toContain("FAIL  idempotency/duplicate");
    expect(stdout).toContain("the same done again changed your state: credits 1 → 2");
    expect(stdout).toContain('"credits":2');
    expect(stdout).toMatch(/fix: Make IPN handling idempotent/);
  }, 30_000);

  it("exits 0 when only an advisory contract fails", async () => {
    const { code, stdout } = await cli("verify", ...(await merchantArgs(["noReconcile"])), "--only", "reconcile", "--reconcile-timeout", "1000");
    expect(stdout).toContain("warn  reconcile/lost-done");
    expect(code).toBe(0);
  }, 30_000);

  it.each<[string, string[], RegExp]>([
    ["no --ipn-url", ["verify", "--ipn-secret", "S"], /verify needs --ipn-url/],
    ["no --ipn-secret", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn"], /verify needs --ipn-secret/],
    ["a --state-url without a placeholder", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--checkout-url", "http://127.0.0.1:1/c", "--state-url", "http://127.0.0.1:1/orders"], /needs \{orderId\} or \{orderUID\}/],
    ["a --state-url without --checkout-url", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--state-url", "http://127.0.0.1:1/o/{orderId}"], /--state-url needs --checkout-url/],
    ["an unknown reporter", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--reporter", "tap"], /--reporter takes one of text, json, junit/],
    ["an unknown contract in --only", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--only", "signature,vibes"], /--only takes contracts from/],
    ["both --sandbox-port and --sandbox-url", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--sandbox-port", "1", "--sandbox-url", "http://127.0.0.1:1"], /not both/],
    ["a bad --checkout-body", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--checkout-body", "{x"], /--checkout-body is not valid JSON/],
    ["--seed with --sandbox-url", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--sandbox-url", "http://127.0.0.1:1", "--seed", "4"], /--seed seeds the kit's own sandbox/],
    ["a --seed that is not a number", ["verify", "--ipn-url", "http://127.0.0.1:1/ipn", "--ipn-secret", "S", "--seed", "abc"], /--seed takes a whole number/],
  ])("exits 2 with one line for %s", async (_name, args, message) => {
    const { code, stdout, stderr } = await cli(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n").filter(Boolean)).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});

describe("verify against URLs that cannot be reached", () => {
  it("exits 2 with one line for a sandbox that is not there", async () => {
    const ipn = await startSink();
    open.push(ipn);
    const { code, stdout, stderr } = await cli("verify", "--ipn-url", ipn.url, "--ipn-secret", "S", "--sandbox-url", "http://127.0.0.1:1");
    expect([code, stdout]).toEqual([2, ""]);
    expect(stderr).toMatch(/^exchanger-sandbox: cannot reach the sandbox at http:\/\/127\.0\.0\.1:1 \(GET \/_sandbox\/health\): .+\n$/);
  });

  it.each(["--ipn-url", "--checkout-url", "--state-url", "--callback-url"])("exits 2 naming %s and its network error, judging nothing", async (flag) => {
    const args = await merchantArgs();
    const gone = await startSink();
    const dead = `${gone.url}/${flag === "--state-url" ? "orders/{orderId}" : "x"}`;
    await gone.close();
    const at = args.indexOf(flag);
    if (at >= 0) args[at + 1] = dead;
    else args.push(flag, dead);
    const { code, stdout, stderr } = await cli("verify", ...args);
    expect([code, stdout]).toEqual([2, ""]);
    expect(stderr).toBe(`exchanger-sandbox: cannot reach ${flag} ${dead}: connect ECONNREFUSED ${new URL(dead).host}\n`);
  });
});

describe("exchanger-sandbox sign", () => {
  it("prints the docs' string and hash for the docs' fields", async () => {
    const { code, stdout } = await cli("sign", "--orderId", "5d8e6002b80b7b4cd75a6424", "--newStatus", "inProgress", "--inAmount", "2", "--outAmount", "317.42", "--xml_from", "ETH", "--xml_to", "WMZ", "--timestamp", "1571328406072", "--secret", "SECRET123");
    expect(code).toBe(0);
    expect(stdout).toBe(
      "string: 5d8e6002b80b7b4cd75a6424:inProgress:2:317.42:ETH:WMZ:1571328406072:SECRET123\nsha256: af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48\n",
    );
  });

  it("names the fields it is missing", async () => {
    const { code, stderr } = await cli("sign", "--orderId", "x", "--secret", "s");
    expect(code).toBe(2);
    expect(stderr).toMatch(/sign needs --newStatus, --inAmount, --outAmount, --xml_from, --xml_to, --timestamp/);
  });
});
