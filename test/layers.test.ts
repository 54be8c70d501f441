// The layers point one way: the server knows nothing of the contract kit, the scenarios or the command line, and
// those reach the server only through its public entry, as a user's code would.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function sources(folder: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, folder))) {
    const path = join(folder, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (/\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** Every module a file imports, as a path from the repository's root (package imports are left out). */
function imports(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)"/gms)].map((m) => relative(ROOT, join(ROOT, file, "..", m[1]!)));
}

describe("the layers", () => {
  it.each(sources("sandbox"))("%s imports nothing from contracts/, scenarios/ or cli/", (file) => {
    expect(imports(file).filter((target) => /^(contracts|scenarios|cli)\//.test(target))).toEqual([]);
  });

  it.each([...sources("contracts"), ...sources("scenarios"), ...sources("cli")])("%s reaches the server only through sandbox/index.ts", (file) => {
    expect(imports(file).filter((target) => target.startsWith("sandbox/") && target !== "sandbox/index.js")).toEqual([]);
  });

  it.each([...sources("contracts"), ...sources("scenarios")])("%s does not import the command line", (file) => {
    expect(imports(file).filter((target) => target.startsWith("cli/"))).toEqual([]);
  });
});
