// `npm test`: the type check, then vitest, then the browser tests — the browser stage runs and reports even when
// vitest fails, so one run shows every failure; the exit code is non-zero if any stage failed.

import { spawnSync } from "node:child_process";

const stages = [
  ["type check", ["run", "typecheck"]],
  ["vitest", ["exec", "--", "vitest", "run"]],
  ["browser tests", ["run", "test:browser"]],
];

const failed = [];
for (const [name, args] of stages) {
  const { status, signal } = spawnSync("npm", args, { stdio: "inherit" });
  if (status !== 0) {
    failed.push(`${name} (${signal ?? `exit ${status}`})`);
    // Types that do not check make every later failure noise; stop there.
    if (name === "type check") break;
  }
}
if (failed.length > 0) {
  process.stderr.write(`\nnpm test: failed: ${failed.join(", ")}\n`);
  process.exit(1);
}
