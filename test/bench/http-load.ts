// The HTTP cases' load: autocannon runs against the sandbox, a bare Hono hello-world (the baseline) and its floor
// route, taken in turns so that all see the machine in the same moods.

import autocannon from "autocannon";
import { get, HOST, spawnChild, type Child } from "./lib.js";

/** Seconds of load on each server before its measured runs, so the JIT and the connection pool are warm. */
export const WARMUP_SECONDS = 1;
/** Measured runs per server in the HTTP cases, taken in turns with the baseline's. */
export const HTTP_ROUNDS = 2;
export const CONNECTIONS = 50;


interface LoadResult {
  perSecond: number;
  answered: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "POST";
  body?: string;
  headers?: Record<string, string>;
}

/** One autocannon run of `seconds`; throws when any answer was not a 2xx or any request failed. */
async function load(options: LoadOptions, seconds: number): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: options.method ?? "GET",
    connections: CONNECTIONS,
    duration: seconds,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
  if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
    throw new Error(`${options.method ?? "GET"} ${options.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return {
    perSecond: result.requests.total / result.duration,
    answered: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
  };
}

export interface Comparison {
  /** Mean req/s of the subject's, the baseline's and the floor's measured runs. */
  subject: number;
  baseline: number;
  floor: number;
  /** Every request the subject answered, warm-up included. */
  subjectAnswered: number;
  runs: { server: Server; result: LoadResult }[];
}

type Server = "subject" | "baseline" | "floor";

/**
 * Loads the subject (already up), a bare Hono hello-world started for it (the baseline) and the same server's floor
 * route for this request (`floorPath`: what any Hono app pays to read this request and send this answer), in turns:
 * a warm-up each, then HTTP_ROUNDS rounds of one measured run each, in rotating order, so that all see the machine in
 * the same moods. `sample` is the subject's answer, which the floor route sends back.
 */
export async function compareWithHello(subject: LoadOptions, floorPath: string, sample: { get?: string; create?: string }, duration: number): Promise<Comparison> {
  const hello = await startHello();
  try {
    await hello.child.ask({ type: "samples", ...sample });
    const targets: Record<Server, LoadOptions> = {
      subject,
      baseline: { url: hello.url },
      floor: { ...subject, url: `${hello.url.replace(/\/$/, "")}${floorPath}${new URL(subject.url).search}` },
    };
    const runs: Comparison["runs"] = [];
    let subjectAnswered = (await load(targets.subject, WARMUP_SECONDS)).answered;
    await load(targets.baseline, WARMUP_SECONDS);
    await load(targets.floor, WARMUP_SECONDS);
    const orders: Server[][] = [
      ["baseline", "subject", "floor"],
      ["floor", "subject", "baseline"],
    ];
    for (let round = 0; round < HTTP_ROUNDS; round++) {
      for (const server of orders[round % orders.length]!) {
        const result = await load(targets[server], duration);
        if (server === "subject") subjectAnswered += result.answered;
        runs.push({ server, result });
      }
    }
    const mean = (server: Server) => {
      const mine = runs.filter((r) => r.server === server);
      return mine.reduce((sum, r) => sum + r.result.perSecond, 0) / mine.length;
    };
    return { subject: mean("subject"), baseline: mean("baseline"), floor: mean("floor"), subjectAnswered, runs };
  } finally {
    await hello.child.stop();
  }
}

async function startHello(): Promise<{ child: Child; url: string }> {
  const child = spawnChild("hello-server.ts");
  const { port } = await child.next("ready", 30_000);
  return { child, url: `http://${HOST}:${port}/` };
}

/** One GET with the answer's text (the floor routes send the sandbox's own answers back). */
export async function getText(url: string): Promise<string> {
  const { status, body } = await get(url);
  if (status !== 200) throw new Error(`GET ${url} answered ${status}`);
  return body;
}

/** The floor's figures: what a bare Hono route pays for the same request and answer, against the same baseline. */
export function floorDetails(run: Comparison) {
  return {
    floor: {
      what: "a bare Hono route on the baseline's server that reads the same query or JSON body and sends the sandbox's answer back",
      perSecond: run.floor,
      ratioToBaseline: run.floor / run.baseline,
      subjectToFloor: run.subject / run.floor,
    },
  };
}

