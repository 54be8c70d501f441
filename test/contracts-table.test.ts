// The checks are data: the docs' contract table and `verify --list` show exactly them, and contracts/ stays small.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { CHECKS, CONTRACT_GROUPS, requiredLabel } from "../contracts/index.js";
import { cli } from "./support/cli.js";
import { contractTable } from "./support/contract-table.js";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function files(folder: string): string[] {
  return readdirSync(join(ROOT, folder)).flatMap((name) => {
    const path = join(folder, name);
    return statSync(join(ROOT, path)).isDirectory() ? files(path) : [path];
  });
}

describe("the checks as data", () => {
  it("are listed in docs/contracts.md exactly, in order, with whether each is required and what passing means", () => {
    expect(contractTable()).toEqual(CHECKS.map((c) => [`\`${c.id}\``, requiredLabel(c, true), c.title]));
  });

  it("each have an id of their group, a fix hint, and a group the kit knows", () => {
    for (const check of CHECKS) {
      expect(check.id.startsWith(`${check.group}/`), check.id).toBe(true);
      expect((CONTRACT_GROUPS as readonly string[]).includes(check.group), check.id).toBe(true);
      expect(check.hint.length, check.id).toBeGreaterThan(20);
    }
    expect(new Set(CHECKS.map((c) => c.id)).size).toBe(CHECKS.length);
    expect(new Set(CHECKS.map((c) => c.group))).toEqual(new Set(CONTRACT_GROUPS));
  });

  it("are what verify --list prints, one line each, without running anything", async () => {
    const { code, stdout, stderr } = await cli("verify", "--list");
    expect([code, stderr]).toEqual([0, ""]);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(CHECKS.length);
    CHECKS.forEach((check, i) => expect(lines[i]!.split(/\s{2,}/), check.id).toEqual([check.id, requiredLabel(check), check.title]));
  });

  it("verify --list --only lists the groups asked for", async () => {
    const { stdout } = await cli("verify", "--list", "--only", "finality,replay");
    expect(stdout.trimEnd().split("\n").map((line) => line.split(" ")[0])).toEqual(["finality/returned", "finality/deleted", "finality/errorPayment", "replay/old-ipn"]);
  });

  it.each(files("contracts").filter((f) => f.endsWith(".ts")))("%s is at most 300 lines and says what it is for", (file) => {
    const text = readFileSync(join(ROOT, file), "utf8");
    expect(text.split("\n").length).toBeLessThanOrEqual(300);
    expect(text.startsWith("// ")).toBe(true);
  });
});
