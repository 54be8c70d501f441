// The buyer's path in a real browser: the payment page, "I paid", the status going live to its end, and
// "Return to site" landing on the merchant's page; the Russian page, masking, escaping, the 404 page, scripts off.

import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { catalogWithFreeText, FREE_TEXT_FIELD, SCRIPT } from "../support/fixtures.js";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "../support/sandbox.js";
import { startSink, type Sink } from "../support/sink.js";



let sb: RunningSandbox;
/** The merchant: answers IPNs with OK and serves the shop page the buyer returns to. */
let merchant: Sink;
let shop: string;

test.beforeAll(async () => {
  sb = await startSandbox({ catalog: catalogWithFreeText() });
  merchant = await startSink((req, res) => {
    if (req.method === "GET") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><html lang="en"><head><title>Test shop</title></head><body><h1>Test shop</h1><p>Welcome back.</p></body></html>`);
    } else {
      res.writeHead(200, { "content-type": "text/plain" }).end("OK");
    }
  });
  shop = new URL(merchant.url).origin;
});

test.afterAll(async () => {
  await sb?.close();
  await merchant?.close();
});

interface CreatedOrder {
  uid: number;
  secret: string;
}

async function createOrder(extra: Record<string, unknown> = {}, from = "CARDUAH", to = "USDTTRC20"): Promise<CreatedOrder> {
  const envelope = await sb.api("POST", "public/exchanger/order/create", validCreateBody(routeByXml(sb.sandbox, from, to), extra));
  expect(envelope.success, JSON.stringify(envelope.error)).toBe(true);
  return envelope.data;
}

async function move(uid: number, status: string): Promise<void> {
  const { status: http, json } = await sb.control("POST", `/orders/${uid}/status`, { status });
  expect(http, JSON.stringify(json)).toBe(200);
}

const pageUrl = (kind: "payment" | "order", lang: "en" | "ru", order: CreatedOrder) => `${sb.url}/${lang}/${kind}/${order.uid}/${order.secret}/`;

/** Console errors, uncaught exceptions and dialogs (an alert would mean injected script ran): all must stay empty. */
function watch(page: Page): { errors: string[]; dialogs: string[] } {
  const seen = { errors: [] as string[], dialogs: [] as string[] };
  page.on("console", (message) => {
    if (message.type() === "error") seen.errors.push(message.text());
  });
  page.on("pageerror", (error) => seen.errors.push(error.message));
  page.on("dialog", (dialog) => {
    seen.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return seen;
}

/** Saves a full-page screenshot as an artifact: test-results/<test>/<name>.png. */
async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

test("a buyer pays a manual order, sees it finish without reloading and returns with status=success", async ({ page, context }, testInfo) => {
  const seen = watch(page);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.url });
  const order = await createOrder({ clientCallbackUrl: `${shop}/return?order=42`, ipnUrl: merchant.url, ipnSecret: "merchant-secret" });
  const depositAddress = sb.sandbox.orders.get(order.uid)!.depositAddress;

  const response = await page.goto(pageUrl("payment", "en", order));
  expect(response!.status()).toBe(200);
  const headers = response!.headers();
  expect(headers["referrer-policy"]).toBe("no-referrer");
  expect(headers["cache-control"]).toBe("no-store");
  expect(headers["content-security-policy"]).toContain("script-src 'self'");

  await expect(page.getByRole("heading", { name: `Payment for order #${order.uid}` })).toBeVisible();
  await expect(page.locator("#status")).toHaveAttribute("data-status", "new");
  await expect(page.locator("#send-amount")).toHaveText("250 UAH");
  await expect(page.locator("#address")).toHaveText(depositAddress);
  await expect(page.getByRole("img", { name: "QR code of the deposit address" }).locator("svg")).toBeVisible();
  await expect(page.locator("#return")).toBeHidden();

  // The countdown runs, and the copy button (shown only when scripts run) copies the address.
  const firstLeft = await page.locator("#time-left").textContent();
  expect(firstLeft).toMatch(/^1[45]:\d\d$/);
  await expect(page.locator("#time-left")).not.toHaveText(firstLeft!, { timeout: 3000 });
  await page.getByRole("button", { name: "Copy" }).click();
  await expect(page.locator("#copy")).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(depositAddress);
  await snap(page, testInfo, "payment-page-en");

  await page.getByRole("button", { name: "I paid" }).click();
  await page.waitForURL(pageUrl("payment", "en", order));
  await expect(page.locator("#status")).toHaveAttribute("data-status", "inProgress");
  await expect(page.locator("#status")).toHaveText("In progress");
  await expect(page.locator("#pay-form")).toBeHidden();
  await expect(page.locator("#time-left")).toBeHidden();

  // From here the page must not reload: a marker on window survives only if it does not.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await move(order.uid, "inProgressPayout");
  await expect(page.locator("#status")).toHaveText("Paying out");
  await move(order.uid, "done");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "done");
  await expect(page.locator("#status")).toHaveText("Completed");
  await expect(page.locator("#timeline li")).toHaveText([/New/, /Waiting for payment/, /In progress/, /Paying out/, /Completed/]);
  const back = page.getByRole("link", { name: "Return to site" });
  await expect(back).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  await snap(page, testInfo, "payment-page-done");

  await back.click();
  await page.waitForURL(`${shop}/return?order=42&status=success`);
  await expect(page.getByRole("heading", { name: "Test shop" })).toBeVisible();
  await snap(page, testInfo, "merchant-return-success");

  // Every move sent its IPN to the merchant, I paid included (new → waitPayment → inProgress, then two more).
  await sb.sandbox.dispatcher.idle();
  expect(merchant.received.filter((r) => r.method === "POST").map((r) => r.form.get("newStatus"))).toEqual(
    expect.arrayContaining(["waitPayment", "inProgress", "inProgressPayout", "done"]),
  );
  expect(seen).toEqual({ errors: [], dialogs: [] });
});

test("a payout error shows no Return to site; the order returned then sends the buyer back with status=error", async ({ page }, testInfo) => {
  const seen = watch(page);
  const order = await createOrder({ clientCallbackUrl: `${shop}/return` });
  await page.goto(pageUrl("order", "en", order));
  await expect(page.getByRole("heading", { name: `Order #${order.uid}` })).toBeVisible();
  await expect(page.locator("#status")).toHaveText("New");

  const { status } = await sb.control("POST", `/orders/${order.uid}/pay`);
  expect(status).toBe(200);
  await expect(page.locator("#status")).toHaveText("In progress");
  await move(order.uid, "inProgressPayout");
  await move(order.uid, "errorPayout");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "errorPayout");
  await expect(page.locator("#status")).toHaveText("Payout error");
  // errorPayout is not final: the order may still be paid out, so the buyer is not sent back yet.
  await expect(page.getByRole("link", { name: "Return to site" })).toBeHidden();
  await snap(page, testInfo, "order-page-error-payout");

  await move(order.uid, "returned");
  await expect(page.locator("#status")).toHaveAttribute("data-status", "returned");
  await page.getByRole("link", { name: "Return to site" }).click();
  await page.waitForURL(`${shop}/return?status=error`);
  await expect(page.getByRole("heading", { name: "Test shop" })).toBeVisible();
  expect(seen).toEqual({ errors: [], dialogs: [] });
});

