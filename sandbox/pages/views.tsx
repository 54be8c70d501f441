// The payment page, the order page and the 404 page as Hono JSX: server-rendered, complete without any script.

import type { Child } from "hono/jsx";
import type { HtmlEscapedString } from "hono/utils/html";
import { raw } from "hono/html";
import type { Order, OrderValue } from "../orders/types.js";
import { maskRequisite } from "../orders/view.js";
import { DICTIONARIES, PAGE_LANGS, formatTime, formatTimeLeft, type Dictionary, type PageLang } from "./i18n.js";
import { PAGE_ASSETS, pagePath, type PageKind } from "./paths.js";
import type { LiveState } from "./state.js";

/** Renders a page element to a complete HTML document. */
export async function toDocument(page: HtmlEscapedString | Promise<HtmlEscapedString>): Promise<string> {
  return "<!doctype html>" + (await page);
}

interface LayoutProps {
  lang: PageLang;
  title: string;
  /** The same page in each language, for the language switch; null hides the switch. */
  languages: Record<PageLang, string> | null;
  /** The order's event stream; when set, the page loads its script. */
  events?: string;
  status?: string;
  children?: Child;
}

function Layout(props: LayoutProps) {
  const words = DICTIONARIES[props.lang];
  const languages = props.languages;
  return (
    <html lang={props.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <link rel="icon" type="image/svg+xml" href={PAGE_ASSETS.icon} />
        <link rel="stylesheet" href={PAGE_ASSETS.stylesheet} />
        {props.events ? <script src={PAGE_ASSETS.script} defer></script> : null}
      </head>
      <body>
        <header class="bar">
          <span class="note">{words.sandboxNote}</span>
          {languages ? (
            <nav aria-label={words.language}>
              {PAGE_LANGS.map((lang) =>
                lang === props.lang ? (
                  <strong>{DICTIONARIES[lang].langName}</strong>
                ) : (
                  <a href={languages[lang]} hreflang={lang} lang={lang}>
                    {DICTIONARIES[lang].langName}
                  </a>
                ),
              )}
            </nav>
          ) : null}
        </header>
        <main data-events={props.events} data-status={props.status}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

function StatusBadge({ state }: { state: LiveState }) {
  return (
    <span id="status" class={`status tone-${state.tone}`} data-status={state.status}>
      {state.label}
    </span>
  );
}

function Timeline({ state, words }: { state: LiveState; words: Dictionary }) {
  return (
    <section class="card">
      <h2>{words.history}</h2>
      <ol id="timeline" class="timeline">
        {state.history.map((entry) => (
          <li data-status={entry.status}>
            <span>{entry.label}</span>
            <time datetime={new Date(entry.at).toISOString()}>{entry.time}</time>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** A list of requisites; `masked` hides all but the last characters (hideOutData). */
function Requisites({ title, values, masked, words }: { title: string; values: OrderValue[]; masked: boolean; words: Dictionary }) {
  if (values.length === 0) return null;
  return (
    <section class="requisites" data-masked={masked ? "true" : "false"}>
      <h2>
        {title}
        {masked ? <span class="muted"> ({words.hiddenByMerchant})</span> : null}
      </h2>
      <dl class="facts">
        {values.map((v) => (
          <>
            <dt>{v.name}</dt>
            <dd>{masked ? maskRequisite(v.value) : v.value}</dd>
          </>
        ))}
      </dl>
    </section>
  );
}

function ReturnLink({ order, state, words }: { order: Order; state: LiveState; words: Dictionary }) {
  if (order.clientCallbackUrl === null) return null;
  return (
    <p>
      <a id="return" class="button" href={state.returnUrl ?? undefined} hidden={state.returnUrl === null}>
        {words.returnToSite}
      </a>
    </p>
  );
}

export interface PageProps {
  order: Order;
  lang: PageLang;
  state: LiveState;
  /** Where the page's event stream is. */
  events: string;
}

function languagesOf(kind: PageKind, order: Order): Record<PageLang, string> {
  return { en: pagePath(kind, "en", order.uid, order.secret), ru: pagePath(kind, "ru", order.uid, order.secret) };
}

export interface PaymentPageProps extends PageProps {
  /** The deposit address's QR code, an SVG string made by the server. */
  qrSvg: string;
  /** Sandbox ms left before the order expires, at render time. */
  leftMs: number;
  /** How fast sandbox time runs against the wall clock (0: only on request). */
  clockSpeed: number;
  /** Where the "I paid" form posts. */
  payAction: string;
}

export function PaymentPage(props: PaymentPageProps) {
  const { order, lang, state } = props;
  const words = DICTIONARIES[lang];
  const { from, to } = order.route;
  return (
    <Layout lang={lang} title={words.paymentTitle(order.uid)} languages={languagesOf("payment", order)} events={props.events} status={state.status}>
      <section class="card">
        <h1>{words.paymentTitle(order.uid)}</h1>
        <p>
          {words.status}: <StatusBadge state={state} />
        </p>
        <div class="pay">
          <div>
            <p>
              {words.sendExactly}
              <br />
              <span class="amount" id="send-amount">
                {order.inAmount} {from.symbol}
              </span>{" "}
              <span class="muted">{from.name}</span>
            </p>
            <p>{words.toAddress}</p>
            <div class="address">
              <code id="address">{order.depositAddress}</code>
              <button type="button" id="copy" class="secondary" data-copied={words.copied} hidden>
                {words.copy}
              </button>
            </div>
          </div>
          <div class="qr" role="img" aria-label={words.qrLabel}>
            {raw(props.qrSvg)}
          </div>
        </div>
        <div id="unpaid" hidden={!state.unpaid}>
          <p>
            {words.timeLeft}:{" "}
            <span
              id="time-left"
              class="countdown"
              data-left-ms={String(Math.max(0, props.leftMs))}
              data-speed={String(props.clockSpeed)}
              data-expired={words.expired}
            >
              {props.leftMs > 0 ? formatTimeLeft(props.leftMs) : words.expired}
            </span>{" "}
            <span class="muted">({words.until(formatTime(order.expiresAt))})</span>
          </p>
          {order.route.manual ? (
            <form id="pay-form" method="post" action={props.payAction} hidden={!state.canPay}>
              <p class="muted">{words.manualHint}</p>
              <button type="submit" id="i-paid">
                {words.iPaid}
              </button>
            </form>
          ) : null}
        </div>
      </section>
      <section class="card">
        <p>
          {words.youReceive}
          <br />
          <span class="amount" id="receive-amount">
            {order.outAmount} {to.symbol}
          </span>{" "}
          <span class="muted">{to.name}</span>
        </p>
        <Requisites title={words.recipientDetails} values={order.toValues} masked={order.hideOutData} words={words} />
      </section>
      <Timeline state={state} words={words} />
      <ReturnLink order={order} state={state} words={words} />
      <p class="muted">
        <a href={pagePath("order", lang, order.uid, order.secret)}>{words.orderPageLink}</a>
      </p>
    </Layout>
  );
}

export function OrderPage(props: PageProps) {
  const { order, lang, state } = props;
  const words = DICTIONARIES[lang];
  const { from, to } = order.route;
  return (
    <Layout lang={lang} title={words.orderTitle(order.uid)} languages={languagesOf("order", order)} events={props.events} status={state.status}>
      <section class="card">
        <h1>{words.orderTitle(order.uid)}</h1>
        <dl class="facts">
          <dt>{words.status}</dt>
          <dd>
            <StatusBadge state={state} />
          </dd>
          <dt>{words.exchange}</dt>
          <dd id="route">
            {from.name} ({from.symbol}) → {to.name} ({to.symbol})
          </dd>
          <dt>{words.rate}</dt>
          <dd>
            1 {from.symbol} = {order.rate} {to.symbol}
          </dd>
          <dt>{words.youSend}</dt>
          <dd id="send-amount">
            {order.inAmount} {from.symbol}
          </dd>
          <dt>{words.youReceive}</dt>
          <dd id="receive-amount">
            {order.outAmount} {to.symbol}
          </dd>
          <dt>{words.created}</dt>
          <dd>{formatTime(order.createdAt)}</dd>
        </dl>
        <p id="unpaid" hidden={!state.unpaid}>
          <a href={pagePath("payment", lang, order.uid, order.secret)}>{words.paymentPageLink}</a>
        </p>
      </section>
      <section class="card">
        <Requisites title={words.senderDetails} values={order.fromValues} masked={false} words={words} />
        <Requisites title={words.recipientDetails} values={order.toValues} masked={order.hideOutData} words={words} />
        <Requisites title={words.contactDetails} values={order.routeValues} masked={false} words={words} />
      </section>
      <Timeline state={state} words={words} />
      <ReturnLink order={order} state={state} words={words} />
    </Layout>
  );
}

/** The one answer for an unknown uid, a wrong secret and an unknown language alike. */
export function NotFoundPage({ lang }: { lang: PageLang }) {
  const words = DICTIONARIES[lang];
  return (
    <Layout lang={lang} title={words.notFoundTitle} languages={null}>
      <section class="card">
        <h1>{words.notFoundTitle}</h1>
        <p>{words.notFoundText}</p>
      </section>
    </Layout>
  );
}
