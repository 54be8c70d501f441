// The kit's requests to the merchant's own endpoints: one request, never throwing, and a dot-path reader for JSON.

export interface HttpAnswer {
  /** The HTTP status, or null when no answer came. */
  status: number | null;
  body: string;
  /** Why no answer came (refused, reset, no answer within the timeout); null when one came. */
  error: string | null;
  /** No answer came within the timeout (as opposed to a broken connection). */
  timedOut: boolean;
  latencyMs: number;
}

/** One request to the merchant: a refused connection or a timeout is an answer too. */
export async function ask(url: string, init: RequestInit & { timeoutMs: number }): Promise<HttpAnswer> {
  const started = performance.now();
  const { timeoutMs, ...rest } = init;
  const latency = () => Math.round(performance.now() - started);
  try {
    const res = await fetch(url, { ...rest, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 2048);
    return { status: res.status, body, error: null, timedOut: false, latencyMs: latency() };
  } catch (error) {
    const err = error as Error & { cause?: Error };
    if (err.name === "TimeoutError") return { status: null, body: "", error: `no answer within ${timeoutMs} ms`, timedOut: true, latencyMs: latency() };
    return { status: null, body: "", error: networkError(err), timedOut: false, latencyMs: latency() };
  }
}

/** The network error under fetch's "fetch failed", e.g. "connect ECONNREFUSED 127.0.0.1:9" or "other side closed". */
export function networkError(error: Error & { cause?: Error & { code?: string } }): string {
  const cause = error.cause;
  if (!cause) return error.message;
  return cause.message || cause.code || error.message;
}

/** Reads a field from a JSON document by a dot path ("status", "order.state"). */
export function readPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
