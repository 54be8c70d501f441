// The merchant as the kit sees it: its checkout (to get an order into the sandbox), its state view, its return page.

import { ask, readPath, SetupError, type HttpAnswer, type SandboxClient, type SandboxOrder } from "./clients.js";

export interface MerchantOptions {
  ipnUrl: string;
  ipnSecret: string;
  checkoutUrl: string | null;
  /** JSON body the kit POSTs to the checkout (default {}). */
  checkoutBody: unknown;
  /** `GET` template with {orderId} and {orderUID}. */
  stateUrl: string | null;
  /** Dot path of the status inside the state document (default "status"). */
  stateField: string;
  callbackUrl: string | null;
  timeoutMs: number;
}

/** Keys of a state document that may change on their own (timestamps), ignored when comparing two states. */
const VOLATILE_KEY = /(^|_)(at|time|timestamp|date|updated|modified|seen|received)$|(At|Time|Date)$/;

export interface MerchantState {
  document: unknown;
  status: string | null;
}

export function merchant(options: MerchantOptions, sandbox: SandboxClient) {
  return {
    canCheckout: options.checkoutUrl !== null,
    canReadState: options.stateUrl !== null && options.checkoutUrl !== null,

    /** POSTs the checkout and finds the order the merchant created in the sandbox. */
    async checkout(): Promise<SandboxOrder> {
      if (!options.checkoutUrl) throw new SetupError("no --checkout-url");
      const before = Math.max(0, ...(await sandbox.orders()).map((o) => o.uid));
      const answer = await ask(options.checkoutUrl, {
        method: "POST",
        body: JSON.stringify(options.checkoutBody),
        headers: { "content-type": "application/json" },
        timeoutMs: options.timeoutMs,
      });
      if (answer.status === null || answer.status >= 400) {
        throw new SetupError(`POST ${options.checkoutUrl} ${answer.status === null ? `failed: ${answer.error}` : `answered ${answer.status}: ${answer.body.slice(0, 200)}`}`);
      }
      const deadline = Date.now() + 10_000;
      for (;;) {
        const fresh = (await sandbox.orders()).filter((o) => o.uid > before);
        const mine = fresh.find((o) => o.ipnUrl === options.ipnUrl) ?? fresh[0];
        if (mine) {
          if (mine.ipnUrl === null) throw new SetupError(`your checkout created order ${mine.uid} without an ipnUrl; pass ipnUrl and ipnSecret to order/create`);
          return sandbox.order(mine.uid);
        }
        if (Date.now() > deadline) {
          throw new SetupError(`POST ${options.checkoutUrl} answered ${answer.status}, but no order appeared in the sandbox at ${sandbox.base} within 10 s; is your backend pointed at ${sandbox.base}/service/api/v1/?`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },

    /** The merchant's view of an order, or an error message. */
    async state(order: SandboxOrder): Promise<MerchantState | { error: string }> {
      if (!options.stateUrl) return { error: "no --state-url" };
      const url = options.stateUrl.replaceAll("{orderId}", encodeURIComponent(order._id)).replaceAll("{orderUID}", String(order.uid));
      const answer = await ask(url, { method: "GET", timeoutMs: options.timeoutMs });
      if (answer.status !== 200) return { error: `GET ${url} ${answer.status === null ? `failed: ${answer.error}` : `answered ${answer.status}`}` };
      let document: unknown;
      try {
        document = JSON.parse(answer.body);
      } catch {
        return { error: `GET ${url} did not answer JSON: ${answer.body.slice(0, 120)}` };
      }
      const status = readPath(document, options.stateField);
      return { document, status: status === undefined || status === null ? null : String(status) };
    },

    /** GETs the return page with `status` appended as the sandbox's pages do. */
    async returnPage(base: string, status: string): Promise<HttpAnswer & { url: string }> {
      const url = withStatus(base, status);
      return { url, ...(await ask(url, { method: "GET", timeoutMs: options.timeoutMs })) };
    },
  };
}

export type Merchant = ReturnType<typeof merchant>;

function withStatus(base: string, status: string): string {
  const [beforeHash, hash] = base.split("#", 2) as [string, string | undefined];
  const joined = `${beforeHash}${beforeHash.includes("?") ? "&" : "?"}status=${encodeURIComponent(status)}`;
  return hash === undefined ? joined : `${joined}#${hash}`;
}

/** The keys whose values differ between two state documents, volatile keys (timestamps) ignored. */
export function stateDifferences(a: unknown, b: unknown, path = ""): string[] {
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [path || "(document)"];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const out: string[] = [];
  for (const key of keys) {
    if (VOLATILE_KEY.test(key)) continue;
    out.push(...stateDifferences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], path ? `${path}.${key}` : key));
  }
  return out;
}
