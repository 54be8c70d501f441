// DNS rebinding: a request whose Host names the sandbox by a name it was not given is refused with 421, whatever the
// path; IP addresses, localhost and the names given with --public-url (publicUrls) are answered.

import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../sandbox/index.js";
import { createHostCheck } from "../sandbox/control/host-check.js";
import { cli } from "./support/cli.js";

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof createSandbox>[0] = {}): Promise<number> {
  const sandbox = createSandbox(options);
  open.push(sandbox);
  return (await sandbox.listen(0)).port;
}

/** One GET to the sandbox on 127.0.0.1 with the given Host header. */
function getWithHost(port: number, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host }, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const PATHS = ["/_sandbox/health", "/_sandbox/orders", "/_sandbox/", "/service/api/v1/public/exchanger/route/get/", "/en/order/1001/x/"];

describe("the Host check", () => {
  it.each(PATHS)("refuses a name it was not given with 421 on %s, saying how to allow it", async (path) => {
    const port = await start();
    const { status, body } = await getWithHost(port, path, `rebind.attacker.example:${port}`);
    expect(status).toBe(421);
    const json = JSON.parse(body) as { error: { type: string; message: string } };
    expect(json.error.type).toBe("misdirected");
    expect(json.error.message).toContain('"rebind.attacker.example:');
    expect(json.error.message).toContain("--public-url");
  });

  it.each(["127.0.0.1", "127.1", "localhost", "LOCALHOST", "app.localhost", "[::1]", "10.1.2.3", "localhost."])("answers Host %s", async (name) => {
    const port = await start();
    expect((await getWithHost(port, "/_sandbox/health", `${name}:${port}`)).status).toBe(200);
  });

  it("answers the names of its public URLs, in any case, and no others", async () => {
    const port = await start({ publicUrls: ["http://qa-host:7070", "https://Sandbox.Example.org/"] });
    for (const name of ["qa-host", "QA-HOST", "sandbox.example.org", "sandbox.example.org."]) {
      expect((await getWithHost(port, "/_sandbox/health", `${name}:${port}`)).status, name).toBe(200);
    }
    for (const name of ["qa-host.evil.example", "example.org", "evil-qa-host"]) {
      expect((await getWithHost(port, "/_sandbox/health", `${name}:${port}`)).status, name).toBe(421);
    }
  });

  it("refuses a public URL that is not one, in code and on the command line", async () => {
    expect(() => createSandbox({ publicUrls: ["qa-host:7070"] })).toThrow(/publicUrls: a public URL is an (absolute )?http or https URL/);
    const { code, stderr } = await cli("start", "--port", "0", "--public-url", "ftp://qa-host");
    expect(code).toBe(2);
    expect(stderr).toMatch(/^exchanger-sandbox: --public-url takes an http or https URL, got "ftp:\/\/qa-host"\n$/);
  });

  it.each([
    ["a.b.example", false],
    ["localhost:1", true],
    ["x.localhost", true],
    ["localhost.example", false],
    ["0x7f.1", true],
    ["[::ffff:127.0.0.1]:80", true],
    ["bad host", false],
    ["shop.test", true],
  ])("judges Host %s as allowed=%s (with shop.test given)", (header, allowed) => {
    expect(createHostCheck(["shop.test"]).allows(header)).toBe(allowed);
  });
});
