// Refuses requests whose Host names the sandbox by a name it was not given: the mark of DNS rebinding, where a web
// page points its own name at 127.0.0.1 to read and drive a sandbox on the visitor's machine.

import { isIP } from "node:net";

/**
 * The host names of the URLs clients reach the sandbox by (`--public-url`), lower-case, without port or trailing
 * dot. Throws a message saying what is expected for a URL that is not absolute http(s).
 */
export function publicUrlHost(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`a public URL is an absolute http or https URL such as http://qa-host:7070, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`a public URL is an http or https URL, got ${JSON.stringify(url)}`);
  }
  return parsed.hostname.toLowerCase().replace(/\.$/, "");
}

/** Hosts a page on the web cannot rebind: IP addresses, and localhost with its subdomains (browsers keep those local). */
function cannotBeRebound(hostname: string): boolean {
  const bare = hostname.startsWith("[") ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0 || hostname === "localhost" || hostname.endsWith(".localhost");
}

/** The host name of a Host header (`name:port`, `[::1]:port`) as a URL parser reads it (`127.1` is `127.0.0.1`), or null. */
function hostnameOf(header: string): string | null {
  try {
    return new URL(`http://${header}/`).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return null;
  }
}

export interface HostCheck {
  /** True when a request with this Host header may be answered (one without it is no browser's: node refuses it anyway). */
  allows(header: string | undefined): boolean;
  /** The 421 answer to a refused Host. */
  refuse(header: string): Response;
  /** Allows one more name, e.g. the host name the server was bound by. */
  allowName(name: string): void;
}

/** Checks Host headers against the names the sandbox may be reached by: IP addresses, localhost, and `publicNames`. */
export function createHostCheck(publicNames: readonly string[]): HostCheck {
  const names = new Set(publicNames);
  // Headers already judged: a client sends the same one on every request.
  const judged = new Map<string, boolean>();
  return {
    allows(header) {
      if (header === undefined || header === "") return true;
      let verdict = judged.get(header);
      if (verdict === undefined) {
        const hostname = hostnameOf(header);
        verdict = hostname !== null && (cannotBeRebound(hostname) || names.has(hostname));
        if (judged.size >= 64) judged.clear();
        judged.set(header, verdict);
      }
      return verdict;
    },
    allowName(name) {
      names.add(name.toLowerCase().replace(/\.$/, ""));
      judged.clear();
    },
    refuse(header) {
      const known = names.size > 0 ? `, ${[...names].join(", ")}` : "";
      const message =
        `This sandbox does not answer to the host ${JSON.stringify(header)}: only to IP addresses, localhost${known}. ` +
        "If you reach it by that name, start it with --public-url http://NAME:PORT (createSandbox: publicUrls); a web page " +
        "that points its own name at this machine (DNS rebinding) is refused so";
      return new Response(JSON.stringify({ error: { type: "misdirected", message } }), {
        status: 421,
        headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Connection: "close" },
      });
    },
  };
}
