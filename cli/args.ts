// Shared pieces of the command line: the IO it writes to, usage errors, and flag readers that explain themselves.

import { parseArgs, type ParseArgsConfig } from "node:util";

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;
/** What parseArgs returns for these options: `values` typed by them, and `positionals`. */
export type ParsedFlags<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>>;
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

/**
 * Reads a command's flags strictly with node's parseArgs, and says what is wrong in one line: an unknown option
 * names the nearest known one, a flag without its value says so, and a value that starts with a dash (`--port -1`)
 * is taken as the value it plainly is, for the flag's own reader to judge, instead of parseArgs' "ambiguous".
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(command: string, args: readonly string[], options: O, { positionals = false } = {}): ParsedFlags<O> {
  try {
    return parseArgs({ args: attachDashValues(args, options), options, allowPositionals: positionals, strict: true });
  } catch (error) {
    throw new UsageError(`${explainParseError(error, args, options, positionals)} (see exchanger-sandbox ${command} --help)`);
  }
}

/** `--flag -x` → `--flag=-x` for a flag that takes a value, when `-x` is not itself one of the command's options. */
function attachDashValues(args: readonly string[], options: ParseArgsOptionsConfig): string[] {
  const shorts = new Set(Object.values(options).flatMap((option) => (option.short ? [`-${option.short}`] : [])));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return [...out, ...args.slice(i)];
    const next = args[i + 1];
    const takesValue = arg.startsWith("--") && !arg.includes("=") && options[arg.slice(2)]?.type === "string";
    // A next word starting with "--" stays an option: `--ipn-url --ipn-secrt S` should hear about the typo.
    if (takesValue && next !== undefined && /^-(?!-)/.test(next) && !shorts.has(next.slice(0, 2))) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function explainParseError(error: unknown, args: readonly string[], options: ParseArgsOptionsConfig, positionals: boolean): string {
  const { code, message = String(error) } = error as NodeJS.ErrnoException;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const name = /'([^']+)'/.exec(message)?.[1] ?? "";
    // `-port` reaches parseArgs as the short options -p -o -r -t; suggest from the word the user typed.
    const typed = name.startsWith("--") ? name : (args.find((arg) => arg.startsWith(name) && !arg.startsWith("--")) ?? name);
    const longNames = Object.keys(options).map((long) => `--${long}`);
    const suggestion = nearest(typed.replace(/^-+/, "--").split("=")[0]!, longNames);
    return `unknown option ${typed}${suggestion.length ? `; did you mean ${suggestion.join(" or ")}?` : ""}`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    const missing = /^Option '(?:-\w, )?(--[^' ]+)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(message);
    if (missing) return `${missing[1]} needs a value`;
    const noValue = /^Option '(?:-\w, )?(--[^' ]+)' does not take an argument/.exec(message);
    if (noValue) return `${noValue[1]} is a switch and takes no value`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && !positionals) {
    const word = /'([^']*)'/.exec(message)?.[1];
    return `unexpected argument ${JSON.stringify(word)}: this command takes options only`;
  }
  // Anything else: parseArgs' own first sentence, which is clear but may run on for several lines.
  return message.split(/\.\s/)[0]!.replace(/\.$/, "");
}

/**
 * The candidates nearest to a mistyped word: those within a small edit distance (a typo, a missing or extra
 * letter, two letters swapped), else the one candidate that contains the word as a whole part (`--secret` →
 * `--ipn-secret`). Empty when nothing is near enough to be a helpful guess.
 */
export function nearest(word: string, candidates: readonly string[]): string[] {
  const typed = word.toLowerCase();
  const scored = candidates.map((candidate) => ({ candidate, distance: editDistance(typed, candidate.toLowerCase()) }));
  const best = Math.min(...scored.map((s) => s.distance));
  const bare = typed.replace(/^-+/, "");
  if (best <= Math.max(1, Math.floor(bare.length / 3))) return scored.filter((s) => s.distance === best).slice(0, 3).map((s) => s.candidate);
  const containing = candidates.filter((candidate) => `-${candidate.toLowerCase().replace(/^-+/, "")}-`.includes(`-${bare}-`));
  return containing.length === 1 ? containing : [];
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1 each. */
function editDistance(a: string, b: string): number {
  // Hand-written rather than a dependency: fifteen lines for an error message, in a package kept lean on purpose.
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = value;
    }
  }
  return rows[a.length]![b.length]!;
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

/** Reads --checkout-body (verify and run): any JSON, {} when it is not given. */
export function checkoutBodyFlag(value: string | undefined): unknown {
  if (value === undefined) return {};
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--checkout-body is not valid JSON: ${(error as Error).message}`);
  }
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

