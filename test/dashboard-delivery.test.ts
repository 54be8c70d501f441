// The dashboard's tools for one delivery: "copy as curl" replays it byte for byte, and "why was this rejected?"
// runs the hash doctor with the order's own secret or a given one, never showing the secret.

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, exampleCreateParams, ipnHashString, type DeliveryRecord, type Sandbox } from "../sandbox/index.js";
import { curlCommand, shellQuote } from "../sandbox/control/dashboard-delivery.js";
import { maskSecretIn } from "../sandbox/control/dashboard-doctor.js";
import { startSink, type Sink } from "./support/sink.js";

const IPN_SECRET = "merchant-ipn-secret-value";
const MASKED = "me••••••••ue";
const URL_TOKEN = "url-token-value-123";
const ADMIN_TOKEN = "admin-token-for-the-doctor";

let sink: Sink;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(() => sink.close());

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function run(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("sh", ["-c", command], { timeout: 20_000 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }));
  });
}

/** A sandbox with one order whose IPN URL carries a token, moved once: its delivery went to the sink. */
async function sandboxWithDelivery(options: Parameters<typeof createSandbox>[0] = {}): Promise<{ sandbox: Sandbox; uid: number; delivery: DeliveryRecord; headers: Record<string, string> }> {
  const sandbox = createSandbox(options);
  sandboxes.push(sandbox);
  const headers: Record<string, string> = options.adminToken ? { authorization: `Bearer ${options.adminToken}` } : {};
  const route = sandbox.catalog.routes.find((r) => r.from.xml === "ETH" && r.to.xml === "WMZ")!;
  const params = exampleCreateParams(route, { ipnUrl: `${sink.url}?token=${URL_TOKEN}`, ipnSecret: IPN_SECRET });
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(params) });
  const { data } = (await res.json()) as { data: { uid: number } };
  sandbox.orders.move(data.uid, "waitPayment", { cause: "test" });
  await sandbox.dispatcher.idle();
  const [delivery] = sandbox.store.listDeliveries({ orderUID: data.uid });
  return { sandbox, uid: data.uid, delivery: delivery!, headers };
}

