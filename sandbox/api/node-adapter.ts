// The node server's way into the merchant API: a request answered by the API's core straight from
// @hono/node-server's fetch, past Hono's router and context, and a body read from node's own request stream.

import type { HttpBindings } from "@hono/node-server";
import type { IncomingMessage } from "node:http";
import { getPath } from "hono/utils/url";
import { ApiError } from "../errors.js";
import type { ApiCall, ApiCore } from "./call.js";
import { DEFAULT_PARAM_LIMITS, readParams } from "./params.js";

/**
 * Answers a request under API_BASE_PATH as the Hono app would, through the same core. Returns null for what it
 * leaves to the app: a body without a declared length (which the app's bodyLimit counts as it arrives), verbs the
 * API does not take a body with, and a request that did not come from node's server. Why it exists: see
 * docs/performance.md.
 */
export function createNodeAdapter(core: ApiCore): (request: Request, env: unknown) => Response | Promise<Response> | null {
  return (request, env) => {
    const { method } = request;
    const incoming = (env as Partial<HttpBindings> | undefined)?.incoming;
    if (method === "GET") return core.answer(nodeCall(request, incoming ?? null, false));
    if ((method !== "POST" && method !== "PUT") || incoming === undefined) return null;
    const length = request.headers.get("content-length");
    if (length === null || request.headers.get("transfer-encoding") !== null) return null;
    if (Number.parseInt(length || "0", 10) > core.maxBodyBytes) return core.refuseTooLarge(nodeCall(request, incoming, false));
    return core.answer(nodeCall(request, incoming, true));
  };
}

/**
 * A call from the node server. Headers are read from node's own request when there is one (as Headers.get reads
 * them: one value, or the values joined by ", "); with `readIncoming`, a body of declared length is too.
 */
export function nodeCall(request: Request, incoming: IncomingMessage | null, readIncoming: boolean): ApiCall {
  return {
    method: request.method,
    path: getPath(request),
    url: request.url,
    header:
      incoming === null
        ? (name) => request.headers.get(name) ?? undefined
        : (name) => {
            const value = incoming.headers[name.toLowerCase()];
            return typeof value === "string" ? value : value === undefined ? undefined : (request.headers.get(name) ?? undefined);
          },
    readBody: () => readParams(request, DEFAULT_PARAM_LIMITS, readIncoming && incoming !== null ? () => readStreamText(incoming) : undefined),
  };
}

const utf8 = new TextDecoder();

/** The whole of a request's body from node's request stream, decoded as `Request.text()` does (UTF-8, a leading BOM dropped). */
function readStreamText(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.once("end", () => resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    // A client that hangs up mid-body gets (to no one) the API's error and one log line, not a 500 and a stack.
    const cut = () => reject(new ApiError("malformedBody", "The body ended before its declared Content-Length: the client closed the connection"));
    incoming.once("error", cut);
    incoming.once("close", () => {
      if (!incoming.complete) cut();
    });
  });
}
