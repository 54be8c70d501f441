#!/usr/bin/env node
// The exchanger-sandbox binary: hands process.argv to runCli and turns its result into the exit code.

import { runCli } from "./index.js";

const stop = new AbortController();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => stop.abort());
}

runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: stop.signal,
}).then(
  (code) => {
    process.exitCode = code;
    // Keep-alive sockets and timers are closed by then; exit promptly even if a stray handle lingers.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error: unknown) => {
    process.stderr.write(`exchanger-sandbox: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
