// The dashboard at /_sandbox/ in a real browser: orders and IPN deliveries appear live, and its buttons act through
// the control API (pay, move with a fault, resend, test IPN), with secrets masked on screen.

import { expect, test, type Page, type TestInfo } from "@playwright/test";
import { routeByXml, startSandbox, validCreateBody, type RunningSandbox } from "../support/sandbox.js";
import { startSink, type Sink } from "../support/sink.js";

const IPN_SECRET = "merchant-ipn-secret";

let sb: RunningSandbox;
let merchant: Sink;

test.beforeAll(async () => {
  sb = await startSandbox();
  merchant = await startSink((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain" }).end("OK from the test merchant");
  });
});

test.afterAll(async () => {
  await sb?.close();
  await merchant?.close();
});

async function createOrder(): Promise<{ uid: number; secret: string }> {
  const route = routeByXml(sb.sandbox, "CARDUAH", "USDTTRC20");
  const envelope = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ipnUrl: merchant.url, ipnSecret: IPN_SECRET }));
  expect(envelope.success, JSON.stringify(envelope.error)).toBe(true);
  return envelope.data;
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

async function snap(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

test("shows a new order and its IPN delivery live, with the merchant's answer, and resends it", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const response = await page.goto(`${sb.url}/_sandbox/`);
  expect(response!.headers()["content-security-policy"]).toContain("script-src 'self'");
  await expect(page.locator("#live")).toHaveAttribute("data-live", "true");

  // Created and moved after the page loaded: both must arrive without a reload.
  const order = await createOrder();
  const card = page.locator(`#order-${order.uid}`);
  await expect(card).toBeVisible();
  const { status } = await sb.control("POST", `/orders/${order.uid}/status`, { status: "waitPayment" });
  expect(status).toBe(200);

  const first = card.locator("li[data-kind=delivery]").first();
  await expect(first).toHaveAttribute("data-outcome", "accepted");
  await expect(first.locator(".response-code")).toHaveText("HTTP 200");
  await expect(first).toContainText("waitPayment");
  await expect(card.locator(".status")).toHaveText("waitPayment");

  // The delivery's details: the exact fields sent, the checksum, the merchant's answer.
  await first.locator("summary").click();
  await expect(first.locator("table.fields th")).toContainText(["orderUID", "orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"]);
  const [delivery] = (await sb.control("GET", `/deliveries?orderUID=${order.uid}`)).json.deliveries;
  await expect(first).toContainText(delivery.hash);
  await expect(first.locator("pre.excerpt")).toHaveText("OK from the test merchant");

  // Secrets never appear as text: the IPN secret and the order secret are masked.
  const text = await page.locator("body").innerText();
  expect(text).not.toContain(IPN_SECRET);
  expect(text).not.toContain(order.secret);
  await expect(card).toContainText(`${order.secret.slice(0, 2)}••••••••${order.secret.slice(-2)}`);
  await snap(page, testInfo, "dashboard-delivery");

  await first.getByRole("button", { name: "Resend" }).click();
  await expect(card.locator("li[data-kind=delivery]")).toHaveCount(2);
  const second = card.locator("li[data-kind=delivery]").nth(1);
  await expect(second).toContainText(`resend of ${delivery.id}`);
  await expect(second).toHaveAttribute("data-outcome", "accepted");
  // The details the user opened stay open across the live refresh.
  await expect(first.locator("details")).toHaveAttribute("open", "");
  const records = (await sb.control("GET", `/deliveries?orderUID=${order.uid}`)).json.deliveries;
  expect(records).toHaveLength(2);
  expect(records[1].resendOf).toBe(delivery.id);
  await snap(page, testInfo, "dashboard-resent");
  expect(errors).toEqual([]);
});

test("shows what the IPN inbox received, live, with each verdict", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await page.goto(`${sb.url}/_sandbox/`);
  await expect(page.locator("#live")).toHaveAttribute("data-live", "true");
  const route = routeByXml(sb.sandbox, "ETH", "WMZ");
  const envelope = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ipnUrl: `${sb.url}/_sandbox/inbox/browser`, ipnSecret: IPN_SECRET }));
  expect(envelope.success, JSON.stringify(envelope.error)).toBe(true);
  const { uid } = envelope.data;
  expect((await sb.control("POST", `/orders/${uid}/status`, { status: "waitPayment" })).status).toBe(200);
  expect((await sb.control("POST", `/orders/${uid}/status`, { status: "deleted", fault: "wrongSecret" })).status).toBe(200);

  const inbox = page.locator('#inbox section[data-inbox="browser"]');
  await expect(inbox.locator("li[data-kind=inbox]")).toHaveCount(2);
  // Newest first: the IPN signed with another secret, then the good one.
  await expect(inbox.locator("li[data-kind=inbox]").nth(0)).toHaveAttribute("data-verdict", "badHash");
  await expect(inbox.locator("li[data-kind=inbox]").nth(1)).toHaveAttribute("data-verdict", "valid");
  await expect(inbox.locator("li[data-kind=inbox]").nth(1)).toContainText(`order ${uid} waitPayment`);
  await snap(page, testInfo, "dashboard-inbox");
  expect(errors).toEqual([]);
});

