// One call to the merchant API as its core sees it, whichever way it came in (Hono, or the node server directly).

import type { Params } from "./params.js";

export interface ApiCall {
  method: string;
  /** The path as Hono's router sees it (getPath). */
  path: string;
  url: string;
  /** A header's value: one value, or the values joined by ", " as Headers.get gives them. */
  header(name: string): string | undefined;
  readBody(): Promise<{ params: Params; rawBody: string | null }>;
}

/** The one core every way in calls. */
export interface ApiCore {
  /** Answers a call under API_BASE_PATH; not async, so that a GET is answered in the same turn. */
  answer(call: ApiCall): Response | Promise<Response>;
  /** The API's error for a body over `maxBodyBytes`, asking the client to close the connection. */
  refuseTooLarge(call: ApiCall): Response;
  /** Most bytes in one request body. */
  maxBodyBytes: number;
}
