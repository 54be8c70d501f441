// Writes a contract report for people (text), for machines (JSON) or for CI (JUnit XML).

import { summarize, type CheckResult, type Report } from "./model.js";

export const REPORTERS = ["text", "json", "junit"] as const;
export type ReporterName = (typeof REPORTERS)[number];

const MARK: Record<CheckResult["outcome"], string> = { passed: "pass", failed: "FAIL", notJudged: "n/j " };

export function formatCheckLine(check: CheckResult): string {
  const tag = check.outcome === "failed" && !check.required ? "warn" : MARK[check.outcome];
  return `${tag}  ${check.id}: ${check.title}${check.required ? "" : " (advisory)"}`;
}

export function formatText(report: Report): string {
  const lines: string[] = [`exchanger-sandbox verify: ${report.setup.ipnUrl} against the sandbox at ${report.setup.sandboxUrl}`, ""];
  for (const check of report.checks) {
    lines.push(formatCheckLine(check));
    if (check.outcome !== "passed") {
      for (const line of check.evidence) lines.push(`        ${line}`);
      if (check.hint) lines.push(`        ${check.outcome === "notJudged" ? "to judge it" : "fix"}: ${check.hint}`);
    }
  }
  const s = summarize(report.checks);
  lines.push("", `${s.passed} passed, ${s.failed} failed${s.advisoryFailed ? `, ${s.advisoryFailed} advisory failed` : ""}, ${s.notJudged} not judged (${(report.durationMs / 1000).toFixed(1)} s)`);
  if (s.notJudged > 0) lines.push("Not judged is not passed: give the URLs named above so the kit can check them.");
  return lines.join("\n") + "\n";
}

export function formatJson(report: Report): string {
  return JSON.stringify({ ...report, summary: summarize(report.checks) }, null, 2) + "\n";
}

const xml = (text: string) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[ch]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** JUnit XML: a testsuite per contract, a testcase per check; not judged is skipped, an advisory failure says so. */
export function formatJunit(report: Report): string {
  const groups = new Map<string, CheckResult[]>();
  for (const check of report.checks) groups.set(check.group, [...(groups.get(check.group) ?? []), check]);
  const s = summarize(report.checks);
  const out = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="exchanger-sandbox contracts" tests="${report.checks.length}" failures="${s.failed + s.advisoryFailed}" skipped="${s.notJudged}" time="${(report.durationMs / 1000).toFixed(3)}">`,
  ];
  for (const [group, checks] of groups) {
    const failures = checks.filter((c) => c.outcome === "failed").length;
    const skipped = checks.filter((c) => c.outcome === "notJudged").length;
    const time = checks.reduce((t, c) => t + c.durationMs, 0) / 1000;
    out.push(`  <testsuite name="${xml(group)}" tests="${checks.length}" failures="${failures}" skipped="${skipped}" time="${time.toFixed(3)}" timestamp="${xml(report.startedAt)}">`);
    for (const check of checks) {
      const name = `${check.id}: ${check.title}${check.required ? "" : " (advisory)"}`;
      out.push(`    <testcase classname="contracts.${xml(group)}" name="${xml(name)}" time="${(check.durationMs / 1000).toFixed(3)}">`);
      const body = xml([...check.evidence, ...(check.hint ? [`hint: ${check.hint}`] : [])].join("\n"));
      if (check.outcome === "failed") {
        const message = check.required ? check.evidence.at(-1) ?? "failed" : `advisory: ${check.evidence.at(-1) ?? "failed"}`;
        out.push(`      <failure type="${check.required ? "contract" : "advisory"}" message="${xml(message)}">${body}</failure>`);
      } else if (check.outcome === "notJudged") {
        out.push(`      <skipped message="${xml(`not judged: ${check.evidence[0] ?? ""}`)}"/>`);
      } else {
        out.push(`      <system-out>${body}</system-out>`);
      }
      out.push(`    </testcase>`);
    }
    out.push(`  </testsuite>`);
  }
  out.push(`</testsuites>`);
  return out.join("\n") + "\n";
}

export function formatReport(report: Report, reporter: ReporterName): string {
  switch (reporter) {
    case "text":
      return formatText(report);
    case "json":
      return formatJson(report);
    case "junit":
      return formatJunit(report);
    default: {
      const never: never = reporter;
      throw new Error(`unknown reporter ${JSON.stringify(never)}; expected one of ${REPORTERS.join(", ")}`);
    }
  }
}
