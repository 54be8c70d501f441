// The README and the docs stay true: their tables and examples are checked against the code they describe.

import { describe, expect, it } from "vitest";
import { RUN_HELP, START_HELP, VERIFY_HELP } from "../cli/index.js";
import { BUILTIN_SCENARIOS } from "../scenarios/index.js";
import { createDefaultCatalog, createSandbox, ERROR_CODES, STATUSES, TRANSITIONS } from "../sandbox/index.js";
import { faultsMarkdownTable } from "../sandbox/ipn/index.js";

import { readDoc } from "./support/docs.js";

const readme = readDoc("README.md");
const api = readDoc("docs/merchant-api.md");
const ipn = readDoc("docs/ipn.md");
const cli = readDoc("docs/cli.md");
const scenarios = readDoc("docs/scenarios.md");

describe("README and docs", () => {
  it("opens with the install-and-start command and npm test", () => {
    const firstBlock = readme.split("```")[1]!;
    expect(firstBlock).toContain("npm ci && npm start");
    expect(firstBlock).toContain("npm test");
  });

  it.each(Object.entries(ERROR_CODES))("lists error code %s (%d) in the error table", (name, code) => {
    expect(api).toMatch(new RegExp(`\\| ${code} \\| ${name} \\|`));
  });

  it("shows the transition table exactly as the code has it", () => {
    for (const status of STATUSES) {
      const next = TRANSITIONS[status];
      if (next.length === 0) continue;
      expect(api).toContain(`| ${status} | ${next.join(", ")} |`);
    }
    expect(api).toContain(`| ${STATUSES.filter((s) => TRANSITIONS[s].length === 0).join(", ")} | nothing: final |`);
  });

  it("shows the delivery faults table exactly as the fault table makes it", () => {
    expect(ipn, "docs/ipn.md's delivery faults table differs from faultsMarkdownTable(): paste its output in").toContain(faultsMarkdownTable());
  });

  it("shows every start flag of --help", () => {
    const flags = [...START_HELP.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(8);
    for (const flag of flags) expect(cli).toContain(flag);
  });

  it("uses ids of the default catalogue in its curl example", () => {
    const catalog = createDefaultCatalog(1);
    const route = catalog.routes.find((r) => r._id === readme.match(/"routeId":"([0-9a-f]{24})"/)![1])!;
    expect(route).toBeDefined();
    expect(route.toFields.map((f) => f._id)).toContain(readme.match(/"toValues":\[\{"key":"([0-9a-f]{24})"/)![1]);
    expect(route.routeFields.map((f) => f._id)).toContain(readme.match(/"routeValues":\[\{"key":"([0-9a-f]{24})"/)![1]);
  });

  it("shows the default catalogue's routes with their current rates and limits", () => {
    for (const r of createDefaultCatalog(1).routes) {
      expect(api).toContain(`| ${r.from.xml} → ${r.to.xml} | ${r.rate} | ${r.min} – ${r.max} | ${r.manual ? "manual" : "auto"} | ${r.paymentWindowMinutes} min |`);
    }
  });

  it("has a quick-start curl that really creates an order", async () => {
    const body = readme.match(/order\/create\/ \\\n\s+-H 'Content-Type: application\/json' \\\n\s+-d '([^']+)'/)![1]!;
    const sandbox = createSandbox();
    const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", { method: "POST", body, headers: { "content-type": "application/json" } });
    const json = (await res.json()) as { success: boolean; data: { uid: number; outAmount: string } };
    expect(json.success).toBe(true);
    expect(json.data).toMatchObject({ uid: 1001, outAmount: "317.42" });
    await sandbox.close();
  });

  it.each(BUILTIN_SCENARIOS.map((s) => [s.name, s.description]))("lists the built-in scenario %s with its description", (name, description) => {
    expect(scenarios).toContain(`| \`${name}\` | ${description} |`);
  });

  it("shows every run flag of --help", () => {
    const flags = [...RUN_HELP.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(6);
    for (const flag of flags) expect(cli).toContain(flag);
  });

  it("shows every verify flag of --help", () => {
    const flags = [...VERIFY_HELP.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags.length).toBeGreaterThan(15);
    for (const flag of flags) expect(cli).toContain(flag);
  });
});
