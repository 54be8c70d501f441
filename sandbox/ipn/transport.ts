// The one interface between the dispatcher and the network: a transport sends one POST and reports what became of it.

/** How much of the merchant's answer a delivery record keeps. */
export const IPN_BODY_EXCERPT_CHARS = 2048;
/**
 * How much of the merchant's answer is read. Answers up to this size are read to the end so the connection can be
 * reused; a larger one is cut here and its connection closed rather than drained.
 */
export const IPN_BODY_READ_LIMIT_BYTES = 64 * 1024;

export interface TransportResponse {
  status: number;
  /** At most IPN_BODY_EXCERPT_CHARS characters of the answer's body. */
  bodyExcerpt: string;
}

/**
 * One POST handed to a transport, with the callbacks through which the transport reports on it. The dispatcher's
 * delivery is this object itself, so a request waiting for a connection costs one object.
 */
export interface TransportRequest {
  /** Always http: or https:; the dispatcher has checked. */
  readonly url: URL;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The request leaves the transport's queue and goes on the wire: the moment the record's `sentAt` gives. */
  onSent(): void;
  /** The answer's status line has arrived, so a timeout can say how far the exchange got. */
  onStatus(status: number): void;
  /** Called once: with the answer, or with why there is none. Calls after the first are ignored. */
  onEnd(error: unknown, response: TransportResponse | null): void;
}

/** A request a transport has taken: how to stop it. */
export interface Sending {
  /**
   * Ends the request at once, queued or on the wire, and releases its connection; its onEnd gets `reason`. A no-op
   * once it has ended. A queued request that is cancelled is never sent.
   */
  cancel(reason: unknown): void;
}

/** Sends POSTs and reports each through its request's callbacks. Never follows redirects. */
export interface Transport {
  /** Sends `request` now, or once a connection to its origin is free. Never throws: a failure goes to onEnd. */
  send(request: TransportRequest): Sending;
  /** Closes every pooled connection; requests still under way end with an error. */
  close(): Promise<void>;
}

/** The first IPN_BODY_EXCERPT_CHARS characters of `text`, without leaving half of a surrogate pair at the end. */
export function cutExcerpt(text: string): string {
  if (text.length <= IPN_BODY_EXCERPT_CHARS) return text;
  const cut = text.slice(0, IPN_BODY_EXCERPT_CHARS);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}
