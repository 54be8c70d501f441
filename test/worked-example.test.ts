// The contract page's worked example merchant really passes every contract, every probe included.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CHECKS, formatText, runContracts } from "../contracts/index.js";
import { readDoc } from "./support/docs.js";
import { freePort } from "./support/sink.js";
import { until } from "./support/wait.js";

const readme = readDoc("docs/contracts.md");
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

async function waitForHealth(url: string, child: ChildProcess, stderr: () => string) {
  await until(async () => {
    if (child.exitCode !== null) throw new Error(`the example exited with ${child.exitCode}: ${stderr()}`);
    return fetch(url).then((r) => r.ok, () => false);
  }, `the example to answer ${url}`, 60_000).catch((error: Error) => {
    throw new Error(`${error.message}: ${stderr()}`);
  });
}

describe("the contract page's worked example", () => {
  it("passes every check the kit has, the browser walk and the required reconcile included", async () => {
    const code = readme.match(/```js\n(\/\/ worked-example \(node\)[\s\S]*?)```/)?.[1];
    expect(code, "the worked example is in docs/contracts.md").toBeTruthy();
    const file = join(mkdtempSync(join(tmpdir(), "worked-example-")), "merchant.mjs");
    writeFileSync(file, code!);
    const [sandboxPort, merchantPort] = [await freePort(), await freePort()];
    let stderr = "";
    const child = spawn(process.execPath, [file], {
      env: { ...process.env, SANDBOX_URL: `http://127.0.0.1:${sandboxPort}`, PORT: String(merchantPort), IPN_SECRET: "worked-secret" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(child);
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const merchant = `http://127.0.0.1:${merchantPort}`;
    await waitForHealth(`${merchant}/health`, child, () => stderr);

    const report = await runContracts({
      sandboxPort,
      ipnUrl: `${merchant}/ipn`,
      ipnSecret: "worked-secret",
      checkoutUrl: `${merchant}/checkout`,
      stateUrl: `${merchant}/orders/{orderId}`,
      // The default IPN timeout (10 s): a correct merchant answers at once, and a busy machine must not make it late.
      reconcileTimeoutMs: 8000,
      requireReconcile: true,
    });
    expect(report.checks.filter((c) => c.outcome !== "passed"), formatText(report) + stderr).toEqual([]);
    expect(report.checks.map((c) => c.id)).toEqual(CHECKS.map((c) => c.id));
    expect(report.learned?.doneChanged.map((k) => k.path)).toEqual(["status", "credits"]);
  }, 90_000);
});
