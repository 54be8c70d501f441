// Every contract group in the order the runner plays them, and every check as data (for --list and the docs table).

import type { CheckSpec } from "../model.js";
import type { ContractModule } from "../context.js";
import { callback } from "./callback.js";
import { encoding } from "./encoding.js";
import { finality } from "./finality.js";
import { idempotency } from "./idempotency.js";
import { ordering } from "./ordering.js";
import { reconcile } from "./reconcile.js";
import { replay } from "./replay.js";
import { runValid, signature } from "./signature.js";
import { timeliness } from "./timeliness.js";

/** After signature/valid (always played first: every judgment builds on it); timeliness last, to see every IPN. */
export const CONTRACTS: readonly ContractModule[] = [signature, encoding, idempotency, ordering, finality, callback, replay, reconcile, timeliness];

export { runValid };

/** Every check, in the order a report lists them. */
export const CHECKS: readonly CheckSpec[] = CONTRACTS.flatMap((contract) => contract.checks);
