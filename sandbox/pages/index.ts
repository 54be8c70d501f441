// The client-facing pages: /{lang}/payment/{uid}/{secret}/ and /{lang}/order/{uid}/{secret}/, their live event
// streams, the "I paid" form and their static files. A thin layer over the order service and the store.

import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { Clock } from "../clock/index.js";
import { MoveRefused, type OrderService } from "../orders/service.js";
import type { Order } from "../orders/types.js";
import type { Store } from "../store/index.js";
import { ICON_SVG, PAGES_CSS, PAGES_JS } from "./assets.js";
import { isPageLang, type PageLang } from "./i18n.js";
import { PAGE_ASSETS, PAGE_KINDS, pagePath, type PageKind } from "./paths.js";
import { qrSvg } from "./qr.js";
import { liveState } from "./state.js";
import { NotFoundPage, OrderPage, PaymentPage, toDocument } from "./views.js";

export { DICTIONARIES, PAGE_LANGS, isPageLang, type Dictionary, type PageLang } from "./i18n.js";
export { PAGE_ASSETS, PAGE_KINDS, pagePath, type PageKind } from "./paths.js";
export { liveState, type LiveState } from "./state.js";
export { returnToSiteUrl } from "./return-url.js";

/**
 * Only the pages' own script and stylesheet run; the QR code is inline SVG markup, which needs no exception.
 * The form may only post back here; nothing may frame the page (it holds the order's secret in its URL).
 */
export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Headers on every page and page stream: the URL carries the order's secret, so it must not leak or be cached. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": PAGE_CSP,
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
};

export interface PagesDeps {
  orders: OrderService;
  store: Store;
  clock: Clock;
}

/** How often an idle event stream sends a comment-free ping, so proxies keep it open. */
const PING_MS = 15_000;

/** Builds the pages' app; mount it at the root. */
export function createPages(deps: PagesDeps): Hono {
  const { orders, store, clock } = deps;
  const app = new Hono();

  const asset = (body: string, type: string) => (c: Context) =>
    c.body(body, 200, { "Content-Type": type, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff" });
  app.get(PAGE_ASSETS.stylesheet, asset(PAGES_CSS, "text/css; charset=utf-8"));
  app.get(PAGE_ASSETS.script, asset(PAGES_JS, "text/javascript; charset=utf-8"));
  app.get(PAGE_ASSETS.icon, asset(ICON_SVG, "image/svg+xml"));

  /** The language and order a page URL names; `order` is undefined for an unknown uid or a wrong secret. */
  const resolve = (c: Context): { lang: PageLang; order: Order | undefined } => {
    const lang = c.req.param("lang") ?? "";
    const uid = c.req.param("uid") ?? "";
    const secret = c.req.param("secret") ?? "";
    if (!isPageLang(lang)) return { lang: "en", order: undefined };
    if (!/^[1-9]\d{0,15}$/.test(uid)) return { lang, order: undefined };
    // find() compares the secret in constant time and answers a wrong secret exactly as an unknown uid.
    return { lang, order: orders.find(Number(uid), secret) };
  };

  const notFound = async (c: Context, lang: PageLang) => {
    setPageHeaders(c);
    return c.html(await toDocument(NotFoundPage({ lang })), 404);
  };

  const page = (kind: PageKind) => async (c: Context) => {
    const { lang, order } = resolve(c);
    if (!order) return notFound(c, lang);
    setPageHeaders(c);
    const self = pagePath(kind, lang, order.uid, order.secret);
    const common = { order, lang, state: liveState(order, lang), events: `${self}events` };
    const element =
      kind === "payment"
        ? PaymentPage({
            ...common,
            qrSvg: await qrSvg(order.depositAddress),
            leftMs: order.expiresAt - clock.now(),
            clockSpeed: clock.speed,
            payAction: `${self}pay`,
          })
        : OrderPage(common);
    return c.html(await toDocument(element));
  };

  const events = async (c: Context) => {
    const { lang, order } = resolve(c);
    if (!order) return notFound(c, lang);
    setPageHeaders(c);
    const { uid, _id } = order;
    return streamSSE(c, async (stream) => {
      // Only the newest state matters: a burst of moves collapses into one event carrying the latest.
      let latest: Order | undefined;
      let gone = false;
      let wake: (() => void) | null = null;
      const unsubscribe = store.subscribe((change) => {
        if (change.kind === "reset") gone = true;
        else if (change.kind === "order" && change.order.uid === uid && change.order._id === _id) latest = change.order;
        else return;
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      // Read after subscribing, so that no change can fall between the page's render and the stream.
      latest = store.getOrder(uid);
      if (latest?._id !== _id) gone = true;
      while (!stream.aborted) {
        if (gone) {
          await stream.writeSSE({ event: "gone", data: "{}" });
          break;
        }
        if (latest) {
          const state = liveState(latest, lang);
          latest = undefined;
          await stream.writeSSE({ event: "state", data: JSON.stringify(state) });
          continue;
        }
        let idle: ReturnType<typeof setTimeout> | undefined;
        const woken = await new Promise<boolean>((resolve) => {
          wake = () => resolve(true);
          idle = setTimeout(() => resolve(false), PING_MS);
          idle.unref();
        });
        clearTimeout(idle);
        wake = null;
        if (!woken && !stream.aborted) await stream.writeSSE({ event: "ping", data: "{}" });
      }
      unsubscribe();
    });
  };

  /** "I paid": the same state-machine path as the control API's pay, then back to the page (303, POST/redirect/GET). */
  const pay = async (c: Context) => {
    const { lang, order } = resolve(c);
    if (!order) return notFound(c, lang);
    const current = liveState(order, lang);
    if (current.canPay) {
      try {
        orders.pay(order.uid, "page:pay");
      } catch (error) {
        // A second press, or a move that came first: the page will show the status as it now is.
        if (!(error instanceof MoveRefused)) throw error;
      }
    }
    setPageHeaders(c);
    return c.redirect(pagePath("payment", lang, order.uid, order.secret), 303);
  };

  // Plain segments only: a pattern such as :kind{payment|order} beside them makes Hono fall back from its one-regexp
  // router to the trie, which slowed routing for every request, the API's included.
  for (const kind of PAGE_KINDS) {
    const path = `/:lang/${kind}/:uid/:secret`;
    app.get(path, page(kind));
    app.get(`${path}/`, page(kind));
    app.get(`${path}/events`, events);
  }
  app.post("/:lang/payment/:uid/:secret/pay", pay);
  return app;
}

function setPageHeaders(c: Context): void {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
}
