// Writes a transcript for people (aligned text) or machines (JSON that is byte-identical for the same seed).

import type { Transcript, TranscriptEvent } from "./player.js";

export interface FormatOptions {
  /** Include wall-clock latencies: useful to read, but they differ from run to run. */
  timings: boolean;
}

/** The line that ends a run's text: its seed, and how to play the same run again. */
export function formatSeedLine(seed: number): string {
  return `seed ${seed}: --seed ${seed} plays this run again with the same ids`;
}

/** Sandbox time since the order was created: "+0s", "+2m", "+1h 30m", "+1d 2h". */
export function formatOffset(ms: number): string {
  if (ms < 1000) return `+${ms}ms`;
  const parts: string[] = [];
  let rest = Math.floor(ms / 1000);
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return `+${parts.slice(0, 2).join(" ")}`;
}

function describeEvent(event: TranscriptEvent, options: FormatOptions): string {
  switch (event.kind) {
    case "status":
      return `status  ${event.from ?? "—"} → ${event.to}  (${event.cause}${event.forced ? ", forced" : ""})`;
    case "ipn": {
      const answer = event.responseStatus !== null ? `answered ${event.responseStatus}` : event.error ? `${event.outcome}: ${event.error}` : event.outcome;
      const latency = options.timings && event.latencyMs !== null ? ` in ${event.latencyMs}ms` : "";
      const fault = event.fault === "deliver" ? "" : `  [${event.fault}${event.faultDetail ? `: ${event.faultDetail}` : ""}]`;
      return `ipn     ${event.id} ${event.status} → ${event.outcome === "dropped" ? "not sent" : answer}${latency}${fault}`;
    }
    case "wait":
      return `wait    ${formatOffset(event.ms).slice(1)}`;
    case "waitFor":
      return `waitFor ${event.event}: ${event.happened ? "happened" : `did not happen within ${formatOffset(event.timeoutMs).slice(1)}`}`;
    case "expect":
      return `expect  step ${event.step} ${event.expectation}: ${event.ok ? "ok" : "FAILED"} (${event.detail})`;
    case "error":
      return `error   step ${event.step}: ${event.message}`;
    case "resumed":
      return `resumed at step ${event.step}, after a restart`;
  }
}

export function formatTranscriptText(transcript: Transcript, options: FormatOptions): string {
  const { order } = transcript;
  const lines = [
    `scenario ${transcript.scenario}: ${transcript.description}`,
    `order ${order.uid} ${order.route.replace(">", " → ")}, ${order.inAmount} → ${order.outAmount}${order.via === "checkout" ? ", created by your checkout" : ""}`,
    ...transcript.events.map((event) => `  ${formatOffset(event.at).padEnd(9)} ${describeEvent(event, options)}`),
    `${transcript.passed ? "passed" : "FAILED"}: ${transcript.scenario}`,
  ];
  return lines.join("\n") + "\n";
}

/**
 * The transcripts as JSON; without timings, the same seed gives byte-identical output. `seed` is the run's (null on a
 * running sandbox, which keeps its own), so that a run can be played again with --seed.
 */
export function formatTranscriptJson(transcripts: Transcript[], options: FormatOptions & { seed?: number | null }): string {
  const strip = (t: Transcript): Transcript =>
    options.timings ? t : { ...t, events: t.events.map((e) => (e.kind === "ipn" ? { ...e, latencyMs: null } : e)) };
  const seed = options.seed === undefined ? {} : { seed: options.seed };
  return JSON.stringify({ passed: transcripts.every((t) => t.passed), ...seed, scenarios: transcripts.map(strip) }, null, 2) + "\n";
}
