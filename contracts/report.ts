// Writes a contract report for people (text), for machines (JSON) or for CI (JUnit XML), and the table of checks.

import type { CheckResult, CheckSpec, Report } from "./model.js";
import { summarize } from "./model.js";
import { describeChanges, show } from "./state.js";

export const REPORTERS = ["text", "json", "junit"] as const;
export type ReporterName = (typeof REPORTERS)[number];

const MARK: Record<CheckResult["outcome"], string> = { passed: "pass", failed: "FAIL", notJudged: "n/j " };

export function formatCheckLine(check: CheckResult): string {
  const tag = check.outcome === "failed" && !check.required ? "warn" : MARK[check.outcome];
  return `${tag}  ${check.id}: ${check.title}${check.required ? "" : " (advisory)"}`;
}

/** "yes", "advisory" or "advisory (`--require-reconcile`)": the required column of the docs' table. */
export function requiredLabel(spec: CheckSpec, markdown = false): string {
  if (spec.required) return "yes";
  if (!spec.requiredWith) return "advisory";
  return `advisory (${markdown ? `\`${spec.requiredWith}\`` : spec.requiredWith})`;
}

/** The checks as `verify --list` prints them: id, whether required, what passing means. */
export function formatCheckTable(checks: readonly CheckSpec[]): string {
  const idWidth = Math.max(...checks.map((c) => c.id.length));
  const labelWidth = Math.max(...checks.map((c) => requiredLabel(c).length));
  return checks.map((c) => `${c.id.padEnd(idWidth)}  ${requiredLabel(c).padEnd(labelWidth)}  ${c.title}`).join("\n") + "\n";
}

/** The setup lines at the head of a text report: what was checked against which sandbox. */
function setupLines(report: Report): string[] {
  const { setup } = report;
  const sandbox = [setup.sandboxVersion ? `version ${setup.sandboxVersion}` : null, setup.seed !== null ? `seed ${setup.seed}` : null].filter(Boolean).join(", ");
  return [`exchanger-sandbox verify: ${setup.ipnUrl} against the sandbox at ${setup.sandboxUrl}${sandbox ? ` (${sandbox})` : ""}`];
}

/** What the kit learned a paid order looks like, in one line (or why it could not). */
export function learnedLine(report: Report): string | null {
  if (!report.learned) return report.setup.stateUrl ? "learned: not what a paid order looks like (signature/valid did not show it)" : null;
  return `learned: done changes ${describeChanges(report.learned.doneChanged)} in your state; a paid order looks like ${show(report.learned.paidDocument)}`;
}

export function formatText(report: Report): string {
  const lines: string[] = [...setupLines(report)];
  const learned = learnedLine(report);
  if (learned) lines.push(learned);
  lines.push("");
  for (const check of report.checks) {
    lines.push(formatCheckLine(check));
    if (check.outcome !== "passed") {
      for (const line of check.evidence) lines.push(`        ${line}`);
      if (check.hint) lines.push(`        ${check.outcome === "notJudged" ? "to judge it" : "fix"}: ${check.hint}`);
    }
  }
  const s = summarize(report.checks);
  lines.push("", `${s.passed} passed, ${s.failed} failed${s.advisoryFailed ? `, ${s.advisoryFailed} advisory failed` : ""}, ${s.notJudged} not judged (${(report.durationMs / 1000).toFixed(1)} s)`);
  if (s.notJudged > 0) lines.push("Not judged is not passed: the lines above say what the kit needs to judge each.");
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
        out.push(`      <skipped message="${xml(check.evidence[0]?.startsWith("not judged") ? check.evidence[0] : `not judged: ${check.evidence[0] ?? ""}`)}"/>`);
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
