// What `exchanger-sandbox start` loads before it answers: libraries only some requests need wait for those requests.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const CLI = fileURLToPath(new URL("../dist/cli/index.js", import.meta.url));

/** The packages a fresh node process resolves while importing `file`, seen through a module resolve hook. */
function packagesLoadedBy(file: string): Set<string> {
  const hook = `export async function resolve(specifier, context, next) {
    const result = await next(specifier, context);
    console.error("resolved " + result.url);
    return result;
  }`;
  const script = `import { register } from "node:module";
    register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));
    await import(${JSON.stringify(file)});`;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 60_000 });
  if (run.status !== 0) throw new Error(`importing ${file} failed (${run.status}): ${run.stderr}`);
  const packages = new Set<string>();
  for (const [, path] of run.stderr.matchAll(/^resolved \S*node_modules\/(\S+)$/gm)) {
    const parts = path!.split("/");
    packages.add(parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!);
  }
  return packages;
}

describe("starting", () => {
  it("does not load zod or qrcode, which only validation and the payment page need", () => {
    const packages = packagesLoadedBy(CLI);
    // The hook sees the packages start does load, so an empty list would mean it saw nothing.
    expect(packages).toContain("hono");
    expect(packages).not.toContain("zod");
    expect(packages).not.toContain("qrcode");
  });
});
