// Packs the package as npm would publish it, and runs npm and the packed binary as a merchant's shell would.

import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const REPO = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
export const PACKAGE_VERSION = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }).version;

/**
 * The environment of a merchant's shell: ours, minus what `npm test` adds about this project (npm would
 * otherwise take the repo for the local project), plus what keeps npx from asking questions.
 */
export function merchantEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_package_|npm_lifecycle_|npm_config_local_prefix$|INIT_CWD$)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, npm_config_yes: "true", CI: "true" };
}

/** `npm pack` into `dir`; returns the tarball's path. dist/ was built once by test/global-setup.ts, so no scripts run. */
export function packTarball(dir: string): string {
  // Rebuilding here would race the tests that run dist/ (test/cli.test.ts).
  execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: REPO, stdio: "pipe", env: merchantEnv() });
  const packed = readdirSync(dir).filter((name) => name.endsWith(".tgz"));
  if (packed.length !== 1) throw new Error(`npm pack made ${packed.length} tarballs in ${dir}`);
  return join(dir, packed[0]!);
}
