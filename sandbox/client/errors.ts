// The one error the control client throws: the sandbox could not be reached, or answered with an error.

export class ControlClientError extends Error {
  override name = "ControlClientError";

  constructor(
    message: string,
    /** The HTTP status the sandbox answered with; null when it was not reached. */
    readonly status: number | null,
    /** The error's `type` from the control API's envelope (`not_found`, `bad_request`, …), or "api" for an API error. */
    readonly type: string | null = null,
  ) {
    super(message);
  }

  /** The request never got an answer: refused, DNS, TLS, a timeout. */
  static network(method: string, url: string, error: unknown): ControlClientError {
    const err = error as Error & { cause?: Error };
    const reason = err.name === "AbortError" || err.name === "TimeoutError" ? "no answer in time" : (err.cause?.message ?? err.message);
    return new ControlClientError(`cannot reach the sandbox at ${new URL(url).origin} (${method} ${new URL(url).pathname}): ${reason}`, null);
  }

  /** The sandbox answered with a non-2xx status; its message is taken from the control API's error envelope. */
  static async fromResponse(method: string, url: string, res: Response): Promise<ControlClientError> {
    const json = (await res.json().catch(() => null)) as { error?: { type?: string; message?: string } } | null;
    const message = json?.error?.message ?? "no message";
    return new ControlClientError(`the sandbox answered ${res.status} to ${method} ${new URL(url).pathname}: ${message}`, res.status, json?.error?.type ?? null);
  }
}
