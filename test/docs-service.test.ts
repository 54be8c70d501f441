// The examples of docs/service.md (a shared sandbox reached by name) and docs/control-api.md (paging) run as written.

import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../sandbox/index.js";
import { runCli } from "../cli/index.js";
import { readDoc } from "./support/docs.js";
import { routeByXml, validCreateBody } from "./support/sandbox.js";

const open: Sandbox[] = [];
const stops: AbortController[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop.abort();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** The code block of `doc` that contains `marker`, as lines. */
function block(doc: string, marker: string): string[] {
  const found = readDoc(doc)
    .split("```")
    .filter((_, i) => i % 2 === 1)
    .find((text) => text.includes(marker));
  if (found === undefined) throw new Error(`no code block with ${marker} in ${doc}`);
  return found.split("\n").slice(1).filter((line) => line.trim() !== "");
}

/** Runs a documented `curl -s "URL" [-H "Name: value"]` against `port`, sending the URL's own host as Host. */
function curl(line: string, port: number, env: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const expanded = line.replace(/\$(\w+)/g, (_m, name: string) => env[name] ?? "");
  const url = new URL(/curl -s "?([^"\s]+)"?/.exec(expanded)![1]!);
  const headers: Record<string, string> = { host: url.host };
  for (const [, name, value] of expanded.matchAll(/-H "([^:]+): ([^"]+)"/g)) headers[name!.toLowerCase()] = value!;
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: url.pathname + url.search, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("docs/service.md", () => {
  it("runs the shared-service example: start on all addresses with a token, reached by its public name", async () => {
    const [assign, start, fetchLine] = block("docs/service.md", "--public-url");
    expect(assign).toBe("ADMIN_TOKEN=$(openssl rand -hex 24)");
    const token = "0123456789abcdef0123456789abcdef0123456789abcdef";
    const args = start!.replace(/^npx exchanger-sandbox start /, "").replace('"$ADMIN_TOKEN"', token).split(" ");
    const stop = new AbortController();
    stops.push(stop);
    let listening!: (url: string) => void;
    const url = new Promise<string>((resolve) => (listening = resolve));
    void runCli(["start", ...args, "--port", "0", "--quiet"], { stdout: () => {}, stderr: () => {}, signal: stop.signal, onListening: listening });
    const port = Number(new URL(await url).port);
    const answer = await curl(fetchLine!, port, { ADMIN_TOKEN: token });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ orders: [], next: null });
    // The same by a name it was not given: refused, as a rebinding page would be.
    expect((await curl(fetchLine!.replace("qa-host", "qa-host.attacker.example"), port, { ADMIN_TOKEN: token })).status).toBe(421);
  });
});

describe("docs/control-api.md", () => {
  it("runs the paging example and gets the answer it shows", async () => {
    const sandbox = createSandbox();
    open.push(sandbox);
    const { port } = await sandbox.listen(0);
    for (let i = 0; i < 5; i++) {
      await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
        method: "POST",
        body: JSON.stringify(validCreateBody(routeByXml(sandbox, "ETH", "WMZ"))),
        headers: { "content-type": "application/json" },
      });
    }
    for (const uid of [1001, 1003, 1005]) sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    const [first, shown, second] = block("docs/control-api.md", "cursor=");
    const page = JSON.parse((await curl(first!, port)).body) as { orders: { uid: number }[]; next: string | null };
    const promised = /\{"orders":\[\{"uid":(\d+),…\},\{"uid":(\d+),…\}\],"next":"(\d+)"\}/.exec(shown!)!;
    expect(page.orders.map((o) => o.uid)).toEqual([Number(promised[1]), Number(promised[2])]);
    expect(page.next).toBe(promised[3]);
    const rest = JSON.parse((await curl(second!, port)).body) as { orders: { uid: number }[]; next: string | null };
    expect(rest).toMatchObject({ orders: [{ uid: 1001 }], next: null });
  });
});
