// Builds dist/ once before the tests that run the compiled binary or pack it.

import { execFileSync } from "node:child_process";

export default function setup() {
  execFileSync("npm", ["run", "build"], { cwd: new URL("..", import.meta.url), stdio: "pipe" });
}
