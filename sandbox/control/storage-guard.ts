// While the data folder cannot be written, /_sandbox/* refuses changes with 409 (reads go on), never a 5xx.

import type { Context, MiddlewareHandler } from "hono";
import type { Store } from "../store/index.js";
import { CONTROL_BASE_PATH } from "./index.js";

/** The control API's answer to a change the store cannot take. */
export function storageRefusal(c: Context, reason: string): Response {
  c.header("Cache-Control", "no-store");
  const message =
    `The sandbox cannot write its data folder (${reason}), so it takes no changes until it can; what it holds is kept ` +
    "and can be read. Free some space (or fix the folder); the sandbox notices by itself";
  return c.json({ error: { type: "storage_unavailable", message } }, 409);
}

/** Refuses every change under /_sandbox while `store` cannot write; turning maintenance on or off is no change to it. */
export function storageGuard(store: Store): MiddlewareHandler {
  return async (c, next) => {
    const reason = store.unavailable();
    if (reason === null || c.req.method === "GET" || c.req.method === "HEAD" || c.req.path === `${CONTROL_BASE_PATH}/maintenance`) return next();
    return storageRefusal(c, reason);
  };
}
