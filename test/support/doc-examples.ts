// Finds the example blocks of the README and docs/, reads the marker each carries, and compares shown with real output.

/**
 * What a block is, from the HTML comment on the line before its fence, `<!-- example: KIND key=value … -->`:
 * - `sh`: shell commands run with bash against the session's sandbox (`exchanger-sandbox`, bare or through npx, is the built CLI);
 * - `ts`, `js`: a module run with node (TypeScript through tsx), `exchanger-sandbox` imports resolving to the package;
 * - `scenario file=NAME`: a scenario file, played by `exchanger-sandbox run NAME` against a hash-checking merchant;
 * - `file name=NAME`: saved as NAME in the session's folder, for a later block to use;
 * - `output`: what the previous block prints; `log`: lines the session's sandbox logs, in that order;
 * - `ipn-body`: the IPN the README's quick-start order sends on waitPayment, brackets unescaped;
 * - `tested-by PATH`: run by that test file; `same-as PAGE`: the same commands as a block of that page, which runs;
 * - `skip — REASON`: cannot run here, and why.
 * Options: `session=NAME` (blocks of one session share a sandbox and a folder), `merchant=reference:SECRET` (the
 * reference merchant backend stands at 127.0.0.1:3000) or `merchant=verifier:SECRET` (an IPN endpoint that checks
 * hashes), `as=HOST:PORT` (another address that stands for the sandbox), `output=comments` (the block's trailing
 * `# ` comments are what it prints).
 */
export const KINDS = ["sh", "ts", "js", "scenario", "file", "output", "log", "ipn-body", "tested-by", "same-as", "skip"] as const;
export type Kind = (typeof KINDS)[number];

export interface DocBlock {
  /** The page, e.g. "README.md" or "docs/ipn.md". */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string ("sh", "json", ""). */
  lang: string;
  text: string;
  /** Null when the block carries no marker. */
  marker: Marker | null;
}

export interface Marker {
  kind: Kind;
  options: Record<string, string>;
  /** For tested-by and same-as: the path; for skip: the reason. */
  argument: string;
}

const MARKER = /^<!-- example: (.*) -->$/;

/** Every fenced block of a page, with the marker on the line just before its fence. */
export function findBlocks(page: string, markdown: string): DocBlock[] {
  const lines = markdown.split("\n");
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith("```"));
    if (end === -1) throw new Error(`${page}:${i + 1}: a fence that is never closed`);
    const marked = MARKER.exec(lines[i - 1] ?? "");
    blocks.push({ page, line: i + 1, lang: open[1]!, text: lines.slice(i + 1, end).join("\n"), marker: marked ? parseMarker(marked[1]!) : null });
    i = end;
  }
  return blocks;
}