test("the Russian payment page speaks Russian, and I paid works there too", async ({ page }, testInfo) => {
  const seen = watch(page);
  const order = await createOrder();
  await page.goto(pageUrl("payment", "ru", order));
  await expect(page.locator("html")).toHaveAttribute("lang", "ru");
  await expect(page.getByRole("heading", { name: `Оплата заявки №${order.uid}` })).toBeVisible();
  await expect(page.locator("#status")).toHaveText("Новая");
  await expect(page.getByText("Отправьте ровно")).toBeVisible();
  await expect(page.getByRole("button", { name: "Копировать" })).toBeVisible();
  await snap(page, testInfo, "payment-page-ru");

  await page.getByRole("button", { name: "Я оплатил" }).click();
  await expect(page.locator("#status")).toHaveText("В обработке");
  await expect(page.locator("#timeline li")).toHaveText([/Новая/, /Ожидает оплаты/, /В обработке/]);

  await page.getByRole("link", { name: "English" }).click();
  await expect(page.getByRole("heading", { name: `Payment for order #${order.uid}` })).toBeVisible();
  expect(seen).toEqual({ errors: [], dialogs: [] });
});

test("hidden requisites are masked on both pages", async ({ page }, testInfo) => {
  const seen = watch(page);
  const address = routeByXml(sb.sandbox, "CARDUAH", "USDTTRC20").toFields[0]!.placeholder;
  const order = await createOrder({ hideOutData: true });
  const masked = "*".repeat(address.length - 4) + address.slice(-4);
  for (const kind of ["payment", "order"] as const) {
    await page.goto(pageUrl(kind, "en", order));
    await expect(page.locator(".requisites[data-masked=true] dd").first()).toHaveText(masked);
    expect(await page.content()).not.toContain(address);
    await snap(page, testInfo, `${kind}-page-hidden-requisites`);
  }
  expect(seen).toEqual({ errors: [], dialogs: [] });
});

