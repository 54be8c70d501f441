// The README is a short front door, and every relative link in it and in docs/ leads to a page and heading that exist.

import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";
import { allDocs, readDoc } from "./support/docs.js";

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const outsideCode = markdown.replace(/^```[\s\S]*?^```$/gm, "");
  return new Set([...outsideCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

function links(markdown: string): string[] {
  const outsideCode = markdown.replace(/^```[\s\S]*?^```$/gm, "").replace(/`[^`\n]*`/g, "");
  return [...outsideCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

describe("the documentation", () => {
  it("keeps the README a front door of at most 400 lines", () => {
    expect(readDoc("README.md").split("\n").length).toBeLessThanOrEqual(400);
  });

  it("has the topic pages the README links to", () => {
    expect(allDocs().length).toBeGreaterThan(8);
  });

  it.each(allDocs())("%s: every relative link resolves to a file and heading that exist", (file) => {
    const broken: string[] = [];
    for (const target of links(readDoc(file))) {
      const [path, anchor] = target.split("#") as [string, string | undefined];
      const resolved = path === "" ? file : normalize(join(dirname(file), path));
      if (!existsSync(new URL(`../${resolved}`, import.meta.url))) {
        broken.push(`${target}: no file ${resolved}`);
        continue;
      }
      if (anchor !== undefined && resolved.endsWith(".md") && !anchors(readDoc(resolved)).has(anchor)) {
        broken.push(`${target}: no heading #${anchor} in ${resolved}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
