// Hostile values on the pages and dashboard are escaped; every page route and 404 sends the CSP and Referrer-Policy.

import { afterEach, describe, expect, it } from "vitest";
import { createDefaultCatalog, createSandbox, exampleCreateParams, type Catalog, type Route, type RouteField, type Sandbox } from "../sandbox/index.js";
import { PAGE_CSP, pagePath } from "../sandbox/pages/index.js";

/** Breaks out of text, of a double- and a single-quoted attribute, and tries a script and an event handler. */
const HOSTILE = `"'><script>alert(1)</script><img src=x onerror=alert(2)>`;
const ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;";
/** What would run, or open a tag, if the value were written unescaped. */
const DANGERS = ["<script>alert", "<img src=x", `"'><`];

const FREE = { from: "0123456789abcdef0123a001", to: "0123456789abcdef0123a002", route: "0123456789abcdef0123a003" };
const freeField = (_id: string, name = "Note"): RouteField => ({ _id, name, placeholder: "any", regexp: "^[\\s\\S]{1,200}$", regexp_error: "any text", required: false });

/** The default catalogue's manual CARDUAH route, given a free-text field in each list so any markup can get through. */
function catalog(options: { fieldName?: string; currencyName?: string } = {}): Catalog {
  return {
    routes: createDefaultCatalog(1).routes.map((r) =>
      r.manual && r.from.xml === "CARDUAH"
        ? {
            ...r,
            from: options.currencyName ? { ...r.from, name: options.currencyName } : r.from,
            fromFields: [...r.fromFields, freeField(FREE.from, options.fieldName)],
            toFields: [...r.toFields, freeField(FREE.to, options.fieldName)],
            routeFields: [...r.routeFields, freeField(FREE.route, options.fieldName)],
          }
        : r,
    ),
  };
}

let sandbox: Sandbox;
afterEach(() => sandbox?.close());

const manualRoute = (): Route => sandbox.catalog.routes.find((r) => r.manual && r.from.xml === "CARDUAH")!;

async function createOrder(extra: Record<string, unknown> = {}, lists: Partial<Record<"fromValues" | "toValues" | "routeValues", { key: string; value: string }[]>> = {}) {
  const base = exampleCreateParams(manualRoute(), extra) as Record<string, { key: string; value: string }[]>;
  for (const [list, items] of Object.entries(lists)) base[list] = [...base[list]!, ...items];
  const res = await sandbox.app.request("/service/api/v1/public/exchanger/order/create/", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(base),
  });
  const json = (await res.json()) as { success: boolean; data: { uid: number; secret: string }; error?: unknown };
  if (!json.success) throw new Error(`order/create failed: ${JSON.stringify(json.error)}`);
  return json.data;
}

/** Every HTML view of an order: both pages in both languages, the dashboard and the order's dashboard card. */
async function views(uid: number, secret: string): Promise<Record<string, string>> {
  const paths = {
    "payment page": pagePath("payment", "en", uid, secret),
    "payment page (ru)": pagePath("payment", "ru", uid, secret),
    "order page": pagePath("order", "en", uid, secret),
    dashboard: "/_sandbox/",
    "dashboard card": `/_sandbox/dashboard/orders/${uid}`,
  };
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(paths)) {
    const res = await sandbox.app.request(path);
    expect(res.status, name).toBe(200);
    out[name] = await res.text();
  }
  return out;
}

function expectEscaped(html: Record<string, string>, shownIn: string[]) {
  for (const [name, text] of Object.entries(html)) {
    for (const danger of DANGERS) expect(text, `${name} contains ${danger} unescaped`).not.toContain(danger);
    if (shownIn.includes(name)) expect(text, `${name} does not show the value, escaped`).toContain(ESCAPED);
  }
}

