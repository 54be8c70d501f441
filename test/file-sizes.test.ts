// Files stay small enough to read whole: no source file, the tests and their helpers included, goes over the house
// limit of 450 lines; one that grows past it is split along its jobs.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAX_LINES = 450;
const FOLDERS = ["sandbox", "contracts", "scenarios", "cli", "test"];

const sources = FOLDERS.flatMap((folder) =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => /\.(ts|tsx|mjs)$/.test(name))
    .map((name) => join(folder, name)),
);

describe("file sizes", () => {
  it("finds the source files it checks", () => {
    expect(sources).toContain(join("sandbox", "index.ts"));
    expect(sources).toContain(join("test", "support", "reference-merchant.ts"));
  });

  it.each(sources)(`%s has at most ${MAX_LINES} lines`, (file) => {
    const lines = readFileSync(join(ROOT, file), "utf8").split("\n").length - 1;
    expect(lines).toBeLessThanOrEqual(MAX_LINES);
  });
});
