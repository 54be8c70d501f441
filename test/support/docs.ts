// Reads the README and the topic pages under docs/, for the tests that keep them true.

import { readdirSync, readFileSync } from "node:fs";

const ROOT = new URL("../../", import.meta.url);

/** A documentation file by its path from the repository's root, e.g. "README.md" or "docs/ipn.md". */
export function readDoc(path: string): string {
  return readFileSync(new URL(path, ROOT), "utf8");
}

/** Every Markdown file a reader can reach: the README and each page under docs/. */
export function allDocs(): string[] {
  return ["README.md", ...readdirSync(new URL("docs/", ROOT)).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)];
}