test("pays, moves with a chosen fault and fires a test IPN through the control API", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const order = await createOrder();
  await page.goto(`${sb.url}/_sandbox/`);
  await expect(page.locator("#live")).toHaveAttribute("data-live", "true");
  const card = page.locator(`#order-${order.uid}`);

  await card.getByRole("button", { name: "Pay (client)" }).click();
  await expect(card.locator(".status")).toHaveText("inProgress");
  await expect(page.locator("#notice")).toHaveText(`Order ${order.uid} paid`);

  // Only the moves the table allows from inProgress are offered.
  const moves = card.locator("select[name=status] option");
  await expect(moves).toHaveText(["inProgressPayout", "done", "hold", "returned"]);
  await card.locator("select[name=status]").selectOption("done");
  await card.locator("select[name=fault]").selectOption("drop");
  await card.getByRole("button", { name: "Move" }).click();
  await expect(card.locator(".status")).toHaveText("done");
  await expect(card.locator("li[data-kind=delivery]").last()).toHaveAttribute("data-outcome", "dropped");
  await expect(card).toContainText("final: no further moves");

  const form = page.locator("#test-ipn-form");
  await form.locator("input[name=ipnUrl]").fill(merchant.url);
  await form.locator("input[name=ipnSecret]").fill("test-ipn-secret");
  await form.locator("select[name=status]").selectOption("done");
  await form.getByRole("button", { name: "Send test IPN" }).click();
  const testIpn = page.locator("#test-ipns li[data-kind=delivery]").first();
  await expect(testIpn).toHaveAttribute("data-outcome", "accepted");
  await expect(testIpn.locator(".response-code")).toHaveText("HTTP 200");
  await snap(page, testInfo, "dashboard-actions");

  expect((await sb.control("GET", `/orders/${order.uid}`)).json.status).toBe("done");
  expect(errors).toEqual([]);
});

test("links each order to its payment and order pages", async ({ page }) => {
  const order = await createOrder();
  await page.goto(`${sb.url}/_sandbox/`);
  const card = page.locator(`#order-${order.uid}`);
  await expect(card.getByRole("link", { name: "payment page" })).toHaveAttribute("href", `/en/payment/${order.uid}/${order.secret}/`);
  await expect(card.getByRole("link", { name: "order page" })).toHaveAttribute("href", `/en/order/${order.uid}/${order.secret}/`);
});

test("shows one page of orders at a time, finds one by uid, filters by status, and adds new ones to the first page", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const fresh = await startSandbox();
  try {
    const route = routeByXml(fresh.sandbox, "CARDUAH", "USDTTRC20");
    const uids: number[] = [];
    for (let i = 0; i < 30; i++) uids.push((await fresh.api("POST", "public/exchanger/order/create", validCreateBody(route))).data.uid);
    await fresh.control("POST", `/orders/${uids[3]}/status`, { status: "waitPayment" });

    await page.goto(`${fresh.url}/_sandbox/`);
    await expect(page.locator("#live")).toHaveAttribute("data-live", "true");
    const cards = page.locator("#orders > article[data-uid]");
    await expect(cards).toHaveCount(25);
    await expect(cards.first()).toHaveAttribute("data-uid", String(uids[29]));
    await expect(page.locator("#order-count")).toHaveText("30");

    // A new order joins the top of the first page, which keeps its size.
    const created = (await fresh.api("POST", "public/exchanger/order/create", validCreateBody(route))).data.uid as number;
    await expect(cards.first()).toHaveAttribute("data-uid", String(created));
    await expect(cards).toHaveCount(25);
    await expect(page.locator("#order-count")).toHaveText("31");

    await page.locator("#older").click();
    await expect(cards).toHaveCount(6);
    await expect(cards.last()).toHaveAttribute("data-uid", String(uids[0]));

    await page.locator("#filter input[name=uid]").fill(String(uids[7]));
    await page.locator("#filter").getByRole("button", { name: "Show" }).click();
    await expect(cards).toHaveCount(1);
    await expect(cards.first()).toHaveAttribute("data-uid", String(uids[7]));

    await page.goto(`${fresh.url}/_sandbox/`);
    await page.locator("#filter select[name=status]").selectOption("waitPayment");
    await page.locator("#filter").getByRole("button", { name: "Show" }).click();
    await expect(cards).toHaveCount(1);
    await expect(cards.first()).toHaveAttribute("data-uid", String(uids[3]));
    await snap(page, testInfo, "dashboard-filtered");
    expect(errors).toEqual([]);
  } finally {
    await fresh.close();
  }
});