function askDoctor(sandbox: Sandbox, id: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return sandbox.app.request(`/_sandbox/dashboard/deliveries/${id}/doctor`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

describe("copy as curl", () => {
  it.each([
    ["an IPN body", "orderUID=1001&orderId=5d8e6002b80b7b4cd75a6424&newStatus=done&inAmount=2&hash=af3a"],
    ["single quotes", "note=it's&other='quoted'"],
    ["what a shell would expand", "a=$HOME&b=`id`&c=$(id)&d=\\n&e=*"],
    ["a line break and spaces", "a=1\n&b=two words "],
    ["text that is not ASCII", "name=Żółw+ü&sum=€"],
    ["a body that is not valid form encoding", "orderId=%E0%A4%A&=&newStatus=done"],
  ])("replays %s byte for byte, with the IPN's content type", async (_name, body) => {
    const before = sink.received.length;
    const url = `${sink.url}?token=${URL_TOKEN}&n=it's`;
    const ran = await run(curlCommand(url, body));
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/^HTTP\/1\.1 200/);
    const [request] = sink.received.slice(before);
    expect(request!.method).toBe("POST");
    expect(request!.body).toBe(body);
    expect(request!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request!.path).toBe(`/ipn?token=${URL_TOKEN}&n=it's`);
  });

  it.each([
    ["plain", "abc", "'abc'"],
    ["a quote", "it's", "'it'\\''s'"],
    ["empty", "", "''"],
  ])("quotes %s for the shell", (_name, text, quoted) => {
    expect(shellQuote(text)).toBe(quoted);
  });

  it("gives the one delivery asked for whole, while the dashboard shows its URL's token masked", async () => {
    const { sandbox, uid, delivery } = await sandboxWithDelivery();
    const res = await sandbox.app.request(`/_sandbox/dashboard/deliveries/${delivery.id}/curl`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.text()).toBe(`${curlCommand(delivery.url, delivery.body)}\n`);
    expect(delivery.url).toContain(URL_TOKEN);
    for (const path of ["/_sandbox/", `/_sandbox/dashboard/orders/${uid}`]) {
      const html = await (await sandbox.app.request(path)).text();
      expect(html, path).not.toContain(URL_TOKEN);
      expect(html, path).toContain("curl -i &#39;http://127.0.0.1:");
      expect(html, path).toContain(`href="/_sandbox/dashboard/deliveries/${delivery.id}/curl"`);
    }
    expect((await sandbox.app.request("/_sandbox/dashboard/deliveries/d999/curl")).status).toBe(404);
  });
});

describe("why was this rejected?", () => {
  it("says a right hash is right, with the order's own secret when none is given", async () => {
    const { sandbox, delivery } = await sandboxWithDelivery();
    const res = await askDoctor(sandbox, delivery.id, { hash: delivery.hash!, secret: "" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('data-verdict="right"');
    expect(html).toContain("Your hash is right.");
    expect(html).toContain("the order&#39;s own ipnSecret");
  });

  it.each([
    ["the secret left out", (s: string) => s.slice(0, s.lastIndexOf(":")), "secretLeftOut"],
    ["a trailing newline", (s: string) => `${s}\n`, "trailingNewline"],
    ["the secret first", (s: string) => `${s.slice(s.lastIndexOf(":") + 1)}:${s.slice(0, s.lastIndexOf(":"))}`, "fieldOrder"],
  ])("names %s, and masks the order's secret wherever it stands", async (_name, mistake, name) => {
    const { sandbox, delivery } = await sandboxWithDelivery();
    const right = ipnHashString(delivery.fields, IPN_SECRET);
    const res = await askDoctor(sandbox, delivery.id, { hash: sha256(mistake(right)) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`data-mistakes="${name}"`);
    expect(html).not.toContain(IPN_SECRET);
    expect(html).toContain(MASKED);
  });

  it("uses a secret the user gives, masked, and says when it is not the order's", async () => {
    const { sandbox, delivery } = await sandboxWithDelivery();
    const other = "another-secret-typed-in";
    const res = await askDoctor(sandbox, delivery.id, { hash: sha256(ipnHashString(delivery.fields, other)), secret: other });
    const html = await res.text();
    expect(html).toContain('data-verdict="right"');
    expect(html).toContain("is not the ipnSecret order");
    expect(html).not.toContain(other);
    expect(html).not.toContain(IPN_SECRET);
  });

  it("needs the secret for a test IPN, which belongs to no order", async () => {
    const { sandbox } = await sandboxWithDelivery();
    const fired = await sandbox.app.request("/_sandbox/ipn", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ipnUrl: sink.url, ipnSecret: "test-secret", status: "done" }) });
    const [test] = ((await fired.json()) as { deliveries: DeliveryRecord[] }).deliveries;
    await sandbox.dispatcher.idle();
    const refused = await askDoctor(sandbox, test!.id, { hash: "0".repeat(64) });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("Give the ipnSecret this IPN was signed with: a test IPN belongs to no order");
    const answered = await askDoctor(sandbox, test!.id, { hash: test!.hash!, secret: "test-secret" });
    expect(answered.status).toBe(200);
    expect(await answered.text()).toContain('data-verdict="right"');
  });

  it("refuses a missing hash, an unknown delivery and a body that is no form, and escapes what it was given", async () => {
    const { sandbox, delivery } = await sandboxWithDelivery();
    const blank = await askDoctor(sandbox, delivery.id, { hash: "  " });
    expect(blank.status).toBe(400);
    expect(await blank.text()).toContain("Paste the hash your code computed");
    expect((await askDoctor(sandbox, "d999", { hash: "x" })).status).toBe(404);
    const broken = await sandbox.app.request(`/_sandbox/dashboard/deliveries/${delivery.id}/doctor`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x\r\nbroken" });
    expect(broken.status).toBe(400);
    const hostile = await (await askDoctor(sandbox, delivery.id, { hash: "<script>alert(1)</script>" })).text();
    expect(hostile).not.toContain("<script>alert");
    expect(hostile).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("wants the admin token of a sandbox that has one, and refuses a post from another site", async () => {
    const { sandbox, delivery, headers } = await sandboxWithDelivery({ adminToken: ADMIN_TOKEN });
    expect((await askDoctor(sandbox, delivery.id, { hash: "x" })).status).toBe(401);
    expect((await sandbox.app.request(`/_sandbox/dashboard/deliveries/${delivery.id}/curl`)).status).toBe(401);
    expect((await askDoctor(sandbox, delivery.id, { hash: delivery.hash! }, headers)).status).toBe(200);
    expect((await askDoctor(sandbox, delivery.id, { hash: delivery.hash! }, { ...headers, "sec-fetch-site": "cross-site" })).status).toBe(403);
  });
});

describe("masking a secret inside the doctor's strings", () => {
  const S = "SECRET-VALUE";
  const M = "SE••••••••UE";
  it.each([
    ["at the end", `a:b:${S}`, `a:b:${M}`],
    ["between colons", `a:${S}:b`, `a:${M}:b`],
    ["at the start", `${S}:a`, `${M}:a`],
    ["before a line break", `a:${S}\n`, `a:${M}\n`],
    ["before CR LF", `a:${S}\r\n`, `a:${M}\r\n`],
    ["right after a body", `x=1&y=2${S}`, `x=1&y=2${M}`],
    ["as a whole value that is also a field", `${S}:a:${S}`, `${M}:a:${M}`],
    ["not inside another value", `x${S}y:a`, `x${S}y:a`],
    ["not when absent", "a:b", "a:b"],
  ])("%s", (_name, text, masked) => {
    expect(maskSecretIn(text, S)).toBe(masked);
  });
});
