// exchanger-sandbox doctor: the docs' example, a delivery fetched from a running sandbox, and its usage errors.

import { createHash } from "node:crypto";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "./support/cli.js";
import { readDoc } from "./support/docs.js";
import { startSandbox, type RunningSandbox } from "./support/sandbox.js";
import { docBlock, runShell } from "./support/shell.js";
import { startSink, type Sink } from "./support/sink.js";

const SECRET = "merchant-secret-1";
const ADMIN_TOKEN = "doctor-admin-token-123";
const NAMES = ["orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"];
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

describe("docs/ipn.md's doctor example", () => {
  it("runs as shown, prints the output shown and exits 1", async () => {
    const { code, next } = docBlock(readDoc("docs/ipn.md"), "# doctor (sh)");
    const result = await runShell(code);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe(next);
    expect(result.code).toBe(1);
  });
});

describe("doctor --delivery", () => {
  let running: RunningSandbox;
  let sink: Sink;
  const deliveries: Record<string, { id: string; body: string }> = {};

  beforeAll(async () => {
    running = await startSandbox({ adminToken: ADMIN_TOKEN, clock: "instant" });
    sink = await startSink();
    for (const fault of ["deliver", "wrongSecret"]) {
      const res = await fetch(`${running.url}/_sandbox/ipn`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({ ipnUrl: sink.url, ipnSecret: SECRET, status: "done", fault }),
      });
      expect(res.status).toBe(201);
      deliveries[fault] = ((await res.json()) as { deliveries: { id: string; body: string }[] }).deliveries[0]!;
    }
    await running.sandbox.dispatcher.idle();
  });

  afterAll(async () => {
    await running?.close();
    await sink?.close();
  });

  const args = (id: string, hash: string) => ["doctor", "--delivery", id, "--sandbox", running.url, "--admin-token", ADMIN_TOKEN, "--secret", SECRET, "--hash", hash];

  it("fetches the body the sandbox sent and names the mistake in the merchant's hash", async () => {
    const { id, body } = deliveries.deliver!;
    const form = new URLSearchParams(body);
    const withoutSecret = NAMES.map((name) => form.get(name)).join(":");
    const { code, stdout, stderr } = await cli(...args(id, sha256(withoutSecret)));
    expect(stderr).toBe("");
    expect(code).toBe(1);
    expect(stdout).toContain("the secret was left out");
    expect(stdout).toContain(`  should hash  ${withoutSecret}:${SECRET}\n`);
  });

  it("exits 0 for the right hash", async () => {
    const { id, body } = deliveries.deliver!;
    const form = new URLSearchParams(body);
    const { code, stdout } = await cli(...args(id, sha256(`${NAMES.map((name) => form.get(name)).join(":")}:${SECRET}`)));
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Your hash is right\./);
  });

  it("says a delivery signed with a wrong secret was meant to be refused", async () => {
    const { id, body } = deliveries.wrongSecret!;
    const form = new URLSearchParams(body);
    const { code, stdout } = await cli(...args(id, sha256(`${NAMES.map((name) => form.get(name)).join(":")}:${SECRET}`)));
    expect(code).toBe(0);
    expect(stdout).toContain("fault wrongSecret");
    expect(stdout).toContain("meant to be refused");
  });

  it.each([
    ["without the admin token", (id: string) => ["doctor", "--delivery", id, "--sandbox", running.url, "--secret", SECRET, "--hash", "0".repeat(64)], /answered 401: give its admin token with --admin-token/],
    ["for a delivery it does not have", () => args("d999999", "0".repeat(64)), /has no delivery "d999999"/],
  ])("returns 2 with one line %s", async (_name, argv, message) => {
    const { code, stdout, stderr } = await cli(...argv(deliveries.deliver!.id));
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
    expect(stderr).toMatch(message);
  });
});

describe("doctor's usage errors", () => {
  const body = "orderUID=1&orderId=a&newStatus=done&inAmount=1&outAmount=2&xml_from=ETH&xml_to=WMZ&timestamp=1";
  const hash = "0".repeat(64);

  it("returns 2 naming a sandbox that does not answer", async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const { code, stderr } = await cli("doctor", "--delivery", "d1", "--sandbox", `http://127.0.0.1:${port}`, "--secret", "s", "--hash", hash);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^exchanger-sandbox: cannot reach the sandbox at http://127.0.0.1:${port}: .*--sandbox URL\\)\\n$`));
  });

  it.each([
    ["no --secret", ["--body", body, "--hash", hash], /doctor needs --secret/],
    ["no --hash", ["--body", body, "--secret", "s"], /doctor needs --hash/],
    ["neither --body nor --delivery", ["--secret", "s", "--hash", hash], /needs --body RAW .* or --delivery ID/],
    ["both --body and --delivery", ["--body", body, "--delivery", "d1", "--secret", "s", "--hash", hash], /needs --body RAW .* or --delivery ID/],
    ["--sandbox with --body", ["--body", body, "--sandbox", "http://127.0.0.1:1", "--secret", "s", "--hash", hash], /--sandbox and --admin-token go with --delivery/],
    ["a body without orderId", ["--body", body.replace("&orderId=a", ""), "--secret", "s", "--hash", hash], /--body: the IPN body has no "orderId" field/],
    ["a mistyped option", ["--scret", "s"], /unknown option --scret; did you mean --secret\?/],
  ])("returns 2 with one line for %s", async (_name, argv, message) => {
    const { code, stdout, stderr } = await cli("doctor", ...argv);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^exchanger-sandbox: [^\n]+\n$/);
    expect(stderr).toMatch(message);
  });
});
