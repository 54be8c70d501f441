// Shared pieces of the command line: the IO it writes to, usage errors, and flag readers that explain themselves.

import { assertAdminToken, assertIpnHashField, canonicalIpnHost, DEFAULT_IPN_HASH_FIELD, parseClockSpec } from "../sandbox/index.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Aborting it stops a running `start` (the binary wires SIGINT and SIGTERM to it). */
  signal?: AbortSignal;
  /** Called once `start` is listening, with the base URL (tests use it). */
  onListening?: (url: string) => void;
}


/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Runs a parseArgs call, turning its complaint into a UsageError. */
export function parsed<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    // parseArgs' own messages are clear, but long and sometimes several lines; keep the first sentence.
    const message = error instanceof Error ? error.message.split(/\.\s/)[0]!.replace(/\.$/, "") : String(error);
    throw new UsageError(`${message} (see --help)`);
  }
}

export function integer(value: string | undefined, flag: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function nonEmpty(value: string | undefined, flag: string): string | undefined {
  if (value !== undefined && value.trim() === "") throw new UsageError(`--${flag} cannot be empty`);
  return value;
}

/** Reads --clock: real, fast:N, instant or manual. */
export function clockFlag(value: string | undefined, fallback: string): string {
  if (value === undefined) return fallback;
  const parsedSpec = parseClockSpec(value);
  if (!parsedSpec.ok) throw new UsageError(`--clock: ${parsedSpec.message}`);
  return value;
}

/** Reads --ipn-hash-field with the IPN module's own rules. */
export function hashFieldFlag(value: string | undefined): string {
  const name = nonEmpty(value, "ipn-hash-field") ?? DEFAULT_IPN_HASH_FIELD;
  try {
    assertIpnHashField(name);
  } catch (error) {
    throw new UsageError(`--ipn-hash-field: ${(error as Error).message}`);
  }
  return name;
}

/** Reads --admin-token with the control API's own rules. */
export function adminTokenFlag(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    assertAdminToken(value);
  } catch (error) {
    throw new UsageError(`--admin-token: ${(error as Error).message.replace(/^adminToken /, "")}`);
  }
  return value;
}

/** Reads a comma-separated list of host names or IP addresses, e.g. --ipn-allow shop.example,10.0.0.5. */
export function hostListFlag(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined;
  const hosts = value.split(",").map((host) => host.trim());
  if (hosts.every((host) => host === "")) throw new UsageError(`--${flag} cannot be empty`);
  return hosts.map((host) => {
    try {
      return canonicalIpnHost(host);
    } catch (error) {
      throw new UsageError(`--${flag}: ${(error as Error).message}`);
    }
  });
}

/** Reads a flag that must be an absolute http or https URL. */
export function urlFlag(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--${flag} takes an absolute http or https URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--${flag} takes an http or https URL, got ${JSON.stringify(value)}`);
  return value;
}

/** Waits until the signal is aborted (SIGINT or SIGTERM in the binary). */
export function untilAborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!signal || signal.aborted) return resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

