// Runs a shell snippet from the docs as a user would, with `exchanger-sandbox` on PATH as the built binary.

import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = new URL("../../", import.meta.url).pathname;
const BIN = join(REPO, (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> }).bin["exchanger-sandbox"]!);

/** The fenced block that starts with `marker` (e.g. "# doctor (sh)"), and the block right after it (its output, if any). */
export function docBlock(doc: string, marker: string): { code: string; next: string | undefined } {
  const blocks = [...doc.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)];
  const at = blocks.findIndex((m) => m[2]!.startsWith(`${marker}\n`));
  if (at === -1 || blocks.filter((m) => m[2]!.startsWith(`${marker}\n`)).length > 1) throw new Error(`expected exactly one block starting with "${marker}"`);
  return { code: blocks[at]![2]!, next: blocks[at + 1]?.[2] };
}

/**
 * Runs `script` with sh in a fresh folder (removed after), in a process group of its own that is killed when the
 * script ends or after `timeoutMs`, so nothing it started in the background outlives the test.
 */
export async function runShell(script: string, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), "exchanger-sandbox-shell-"));
  try {
    mkdirSync(join(dir, "bin"));
    const shim = join(dir, "bin", "exchanger-sandbox");
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(shim, 0o755);
    writeFileSync(join(dir, "script.sh"), script);
    const child = spawn("sh", [join(dir, "script.sh")], {
      cwd: dir,
      env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH ?? ""}` },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.once("close", (exitCode) => resolve(exitCode)));
    clearTimeout(timer);
    killGroup();
    return { code, stdout, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
