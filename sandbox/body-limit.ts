// A body-size limit for Hono routes that costs nothing for requests without a body.

import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/**
 * Refuses a body over `maxBytes` through `onError`. hono's bodyLimit starts by reading `c.req.raw.body`, which makes
 * @hono/node-server build a full web Request and body stream for every call, a GET's too: that alone cost more than
 * the rest of an order/get. So a GET or HEAD passes untouched, a declared Content-Length is checked as bodyLimit
 * would check it, and only a chunked body is left to bodyLimit to count.
 */
export function cheapBodyLimit(maxBytes: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const limit = bodyLimit({ maxSize: maxBytes, onError });
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined) {
      return Number.parseInt(length || "0", 10) > maxBytes ? onError(c) : next();
    }
    return limit(c, next);
  };
}
