// The payment and order pages, their live stream, the "I paid" form and the dashboard, through app.request.

import { readDoc } from "./support/docs.js";
import { streamText } from "./support/wait.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  createClock,
  createSandbox,
  exampleCreateParams,
  FAULTS,
  STATUSES,
  type Catalog,
  type Route,
  type Sandbox,
} from "../sandbox/index.js";
import { catalogWithFreeText, FREE_TEXT_FIELD, SCRIPT } from "./support/fixtures.js";
import { DICTIONARIES, PAGE_CSP, PAGE_LANGS, liveState, pagePath, returnToSiteUrl } from "../sandbox/pages/index.js";



let sandbox: Sandbox;
afterEach(async () => {
  await sandbox?.close();
});

function start(catalog: Catalog = catalogWithFreeText("Note <b>bold</b>"), options: { clock?: ReturnType<typeof createClock> } = {}): Sandbox {
  sandbox = createSandbox({ catalog, ...options });
  return sandbox;
}

function route(from: string, to: string): Route {
  const found = sandbox.catalog.routes.find((r) => r.from.xml === from && r.to.xml === to);
  if (!found) throw new Error(`no ${from} → ${to} route`);
  return found;
}

async function createOrder(from = "CARDUAH", to = "USDTTRC20", extra: Record<string, unknown> = {}): Promise<{ uid: number; secret: string }> {
  const params = exampleCreateParams(route(from, to), extra);
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  const json = (await res.json()) as { success: boolean; data: { uid: number; secret: string }; error?: unknown };
  if (!json.success) throw new Error(`order/create failed: ${JSON.stringify(json.error)}`);
  return json.data;
}

const get = (path: string) => sandbox.app.request(path);

describe("returnToSiteUrl", () => {
  it.each([
    ["a URL without a query", "https://shop.example/back", "success", "https://shop.example/back?status=success"],
    ["a URL with a query", "https://shop.example/back?order=42", "error", "https://shop.example/back?order=42&status=error"],
    ["a URL with a fragment", "https://shop.example/back#done", "success", "https://shop.example/back?status=success#done"],
    ["a URL with a query and a fragment", "https://shop.example/b?o=1#top", "error", "https://shop.example/b?o=1&status=error#top"],
    ["a URL ending in ?", "https://shop.example/back?", "success", "https://shop.example/back?status=success"],
    ["a URL ending in &", "https://shop.example/back?o=1&", "success", "https://shop.example/back?o=1&status=success"],
    ["a bare origin", "http://127.0.0.1:3000", "success", "http://127.0.0.1:3000?status=success"],
    ["a query the merchant encoded its own way", "https://shop.example/?q=a%20b+c", "success", "https://shop.example/?q=a%20b+c&status=success"],
  ] as const)("joins status to %s", (_name, url, outcome, expected) => {
    expect(returnToSiteUrl(url, outcome)).toBe(expected);
  });

  it.each(["javascript:alert(1)", "data:text/html,hi", "/relative/path"])("refuses %s", (url) => {
    expect(returnToSiteUrl(url, "success")).toBeNull();
  });
});

describe("liveState", () => {
  it.each(STATUSES)("for %s says whether the client can pay and where Return to site goes", async (status) => {
    start();
    const { uid } = await createOrder("CARDUAH", "USDTTRC20", { clientCallbackUrl: "https://shop.example/back" });
    const order = status === "new" ? sandbox.orders.get(uid)! : sandbox.orders.move(uid, status, { cause: "test", force: true });
    const state = liveState(order, "en");
    expect(state.canPay).toBe(status === "new" || status === "waitPayment");
    const expectedReturn =
      status === "done" ? "https://shop.example/back?status=success"
      : ["returned", "deleted"].includes(status) ? "https://shop.example/back?status=error"
      : null;
    expect(state.returnUrl).toBe(expectedReturn);
    expect(state.label).toBe(DICTIONARIES.en.statuses[status]);
  });

  it("never offers I paid on an automatic route", async () => {
    start();
    const { uid } = await createOrder("ETH", "WMZ");
    expect(liveState(sandbox.orders.get(uid)!, "en")).toMatchObject({ unpaid: true, canPay: false });
  });
});

describe("dictionary", () => {
  it("has every status in both languages, and the Russian differs from the English", () => {
    for (const status of STATUSES) {
      expect(DICTIONARIES.en.statuses[status]).not.toBe("");
      expect(DICTIONARIES.ru.statuses[status]).toMatch(/[а-яё]/i);
    }
  });
});

