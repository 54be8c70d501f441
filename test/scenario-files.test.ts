// Scenario files: TypeScript, JSON and YAML with one schema, and malformed ones refused with file, step and reason.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS, loadScenarioFile, parseDuration, parseScenario, resolveScenarios, ScenarioError } from "../scenarios/index.js";

const dir = mkdtempSync(join(tmpdir(), "scenario-files-"));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const valid = { name: "my-story", description: "Mine.", steps: [{ move: "waitPayment" }, { wait: "10m" }, { move: "done", fault: { type: "duplicate", copies: 2 }, expect: "accepted" }] };

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ScenarioError) return error.message;
    throw error;
  }
  throw new Error("expected a refusal");
}

describe("scenario files", () => {
  it("loads the same scenario from JSON, YAML and TypeScript", async () => {
    const json = file("story.json", JSON.stringify(valid));
    const yaml = file(
      "story.yaml",
      `name: my-story\ndescription: Mine.\nsteps:\n  - move: waitPayment\n  - wait: 10m\n  - move: done\n    fault: { type: duplicate, copies: 2 }\n    expect: accepted\n`,
    );
    const ts = file(
      "story.ts",
      `import { defineScenario } from ${JSON.stringify(join(process.cwd(), "scenarios/index.ts"))};\nexport default defineScenario(${JSON.stringify(valid)});\n`,
    );
    const loaded = await Promise.all([json, yaml, ts].map(loadScenarioFile));
    for (const scenarios of loaded) expect(scenarios).toEqual([valid]);
  });

  it("resolves built-in names and files in the order given", async () => {
    const path = file("one.json", JSON.stringify(valid));
    const resolved = await resolveScenarios(["happy-path", path, "expired"]);
    expect(resolved.map((s) => s.name)).toEqual(["happy-path", "my-story", "expired"]);
  });

  it("refuses an unknown scenario name with the list of built-in ones", async () => {
    const message = await refusal(() => resolveScenarios(["happy-pat"]));
    expect(message).toContain('unknown scenario "happy-pat"');
    expect(message).toContain("happy-path");
  });

  it.each<[string, string, string, RegExp]>([
    ["an unknown status", "bad-status.json", JSON.stringify({ ...valid, steps: [{ move: "paid" }] }), /bad-status\.json: steps\[0\].*unknown status "paid"/],
    ["an unknown fault", "bad-fault.json", JSON.stringify({ ...valid, steps: [{ move: "done" }, { move: "done", fault: "explode" }] }), /bad-fault\.json: steps\[1\].*explode/],
    ["a bad duration", "bad-wait.json", JSON.stringify({ ...valid, steps: [{ wait: "ten minutes" }] }), /bad-wait\.json: steps\[0\].*duration/],
    ["two actions in one step", "two.json", JSON.stringify({ ...valid, steps: [{ move: "done", wait: "1m" }] }), /two\.json: steps\[0\]: a step takes one action, got move and wait/],
    ["a step without an action", "none.json", JSON.stringify({ ...valid, steps: [{ fault: "drop" }] }), /none\.json: steps\[0\]: a step needs one of/],
    ["an unknown expectation", "expect.json", JSON.stringify({ ...valid, steps: [{ move: "done", expect: "happy" }] }), /expect\.json: steps\[0\].*unknown expectation "happy"/],
    ["no steps", "empty.json", JSON.stringify({ ...valid, steps: [] }), /empty\.json: steps: a scenario needs at least one step/],
    ["a name that is not kebab-case", "name.json", JSON.stringify({ ...valid, name: "My Story" }), /name\.json: name: a name is kebab-case/],
    ["invalid JSON", "broken.json", "{ name: ", /broken\.json: not valid JSON/],
    ["invalid YAML", "broken.yaml", "name: [unclosed", /broken\.yaml: not valid YAML/],
    ["a TypeScript file without a default export", "nodefault.ts", "export const x = 1;\n", /nodefault\.ts: export the scenario as default/],
    ["a TypeScript file that does not compile", "syntax.ts", "export default {{{;\n", /syntax\.ts: could not be loaded/],
    ["an unsupported file type", "story.txt", "hello", /story\.txt: unsupported file type/],
  ])("refuses %s, naming the file, the step and what is wrong", async (_name, fileName, text, message) => {
    const path = file(fileName, text);
    expect(await refusal(() => loadScenarioFile(path))).toMatch(message);
  });

  it("refuses a file that does not exist", async () => {
    expect(await refusal(() => loadScenarioFile(join(dir, "missing.yaml")))).toMatch(/missing\.yaml: file not found/);
  });

  it("keeps every built-in scenario valid under the schema", () => {
    for (const scenario of BUILTIN_SCENARIOS) expect(parseScenario(scenario, "built-in")).toEqual(scenario);
  });

  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["10m", 600_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1.5h", 5_400_000],
    [250, 250],
  ] as const)("reads the duration %j as %d ms", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it.each([["10 minutes"], ["-1s"], [-5], [1.5], ["31d"], [null]])("refuses the duration %j", (value) => {
    expect(parseDuration(value).ok).toBe(false);
  });
});