describe("every user-supplied value is escaped", () => {
  it("a sender's requisite (fromValues) value", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({}, { fromValues: [{ key: FREE.from, value: HOSTILE }] });
    expectEscaped(await views(uid, secret), ["order page"]);
  });

  it("a recipient's requisite (toValues) value", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({}, { toValues: [{ key: FREE.to, value: HOSTILE }] });
    expectEscaped(await views(uid, secret), ["payment page", "payment page (ru)", "order page"]);
  });

  it("a contact (routeValues) value", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({}, { routeValues: [{ key: FREE.route, value: HOSTILE }] });
    expectEscaped(await views(uid, secret), ["order page"]);
  });

  it("the partner", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({ partner: HOSTILE });
    expectEscaped(await views(uid, secret), ["dashboard", "dashboard card"]);
  });

  it("the clientCallbackUrl, in the Return to site link and on the dashboard", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const url = `https://shop.example/back?x=${HOSTILE}`;
    const { uid, secret } = await createOrder({ clientCallbackUrl: url });
    sandbox.orders.move(uid, "done", { cause: "test", force: true });
    const html = await views(uid, secret);
    expectEscaped(html, ["dashboard", "dashboard card"]);
    // In the link's href the quotes are escaped too, so the value cannot leave the attribute.
    expect(html["order page"]).toContain(`href="https://shop.example/back?x=&quot;&#39;&gt;&lt;script&gt;alert(1)&lt;/script&gt;`);
  });

  it("the ipnUrl, on the dashboard", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({ ipnUrl: `http://127.0.0.1:1/ipn?x=${HOSTILE}`, ipnSecret: "s" });
    expectEscaped(await views(uid, secret), ["dashboard", "dashboard card"]);
  });

  it("a field's name from the catalogue", async () => {
    sandbox = createSandbox({ catalog: catalog({ fieldName: HOSTILE }) });
    const { uid, secret } = await createOrder(
      {},
      { fromValues: [{ key: FREE.from, value: "a" }], toValues: [{ key: FREE.to, value: "b" }], routeValues: [{ key: FREE.route, value: "c" }] },
    );
    expectEscaped(await views(uid, secret), ["payment page", "payment page (ru)", "order page"]);
  });

  it("a currency's name from the catalogue", async () => {
    sandbox = createSandbox({ catalog: catalog({ currencyName: HOSTILE }) });
    const { uid, secret } = await createOrder();
    expectEscaped(await views(uid, secret), ["payment page", "payment page (ru)", "order page"]);
  });
});

describe("security headers on every page route", () => {
  const PAGE_HEADERS = {
    "content-security-policy": PAGE_CSP,
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };

  async function routes() {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid, secret } = await createOrder({ clientCallbackUrl: "https://shop.example/back" });
    const wrong = "x".repeat(secret.length);
    return [
      ["GET", pagePath("payment", "en", uid, secret), 200],
      ["GET", pagePath("payment", "ru", uid, secret).slice(0, -1), 200],
      ["GET", pagePath("order", "en", uid, secret), 200],
      ["GET", pagePath("order", "ru", uid, secret).slice(0, -1), 200],
      ["GET", `${pagePath("payment", "en", uid, secret)}events`, 200],
      ["GET", `${pagePath("order", "en", uid, secret)}events`, 200],
      ["POST", `${pagePath("payment", "en", uid, secret)}pay`, 303],
      ["GET", pagePath("payment", "en", uid, wrong), 404],
      ["GET", pagePath("order", "en", uid + 1000, secret), 404],
      ["GET", `/de/payment/${uid}/${secret}/`, 404],
      ["GET", `/en/order/abc/${secret}/`, 404],
      ["GET", `${pagePath("payment", "en", uid, wrong)}events`, 404],
      ["POST", `${pagePath("payment", "en", uid, wrong)}pay`, 404],
    ] as const;
  }

  it("sends the CSP, no-referrer, no-store and nosniff on each page, stream, redirect and 404", async () => {
    for (const [method, path, status] of await routes()) {
      const res = await sandbox.app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(status);
      for (const [name, value] of Object.entries(PAGE_HEADERS)) {
        // An event stream is never stored either: Hono's SSE helper says so with no-cache.
        const expected = name === "cache-control" && status === 200 && path.endsWith("/events") ? "no-cache" : value;
        expect(res.headers.get(name), `${name} on ${method} ${path}`).toBe(expected);
      }
      await res.body?.cancel();
    }
  });

  it("sends a CSP and no-referrer on the dashboard and its order cards, and on the plain 404 for any other path", async () => {
    sandbox = createSandbox({ catalog: catalog() });
    const { uid } = await createOrder();
    for (const path of ["/_sandbox/", `/_sandbox/dashboard/orders/${uid}`, "/no/such/page"]) {
      const res = await sandbox.app.request(path);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toContain("default-src 'none'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain("unsafe-inline");
      expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
  });
});
