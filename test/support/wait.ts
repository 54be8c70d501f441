// Bounded waiting for tests: every wait names what it waits for and gives up with that name.

/**
 * How long a test waits for anything before it gives up. Far above what the work needs on a busy machine: it only
 * ever catches a hang, and is never a deadline the work has to beat.
 */
export const HANG_GUARD_MS = 15_000;

/** Resolves as `promise` does, or rejects after `ms` with a message naming what was awaited, so no wait can hang a test. */
export function within<T>(promise: Promise<T>, ms = HANG_GUARD_MS, what = "the awaited event"): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once `check()` holds, looking again every few milliseconds: for state that announces no event of its own,
 * such as what another server has done. Rejects naming `what` after `ms`, as a guard against a hang only.
 */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = HANG_GUARD_MS): Promise<void> {
  const giveUpAt = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > giveUpAt) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A streamed answer's text (server-sent events), read as it comes. */
export function streamText(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  return {
    /** Reads until `check` holds for the text read so far; resolves with that text. */
    async until(check: (text: string) => boolean, what: string): Promise<string> {
      const read = async () => {
        while (!check(text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended before ${what}; it sent: ${text}`);
          text += value;
        }
        return text;
      };
      return within(read(), HANG_GUARD_MS, what);
    },
    close: () => reader.cancel().catch(() => {}),
  };
}
