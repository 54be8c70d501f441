// Before judging anything, the kit reaches every URL it was given: a merchant that is not there is not blamed for bugs.

import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";
import { UnreachableUrl } from "./errors.js";

export interface Target {
  /** The option that gave the URL, e.g. "--ipn-url", named in the error. */
  flag: string;
  url: string;
  /** The URL as the user gave it, when `url` is filled in from a template. */
  given?: string;
}

/**
 * Opens a connection to each URL's host and port (with the TLS handshake for https) and closes it again; sends
 * no request, so nothing on the merchant's side happens. Throws UnreachableUrl for the first that fails.
 */
export async function reachAll(targets: readonly Target[], timeoutMs: number): Promise<void> {
  // One connection per origin; the error names the first option that gave it.
  const origins = new Map<string, Target>();
  for (const target of targets) {
    const origin = new URL(target.url).origin;
    if (!origins.has(origin)) origins.set(origin, target);
  }
  const failures = await Promise.all([...origins.values()].map(async (target) => ({ target, error: await reach(new URL(target.url), timeoutMs) })));
  const failed = failures.find((f) => f.error !== null);
  if (failed) throw new UnreachableUrl(failed.target.flag, failed.target.given ?? failed.target.url, failed.error!);
}

/** Null when a connection could be made, else the network error. */
function reach(url: URL, timeoutMs: number): Promise<string | null> {
  const secure = url.protocol === "https:";
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(url.port || (secure ? 443 : 80));
  return new Promise((resolve) => {
    let socket: Socket;
    const done = (error: string | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(error);
    };
    const timer = setTimeout(() => done(`no connection within ${timeoutMs} ms`), timeoutMs);
    socket = secure
      ? connectTls({ host, port, servername: /^[\d.]+$|:/.test(host) ? undefined : host, ALPNProtocols: ["http/1.1"] }, () => done(null))
      : connect({ host, port }, () => done(null));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.message || error.code || String(error)));
  });
}
