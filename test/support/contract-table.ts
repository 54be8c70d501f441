// Reads the contract table of docs/contracts.md, for the tests that keep it equal to the checks' data.

import { readDoc } from "./docs.js";

/** The rows of the table under "## The contracts", as [check, required, passes when]. */
export function contractTable(): string[][] {
  const page = readDoc("docs/contracts.md");
  const section = page.slice(page.indexOf("## The contracts"));
  return section
    .split("\n")
    .filter((line) => /^\| `[a-z]/.test(line))
    .map((line) => line.slice(1, -1).split(" | ").map((cell) => cell.trim()));
}