test("a requisite holding a script shows as text and runs nothing", async ({ page }, testInfo) => {
  const seen = watch(page);
  const route = routeByXml(sb.sandbox, "CARDUAH", "USDTTRC20");
  const order = await createOrder({
    toValues: [
      { key: route.toFields[0]!._id, value: route.toFields[0]!.placeholder },
      { key: FREE_TEXT_FIELD, value: SCRIPT },
    ],
  });
  for (const kind of ["payment", "order"] as const) {
    await page.goto(pageUrl(kind, "en", order));
    await expect(page.locator(".requisites dd").filter({ hasText: "alert" })).toHaveText(SCRIPT);
    await snap(page, testInfo, `${kind}-page-escaped-script`);
  }
  await page.waitForTimeout(200);
  expect(seen).toEqual({ errors: [], dialogs: [] });
});

test("an unknown uid and a wrong secret get the same 404 page", async ({ page }, testInfo) => {
  const order = await createOrder();
  const wrongSecret = "x".repeat(order.secret.length);
  const texts: string[] = [];
  for (const url of [`${sb.url}/en/payment/${order.uid}/${wrongSecret}/`, `${sb.url}/en/payment/${order.uid + 1000}/${order.secret}/`]) {
    const response = await page.goto(url);
    expect(response!.status()).toBe(404);
    expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
    expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
    await expect(page.getByRole("heading", { name: "Order not found" })).toBeVisible();
    texts.push(await response!.text());
  }
  expect(texts[0]).toBe(texts[1]);
  await snap(page, testInfo, "not-found");
});

test.describe("with scripts off", () => {
  test.use({ javaScriptEnabled: false });

  test("the payment page still shows everything, and I paid still pays", async ({ page }, testInfo) => {
    const order = await createOrder();
    await page.goto(pageUrl("payment", "en", order));
    await expect(page.locator("#status")).toHaveText("New");
    await expect(page.locator("#time-left")).toHaveText(/^1[45]:\d\d$/);
    await expect(page.locator("#copy")).toBeHidden();
    await snap(page, testInfo, "payment-page-no-script");
    await page.getByRole("button", { name: "I paid" }).click();
    await expect(page.locator("#status")).toHaveText("In progress");
    await move(order.uid, "done");
    await page.reload();
    await expect(page.locator("#status")).toHaveText("Completed");
  });
});