/** `sh session=x merchant=reference:S`, `skip — reason`, `tested-by test/a.test.ts`. */
export function parseMarker(body: string): Marker {
  const [kind = "", ...rest] = body.trim().split(/\s+/);
  if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`unknown example kind ${JSON.stringify(kind)}; the kinds are ${KINDS.join(", ")}`);
  if (kind === "skip") return { kind, options: {}, argument: rest.join(" ").replace(/^—\s*/, "") };
  if (kind === "tested-by" || kind === "same-as") return { kind, options: {}, argument: rest.join(" ") };
  const options: Record<string, string> = {};
  for (const token of rest) {
    const eq = token.indexOf("=");
    if (eq < 1) throw new Error(`expected key=value after "${kind}", got ${JSON.stringify(token)}`);
    options[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return { kind: kind as Kind, options, argument: "" };
}

/** Values that differ from run to run but not in meaning: durations (`4ms`, `12 ms`, `6.1 s`) and ms timestamps. */
export function normalise(line: string): string {
  return line
    .replace(/(?<=\s|\()\d+(\.\d+)? ?m?s\b/g, "<duration>")
    .replace(/\b\d{13}\b/g, "<ms>")
    .trimEnd();
}

function wildcard(shown: string): RegExp {
  return new RegExp(`^${shown.split("…").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*?")}$`, "s");
}

/**
 * Whether text output shows as the docs show it: line by line, `…` inside a line standing for any text and a line of
 * just `…` for any number of lines.
 */
export function matchText(shown: string, actual: string): { ok: true } | { ok: false; why: string } {
  const want = shown.split("\n").map(normalise);
  const got = actual.replace(/\r/g, "").replace(/\n+$/, "").split("\n").map(normalise);
  const walk = (w: number, g: number): boolean => {
    if (w === want.length) return g === got.length;
    if (want[w]!.trim() === "…") {
      for (let k = g; k <= got.length; k++) if (walk(w + 1, k)) return true;
      return false;
    }
    return g < got.length && wildcard(want[w]!).test(got[g]!) && walk(w + 1, g + 1);
  };
  return walk(0, 0) ? { ok: true } : { ok: false, why: `shown:\n${shown}\n\nprinted:\n${actual}` };
}

/** Lines the log must hold, each somewhere after the one before. */
export function matchLogLines(shown: string, log: string): { ok: true } | { ok: false; why: string } {
  const lines = log.split("\n").map(normalise);
  let from = 0;
  for (const line of shown.split("\n").map(normalise)) {
    const at = lines.findIndex((l, i) => i >= from && wildcard(line).test(l));
    if (at === -1) return { ok: false, why: `no line like ${JSON.stringify(line)} after line ${from} of the log:\n${log}` };
    from = at + 1;
  }
  return { ok: true };
}

/**
 * Whether JSON output matches JSON as shown: the same keys and items, `…` as a value (bare or quoted) for any value,
 * `…` inside a string for any text.
 */
export function matchJson(shown: string, actual: string): { ok: true } | { ok: false; why: string } {
  let want: unknown;
  let got: unknown;
  try {
    want = JSON.parse(quoteBareEllipses(shown));
  } catch (error) {
    return { ok: false, why: `the shown JSON does not parse: ${(error as Error).message}` };
  }
  try {
    got = JSON.parse(actual);
  } catch {
    return { ok: false, why: `the output is not JSON:\n${actual}` };
  }
  const problem = jsonDifference(want, got, "$");
  return problem === null ? { ok: true } : { ok: false, why: `${problem}\n\nprinted:\n${actual}` };
}

function quoteBareEllipses(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString && c === "\\") {
      out += c + (text[++i] ?? "");
      continue;
    }
    if (c === '"') inString = !inString;
    out += !inString && c === "…" ? '"…"' : c;
  }
  return out;
}

function jsonDifference(want: unknown, got: unknown, path: string): string | null {
  if (want === "…") return null;
  if (typeof want === "string") return typeof got === "string" && wildcard(want).test(got) ? null : `${path}: shown ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return `${path}: shown a list of ${want.length}, got ${JSON.stringify(got)?.slice(0, 200)}`;
    for (const [i, item] of want.entries()) {
      const problem = jsonDifference(item, got[i], `${path}[${i}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (want !== null && typeof want === "object") {
    if (got === null || typeof got !== "object" || Array.isArray(got)) return `${path}: shown an object, got ${JSON.stringify(got)}`;
    const [w, g] = [Object.keys(want), Object.keys(got)];
    if (w.join() !== g.join()) return `${path}: shown the keys ${w.join(", ")}, got ${g.join(", ")}`;
    for (const key of w) {
      const problem = jsonDifference((want as Record<string, unknown>)[key], (got as Record<string, unknown>)[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return Object.is(want, got) ? null : `${path}: shown ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
}

/** For `output=comments`: the `# ` lines that end the block, without their `# `. */
export function trailingComments(text: string): string {
  const lines = text.split("\n");
  let start = lines.length;
  while (start > 0 && lines[start - 1]!.startsWith("# ")) start--;
  return lines.slice(start).map((l) => l.slice(2)).join("\n");
}

/** A block's commands, one per command (continuation lines joined), without comments, whitespace collapsed: for same-as. */
export function commandsOf(text: string): string[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => !l.trimStart().startsWith("#"))
    .map((l) => l.replace(/\s+#.*$/, "").replace(/\s+/g, " ").trim())
    .filter((l) => l !== "");
}