describe("payment and order pages", () => {
  it.each(["payment", "order"] as const)("serves the %s page in English and Russian, with or without the trailing slash", async (kind) => {
    start();
    const { uid, secret } = await createOrder();
    for (const lang of PAGE_LANGS) {
      const path = pagePath(kind, lang, uid, secret);
      for (const url of [path, path.slice(0, -1)]) {
        const res = await get(url);
        expect(res.status, url).toBe(200);
        const html = await res.text();
        expect(html).toContain(`<html lang="${lang}">`);
        const title = kind === "payment" ? DICTIONARIES[lang].paymentTitle(uid) : DICTIONARIES[lang].orderTitle(uid);
        expect(html).toContain(title);
        expect(html).toContain(`data-status="new"`);
        expect(html).toContain(DICTIONARIES[lang].statuses.new);
      }
    }
  });

  it("shows what to send, where, the QR code, the time left and the I paid form on a manual route's payment page", async () => {
    start();
    const { uid, secret } = await createOrder();
    const order = sandbox.orders.get(uid)!;
    const html = await (await get(pagePath("payment", "en", uid, secret))).text();
    expect(html).toContain(`${order.inAmount} ${order.route.from.symbol}`);
    expect(html).toContain(`${order.outAmount} ${order.route.to.symbol}`);
    expect(html).toContain(`<code id="address">${order.depositAddress}</code>`);
    expect(html).toMatch(/<div class="qr" role="img"[^>]*><svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(html).toMatch(/id="time-left"[^>]*>14:5\d</);
    expect(html).toContain(`action="${pagePath("payment", "en", uid, secret)}pay"`);
    expect(html).toContain(">I paid</button>");
  });

  it("leaves out the I paid form on an automatic route", async () => {
    start();
    const { uid, secret } = await createOrder("ETH", "WMZ");
    const html = await (await get(pagePath("payment", "en", uid, secret))).text();
    expect(html).not.toContain("pay-form");
  });

  it("answers an unknown uid, a wrong secret, a malformed uid and an unknown language with the same 404 page", async () => {
    start();
    const { uid, secret } = await createOrder();
    const wrongSecret = secret.slice(0, -1) + (secret.endsWith("A") ? "B" : "A");
    const answers = await Promise.all(
      [
        `/en/payment/${uid}/${wrongSecret}/`,
        `/en/payment/${uid + 1000}/${secret}/`,
        `/en/order/${uid}/${wrongSecret}`,
        `/en/payment/abc/${secret}/`,
        `/de/payment/${uid}/${secret}/`,
      ].map(async (path) => {
        const res = await get(path);
        return { path, status: res.status, body: await res.text(), csp: res.headers.get("content-security-policy") };
      }),
    );
    for (const answer of answers) {
      expect(answer.status, answer.path).toBe(404);
      expect(answer.body, answer.path).toBe(answers[0]!.body);
      expect(answer.csp).toBe(PAGE_CSP);
    }
    expect(answers[0]!.body).toContain("Order not found");
    expect(answers[0]!.body).not.toContain(secret);
  });

  it("answers the Russian 404 page in Russian, the same for an unknown uid and a wrong secret", async () => {
    start();
    const { uid, secret } = await createOrder();
    const wrong = await (await get(`/ru/order/${uid}/${"x".repeat(24)}/`)).text();
    const unknown = await (await get(`/ru/order/${uid + 5}/${secret}/`)).text();
    expect(wrong).toBe(unknown);
    expect(wrong).toContain(DICTIONARIES.ru.notFoundTitle);
  });

  it("sends no-referrer, no-store and a CSP that allows only the pages' own script and stylesheet", async () => {
    start();
    const { uid, secret } = await createOrder();
    for (const kind of ["payment", "order"] as const) {
      const res = await get(pagePath(kind, "en", uid, secret));
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const csp = res.headers.get("content-security-policy")!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toContain("unsafe-inline");
      const html = await res.text();
      // Nothing inline that the CSP would block: every script has a src, no style attributes or elements.
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(html).not.toMatch(/\sstyle=|<style/);
    }
  });

  it("are documented in docs/pages.md with the Content-Security-Policy they really send", () => {
    expect(readDoc("docs/pages.md")).toContain(`Content-Security-Policy: ${PAGE_CSP}`);
  });

  it.each([
    ["/_assets/pages.js", "text/javascript"],
    ["/_assets/pages.css", "text/css"],
    ["/_assets/icon.svg", "image/svg+xml"],
  ])("serves %s as %s", async (path, type) => {
    start();
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain(type);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("shows a requisite's markup as text on both pages", async () => {
    start();
    const r = route("CARDUAH", "USDTTRC20");
    const { uid, secret } = await createOrder("CARDUAH", "USDTTRC20", {
      toValues: [
        { key: r.toFields[0]!._id, value: r.toFields[0]!.placeholder },
        { key: FREE_TEXT_FIELD, value: SCRIPT },
      ],
    });
    for (const kind of ["payment", "order"] as const) {
      const html = await (await get(pagePath(kind, "en", uid, secret))).text();
      expect(html).not.toContain(SCRIPT);
      expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(html).toContain("Note &lt;b&gt;bold&lt;/b&gt;");
    }
  });

  it("masks the recipient's requisites on both pages when the merchant asked for hideOutData", async () => {
    start();
    const r = route("CARDUAH", "USDTTRC20");
    const address = r.toFields[0]!.placeholder;
    const hidden = await createOrder("CARDUAH", "USDTTRC20", { hideOutData: true });
    const shown = await createOrder("CARDUAH", "USDTTRC20");
    for (const kind of ["payment", "order"] as const) {
      const masked = await (await get(pagePath(kind, "en", hidden.uid, hidden.secret))).text();
      expect(masked).not.toContain(address);
      expect(masked).toContain("*".repeat(address.length - 4) + address.slice(-4));
      expect(masked).toContain(`data-masked="true"`);
      const plain = await (await get(pagePath(kind, "en", shown.uid, shown.secret))).text();
      expect(plain).toContain(address);
    }
  });

  it("shows the history on the order page and no Return to site link without a clientCallbackUrl", async () => {
    start();
    const { uid, secret } = await createOrder();
    sandbox.orders.move(uid, "deleted", { cause: "test" });
    const html = await (await get(pagePath("order", "en", uid, secret))).text();
    expect(html).toMatch(/<li data-status="new">.*<li data-status="deleted">/s);
    expect(html).not.toContain('id="return"');
  });

  it.each([
    ["done", "status=success"],
    ["returned", "status=error"],
    ["deleted", "status=error"],
  ] as const)("links Return to site with %s → %s once the order has ended", async (final, query) => {
    start();
    const { uid, secret } = await createOrder("CARDUAH", "USDTTRC20", { clientCallbackUrl: "https://shop.example/back?o=1" });
    const before = await (await get(pagePath("order", "en", uid, secret))).text();
    expect(before).toMatch(/<a id="return" class="button" hidden="">/);
    sandbox.orders.move(uid, final, { cause: "test", force: true });
    const after = await (await get(pagePath("order", "en", uid, secret))).text();
    expect(after).toContain(`<a id="return" class="button" href="https://shop.example/back?o=1&amp;${query}">Return to site</a>`);
  });
});

describe("the Return to site link on a status that is not final", () => {
  it.each(["errorPayment", "errorPayout"] as const)("stays hidden at %s, which may still end in done, and shows the status as an error", async (status) => {
    start();
    const { uid, secret } = await createOrder("CARDUAH", "USDTTRC20", { clientCallbackUrl: "https://shop.example/back" });
    sandbox.orders.move(uid, status, { cause: "test", force: true });
    for (const kind of ["payment", "order"] as const) {
      const html = await (await get(pagePath(kind, "en", uid, secret))).text();
      expect(html).toMatch(/<a id="return" class="button" hidden="">/);
      expect(html).not.toContain("status=error");
      expect(html).toContain('class="status tone-error"');
    }
  });
});

describe("the I paid form", () => {
  it("pays a manual order through the state machine and redirects back to the page with 303", async () => {
    start();
    const { uid, secret } = await createOrder();
    const res = await sandbox.app.request(`${pagePath("payment", "ru", uid, secret)}pay`, { method: "POST" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(pagePath("payment", "ru", uid, secret));
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const order = sandbox.orders.get(uid)!;
    expect(order.status).toBe("inProgress");
    expect(order.history.slice(1).map((h) => [h.to, h.cause])).toEqual([
      ["waitPayment", "page:pay"],
      ["inProgress", "page:pay"],
    ]);
  });

  it("does nothing but redirect when pressed again, or for an automatic route", async () => {
    start();
    const manual = await createOrder();
    const auto = await createOrder("ETH", "WMZ");
    for (const { uid, secret } of [manual, manual, auto]) {
      const res = await sandbox.app.request(`${pagePath("payment", "en", uid, secret)}pay`, { method: "POST" });
      expect(res.status).toBe(303);
    }
    expect(sandbox.orders.get(manual.uid)!.history).toHaveLength(3);
    expect(sandbox.orders.get(auto.uid)!.status).toBe("new");
  });

  it("answers a wrong secret with the 404 page and moves nothing", async () => {
    start();
    const { uid } = await createOrder();
    const res = await sandbox.app.request(`/en/payment/${uid}/${"x".repeat(24)}/pay`, { method: "POST" });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain("Order not found");
    expect(sandbox.orders.get(uid)!.status).toBe("new");
  });
});

describe("the order's own event stream", () => {
  it("sends the current state at once and each change after, with nothing secret", async () => {
    start();
    const r = route("CARDUAH", "USDTTRC20");
    const { uid, secret } = await createOrder("CARDUAH", "USDTTRC20", {
      ipnUrl: "http://127.0.0.1:1/ipn",
      ipnSecret: "ipn-secret-value",
      clientCallbackUrl: "https://shop.example/back",
    });
    const res = await get(`${pagePath("payment", "ru", uid, secret)}events`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const events = streamText(res);
    await events.until((t) => t.includes("\n\n"), "the current state");
    sandbox.orders.pay(uid, "test");
    const text = await events.until((t) => t.includes('"status":"inProgress"'), "the order's move to inProgress");
    await events.close();
    expect(text).toMatch(/^event: state\ndata: \{"status":"new","label":"Новая"/);
    expect(text).toContain(`"label":"${DICTIONARIES.ru.statuses.inProgress}"`);
    for (const secretThing of [secret, "ipn-secret-value", "127.0.0.1:1", r.toFields[0]!.placeholder, sandbox.orders.get(uid)!.depositAddress]) {
      expect(text).not.toContain(secretThing);
    }
  });

  it("answers a wrong secret with the 404 page instead of a stream", async () => {
    start();
    const { uid } = await createOrder();
    const res = await get(`/en/payment/${uid}/${"x".repeat(24)}/events`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
  });
});

describe("dashboard", () => {
  it("shows each order with its secrets masked, its page links and every fault the dispatcher knows", async () => {
    start();
    const { uid, secret } = await createOrder("CARDUAH", "USDTTRC20", { ipnUrl: "http://127.0.0.1:1/ipn", ipnSecret: "ipn-secret-value" });
    const res = await get("/_sandbox/");
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain(`id="order-${uid}"`);
    expect(html).not.toContain("ipn-secret-value");
    // The order secret appears only inside the links to its pages, never as text.
    expect(html.split(secret).length - 1).toBe(2);
    expect(html).toContain(`href="${pagePath("payment", "en", uid, secret)}"`);
    for (const fault of FAULTS) expect(html).toContain(`<option value="${fault}"`);
  });

  it("serves one order's card for live updates, escaped, and 404 for an unknown order", async () => {
    start();
    const r = route("CARDUAH", "USDTTRC20");
    const { uid } = await createOrder("CARDUAH", "USDTTRC20", {
      toValues: [{ key: r.toFields[0]!._id, value: r.toFields[0]!.placeholder }, { key: FREE_TEXT_FIELD, value: SCRIPT }],
      ipnUrl: "http://127.0.0.1:1/ipn",
      ipnSecret: "s",
    });
    sandbox.orders.move(uid, "waitPayment", { cause: "test" });
    const card = await get(`/_sandbox/dashboard/orders/${uid}`);
    expect(card.status).toBe(200);
    const html = await card.text();
    expect(html).toMatch(new RegExp(`^<tbody class="order" id="order-${uid}"`));
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("by test");
    expect(html).toContain('data-action="resend"');
    expect((await get("/_sandbox/dashboard/orders/9999")).status).toBe(404);
  });

  it("puts each IPN right after the move it reports, even within one millisecond", async () => {
    start(catalogWithFreeText("Note <b>bold</b>"), { clock: createClock("manual") });
    const { uid } = await createOrder("CARDUAH", "USDTTRC20", { ipnUrl: "http://127.0.0.1:1/ipn", ipnSecret: "s" });
    sandbox.orders.pay(uid, "test");
    await sandbox.dispatcher.idle();
    const html = await (await get(`/_sandbox/dashboard/orders/${uid}`)).text();
    const rows = [...html.matchAll(/<li data-kind="(status|delivery)".*?<strong>(\w+)<\/strong>/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows).toEqual(["status new", "status waitPayment", "delivery waitPayment", "status inProgress", "delivery inProgress"]);
  });
});
