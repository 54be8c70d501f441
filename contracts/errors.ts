// Why a run could not be played at all: the setup, not the merchant's IPN handling, is at fault.

/** The kit could not set up a run or a contract (a checkout that fails, a sandbox that stops answering). */
export class SetupError extends Error {
  override name = "SetupError";
}

/** A URL the kit was given cannot be reached: nothing is judged, and verify exits 2 naming it. */
export class UnreachableUrl extends SetupError {
  override name = "UnreachableUrl";

  constructor(
    /** The option that gave it, e.g. "--ipn-url". */
    readonly flag: string,
    readonly url: string,
    /** The network error, e.g. "connect ECONNREFUSED 127.0.0.1:9". */
    readonly reason: string,
  ) {
    super(`cannot reach ${flag} ${url}: ${reason}`);
  }
}
