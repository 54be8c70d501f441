// The IPN page's verification snippets (Node, Python, PHP) really verify: each is cut out of docs/ipn.md and run by
// its own interpreter against the docs' golden vector, altered copies of it, and bodies the sandbox signs.

import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeIpnBody, signIpn, type IpnFields } from "../sandbox/index.js";
import { readDoc } from "./support/docs.js";

const readme = readDoc("docs/ipn.md");
const dir = mkdtempSync(join(tmpdir(), "ipn-snippets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOLDEN_FIELDS = {
  orderId: "5d8e6002b80b7b4cd75a6424",
  newStatus: "inProgress",
  inAmount: "2",
  outAmount: "317.42",
  xml_from: "ETH",
  xml_to: "WMZ",
  timestamp: "1571328406072",
};
const GOLDEN_SECRET = "SECRET123";
const GOLDEN_HASH = "af3acf947e6f0e0f2c267e300b8582e504dba12d1f2d058652b7414163c09f48";

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** A full IPN as the sandbox sends it, with requisites that need escaping, signed by the sandbox's own code. */
function sandboxBody(secret: string, toValue: string): string {
  const fields: IpnFields = {
    orderUID: "1001",
    orderId: "0123456789abcdef01234567",
    newStatus: "done",
    inAmount: "0.0135",
    outAmount: "2.14",
    xml_from: "ETH",
    xml_to: "WMZ",
    timestamp: String(Date.UTC(2026, 0, 1)),
    toValues: [
      { key: "0f3e6210a6998f0ddec770da", name: "WMZ purse", value: toValue },
      { key: "ebc03ee775fcb0e459fff40b", name: "E-mail & name", value: "buyer+qa@example.com" },
    ],
  };
  return encodeIpnBody(fields, "hash", signIpn(fields, secret).hash);
}

/** Case → [form body, secret, expected verdict]. */
const CASES: Record<string, [string, string, boolean]> = {
  "golden vector": [form({ ...GOLDEN_FIELDS, hash: GOLDEN_HASH }), GOLDEN_SECRET, true],
  "golden, outAmount changed": [form({ ...GOLDEN_FIELDS, outAmount: "3174.2", hash: GOLDEN_HASH }), GOLDEN_SECRET, false],
  "golden, newStatus changed": [form({ ...GOLDEN_FIELDS, newStatus: "done", hash: GOLDEN_HASH }), GOLDEN_SECRET, false],
  "golden, another secret": [form({ ...GOLDEN_FIELDS, hash: GOLDEN_HASH }), "SECRET124", false],
  "golden, hash missing": [form(GOLDEN_FIELDS), GOLDEN_SECRET, false],
  "golden, hash upper-cased": [form({ ...GOLDEN_FIELDS, hash: GOLDEN_HASH.toUpperCase() }), GOLDEN_SECRET, false],
  "golden, hash of non-ASCII junk": [form({ ...GOLDEN_FIELDS, hash: "é".repeat(64) }), GOLDEN_SECRET, false],
  "sandbox body": [sandboxBody("s3cr3t: with spaces & colons", "Z345677864658"), "s3cr3t: with spaces & colons", true],
  "sandbox body, escaped requisites": [sandboxBody("k", "Z 12+3&x=1 ü"), "k", true],
  "sandbox body, another secret": [sandboxBody("k", "Z345677864658"), "K", false],
};
const EXPECTED = Object.fromEntries(Object.entries(CASES).map(([name, [, , verdict]]) => [name, verdict]));
const INPUT = JSON.stringify(Object.entries(CASES).map(([name, [body, secret]]) => ({ name, body, secret })));

interface Language {
  marker: string;
  fence: string;
  command: string;
  file: string;
  constantTime: string;
  /** The program: the snippet plus a harness that parses each body the language's usual way and prints verdicts. */
  program(snippet: string): string;
  missing: string;
}

const LANGUAGES: Record<"node" | "python" | "php", Language> = {
  node: {
    marker: "// verify-ipn (node)",
    fence: "js",
    command: process.execPath,
    file: "verify.mjs",
    constantTime: "timingSafeEqual(",
    program: (snippet) => `${snippet}
const cases = JSON.parse(process.argv[2]);
const verdicts = {};
for (const c of cases) verdicts[c.name] = verifyIpn(new URLSearchParams(c.body), c.secret);
process.stdout.write(JSON.stringify(verdicts));
`,
    missing: "node is missing",
  },
  python: {
    marker: "# verify-ipn (python)",
    fence: "python",
    command: "python3",
    file: "verify.py",
    constantTime: "hmac.compare_digest(",
    program: (snippet) => `${snippet}

import json as _json, sys as _sys, urllib.parse as _parse
_verdicts = {}
for _c in _json.loads(_sys.argv[1]):
    _verdicts[_c["name"]] = verify_ipn(dict(_parse.parse_qsl(_c["body"], keep_blank_values=True)), _c["secret"])
_sys.stdout.write(_json.dumps(_verdicts))
`,
    missing: "python3 is not installed; install Debian's python3",
  },
  php: {
    marker: "// verify-ipn (php)",
    fence: "php",
    command: "php",
    file: "verify.php",
    constantTime: "hash_equals(",
    program: (snippet) => `<?php
${snippet}
$verdicts = [];
foreach (json_decode($argv[1], true) as $c) {
    parse_str($c['body'], $fields);
    $verdicts[$c['name']] = verify_ipn($fields, $c['secret']);
}
echo json_encode($verdicts);
`,
    missing: "php is not installed: install Debian's php-cli (apt-get install -y php-cli; .ci/run does this in CI)",
  },
};

/** The docs/ipn.md block that starts with the marker, without its fences. */
function snippet(language: Language): string {
  const blocks = [...readme.matchAll(/^```([a-z]*)\n([\s\S]*?)^```$/gm)].filter((m) => m[2]!.startsWith(`${language.marker}\n`));
  expect(blocks, `exactly one docs/ipn.md block starts with "${language.marker}"`).toHaveLength(1);
  expect(blocks[0]![1], `the fence of "${language.marker}"`).toBe(language.fence);
  return blocks[0]![2]!;
}

function run(command: string, file: string, missing: string): Promise<string> {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore", timeout: 10_000 });
  } catch {
    throw new Error(missing);
  }
  return new Promise((resolve, reject) => {
    execFile(command, [file, INPUT], { timeout: 15_000, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${file} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe("the IPN page's verification snippets", () => {
  it("sit under the IPN section's own subsection, in the order Node, Python, PHP", () => {
    const start = readme.indexOf("\n## Verifying an IPN in Node, Python and PHP\n");
    expect(start).toBeGreaterThan(0);
    const sub = readme.slice(start, readme.indexOf("\n## ", start + 1));
    expect(sub.length).toBeGreaterThan(0);
    const at = Object.values(LANGUAGES).map((l) => sub.indexOf(l.marker));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it.each(Object.entries(LANGUAGES))("%s: verifies the golden vector and sandbox bodies, refuses altered ones", async (name, language) => {
    const code = snippet(language);
    expect(code, `the ${name} snippet compares in constant time`).toContain(language.constantTime);
    expect(code).toMatch(/["']hash["']/);
    const file = join(dir, language.file);
    writeFileSync(file, language.program(code));
    const verdicts = JSON.parse(await run(language.command, file, language.missing)) as unknown;
    expect(verdicts).toEqual(EXPECTED);
  });
});
