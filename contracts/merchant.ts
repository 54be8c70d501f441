// The merchant as the kit sees it: its checkout (to get an order into the sandbox), its state view, its return page.

import { CheckoutError, type ControlClient, type ControlOrderDetail } from "../sandbox/index.js";
import { SetupError } from "./errors.js";
import { ask, readPath, type HttpAnswer } from "./http.js";
import type { StateRead } from "./state.js";

export interface MerchantOptions {
  ipnUrl: string;
  checkoutUrl: string | null;
  /** JSON body the kit POSTs to the checkout (default {}). */
  checkoutBody: unknown;
  /** `GET` template with {orderId} and {orderUID}. */
  stateUrl: string | null;
  /** Dot path of the status inside the state document (default "status"). */
  stateField: string;
  /** How long the checkout, the state view and the return page may take (not the IPN timeout: they are not IPNs). */
  timeoutMs: number;
}

/** How long an order may take to appear in the sandbox once the checkout answered. */
const CHECKOUT_ORDER_TIMEOUT_MS = 10_000;

export function merchant(options: MerchantOptions, client: ControlClient) {
  return {
    canCheckout: options.checkoutUrl !== null,
    canReadState: options.stateUrl !== null && options.checkoutUrl !== null,

    /** POSTs the checkout and waits, on the sandbox's event stream, for the order it creates with our ipnUrl. */
    async checkout(): Promise<ControlOrderDetail> {
      if (!options.checkoutUrl) throw new SetupError("no --checkout-url");
      try {
        const { order } = await client.checkout({
          url: options.checkoutUrl,
          body: options.checkoutBody,
          answerTimeoutMs: options.timeoutMs,
          orderTimeoutMs: CHECKOUT_ORDER_TIMEOUT_MS,
          // Another client may create orders on a shared sandbox meanwhile: ours is the one with our ipnUrl.
          ipnUrl: options.ipnUrl,
        });
        return order;
      } catch (error) {
        if (!(error instanceof CheckoutError)) throw error;
        if (error.kind === "otherIpnUrl") {
          throw new SetupError(`your checkout created order ${error.order!.uid} with ipnUrl ${error.order!.ipnUrl}, but --ipn-url is ${options.ipnUrl}; give verify the ipnUrl your backend sends`);
        }
        throw new SetupError(error.message);
      }
    },

    /** The merchant's view of an order, or why it could not be read. */
    async state(order: { _id: string; uid: number }): Promise<StateRead> {
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
