// zod, loaded the first time something is validated rather than at import: importing it was a fifth of the time
// `exchanger-sandbox start` takes to answer, and most starts validate nothing before their first request.

import { createRequire } from "node:module";
import type * as Zod from "zod";

const require = createRequire(import.meta.url);

/**
 * Returns a function that makes, on its first call, what `build` makes from zod's `z`, and gives the same thing on
 * every later call. zod is loaded synchronously (its CommonJS build) so that validation stays synchronous.
 */
export function withZod<T>(build: (z: typeof Zod.z) => T): () => T {
  let built: { value: T } | null = null;
  return () => (built ??= { value: build((require("zod") as typeof Zod).z) }).value;
}
