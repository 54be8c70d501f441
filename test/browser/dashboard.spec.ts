// The dashboard at /_sandbox/ in a real browser: orders as a compact table, their IPN deliveries appearing live, its
// buttons acting through the control API (pay, move with a fault, resend, test IPN), a delivery copied as curl and
// the doctor saying why one was rejected, with secrets masked on screen; and, with scripts off, a snapshot.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
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

  // The order's row says how its last IPN went; its details and timeline unfold under it.
  await expect(card.locator("td.ipns")).toHaveText("1 · waitPayment accepted HTTP 200");
  await card.locator(`details[data-key="order-${order.uid}"] > summary`).click();

  // The delivery's details: the exact fields sent, the checksum, the merchant's answer.
  await first.locator("details:not(.doctor) > summary").click();
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
  await expect(first.locator("details:not(.doctor)")).toHaveAttribute("open", "");
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
    const cards = page.locator("#orders > tbody[data-uid]");
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

/**
 * A merchant that gets the checksum wrong the commonest way, leaving the secret out, so it refuses every IPN with
 * 403; its answer tells the hash it computed, as a merchant's own log would.
 */
async function startForgetfulMerchant(): Promise<Sink> {
  return startSink((req, res) => {
    const mine = forgetfulHash(req.form);
    res.writeHead(req.form.get("hash") === mine ? 200 : 403, { "content-type": "text/plain" }).end(`hash mismatch: mine is ${mine}`);
  });
}

function forgetfulHash(form: URLSearchParams): string {
  const text = ["orderId", "newStatus", "inAmount", "outAmount", "xml_from", "xml_to", "timestamp"].map((name) => form.get(name) ?? "").join(":");
  return createHash("sha256").update(text).digest("hex");
}

/** An order whose IPN URL carries a token of the merchant's, moved once: one delivery, refused by the merchant. */
async function rejectedDelivery(shop: Sink) {
  const route = routeByXml(sb.sandbox, "ETH", "WMZ");
  const envelope = await sb.api("POST", "public/exchanger/order/create", validCreateBody(route, { ipnUrl: `${shop.url}?token=${URL_TOKEN}`, ipnSecret: IPN_SECRET }));
  expect(envelope.success, JSON.stringify(envelope.error)).toBe(true);
  const uid = envelope.data.uid as number;
  expect((await sb.control("POST", `/orders/${uid}/status`, { status: "waitPayment" })).status).toBe(200);
  await sb.sandbox.dispatcher.idle();
  const [delivery] = (await sb.control("GET", `/deliveries?orderUID=${uid}`)).json.deliveries;
  expect(delivery.outcome).toBe("rejected");
  return { uid, delivery };
}

const URL_TOKEN = "merchant-url-token-42";

test("shows the orders as a compact table: a row each with its status, exchange, last IPN, pages and actions", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const order = await createOrder();
  await sb.control("POST", `/orders/${order.uid}/pay`, {});
  await sb.sandbox.dispatcher.idle();
  await page.goto(`${sb.url}/_sandbox/?uid=${order.uid}`);
  await expect(page.locator("#orders thead th")).toHaveText(["order", "status", "exchange", "created", "IPNs, the last", "pages", "actions"]);
  const row = page.locator(`#order-${order.uid} > tr`).first();
  const cells = row.locator("th, td");
  await expect(cells).toHaveCount(7);
  await expect(cells.nth(0)).toHaveText(`#${order.uid}`);
  await expect(cells.nth(1)).toHaveText("inProgress");
  await expect(cells.nth(2)).toHaveText(/^\d[\d.]* CARDUAH → [\d.]+ USDTTRC20 manual$/);
  await expect(cells.nth(4)).toHaveText("2 · inProgress accepted HTTP 200");
  // The details and the timeline stay folded until asked for: a page of 25 orders fits on a screen.
  const details = page.locator(`#order-${order.uid} details[data-key="order-${order.uid}"]`);
  await expect(details).not.toHaveAttribute("open", "");
  await expect(details.locator("li[data-kind=delivery]").first()).toBeHidden();
  await details.locator("> summary").click();
  await expect(details.locator("li[data-kind=delivery]")).toHaveCount(2);
  await expect(details.locator("li[data-kind=delivery] p.signed").first()).toContainText(/^signed string [0-9a-f]{24}:waitPayment:.+:me••••••••et$/);
  await snap(page, testInfo, "dashboard-table");
  expect(errors).toEqual([]);
});

test("copies a delivery as curl with its URL whole, which replays the IPN by hand, while the page masks the URL's token", async ({ page, context }, testInfo) => {
  const errors = watchErrors(page);
  const shop = await startForgetfulMerchant();
  try {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sb.url });
    const { uid, delivery } = await rejectedDelivery(shop);
    await page.goto(`${sb.url}/_sandbox/?uid=${uid}`);
    const card = page.locator(`#order-${uid}`);
    await card.locator(`details[data-key="order-${uid}"] > summary`).click();
    const item = card.locator(`li#delivery-${delivery.id}`);
    await item.locator(`details[data-key="${delivery.id}"] > summary`).click();
    // On screen, the command with the URL's token masked.
    await expect(item.locator("pre.curl")).toContainText("token=me••••••••42");
    expect(await page.locator("body").innerText()).not.toContain(URL_TOKEN);

    await item.getByRole("link", { name: "copy as curl" }).click();
    await expect(page.locator("#notice")).toHaveText(`Copied ${delivery.id} as curl, its URL whole: paste it in a terminal to send the IPN again by hand`);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied.trim()).toBe(`curl -i '${shop.url}?token=${URL_TOKEN}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary '${delivery.body}'`);

    // Pasted into a shell, it sends the merchant the very request the sandbox sent.
    const before = shop.received.length;
    // Not execFileSync: the merchant answers from this very process.
    const replayed = await promisify(execFile)("sh", ["-c", copied], { encoding: "utf8", timeout: 20_000 }).then((r) => r.stdout);
    expect(replayed).toMatch(/^HTTP\/1\.1 403/);
    const [sent, again] = [shop.received[0]!, shop.received[before]!];
    expect(again.body).toBe(sent.body);
    expect(again.path).toBe(sent.path);
    expect(again.headers["content-type"]).toBe(sent.headers["content-type"]);
    await snap(page, testInfo, "dashboard-curl");
    expect(errors).toEqual([]);
  } finally {
    await shop.close();
  }
});

test("says why a delivery was rejected: the doctor finds the merchant's mistake, with the order's secret unseen", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const shop = await startForgetfulMerchant();
  try {
    const { uid, delivery } = await rejectedDelivery(shop);
    await page.goto(`${sb.url}/_sandbox/?uid=${uid}`);
    await expect(page.locator("#live")).toHaveAttribute("data-live", "true");
    const card = page.locator(`#order-${uid}`);
    await card.locator(`details[data-key="order-${uid}"] > summary`).click();
    const item = card.locator(`li#delivery-${delivery.id}`);
    await item.getByText("why was this rejected?").click();
    // The merchant's hash, as its 403 answer told it; the secret left blank: the order's own is used.
    const theirs = forgetfulHash(new URLSearchParams(delivery.body));
    await item.locator("input[name=hash]").fill(theirs);
    await item.getByRole("button", { name: "Diagnose" }).click();
    const diagnosis = item.locator(".diagnosis-slot section.diagnosis");
    await expect(diagnosis).toHaveAttribute("data-mistakes", "secretLeftOut");
    await expect(diagnosis.locator("p.verdict")).toHaveText("Your hash does not match: the secret was left out (the string ends at the timestamp).");
    await expect(diagnosis.locator("code.expected")).toHaveText(/:me••••••••et$/);
    await expect(diagnosis.locator("dl.strings dt")).toHaveText(["you hashed", "should hash", "its sha256", "your hash"]);
    await expect(diagnosis.locator("dl.strings dd")).toHaveText([/:\d{13}$/, /:me••••••••et$/, delivery.hash, theirs]);
    await expect(diagnosis.locator("p.fix")).toHaveText('Fix: end the string with ":" and your ipnSecret.');
    await snap(page, testInfo, "dashboard-doctor");

    // A live update of the order keeps the answer and what was typed.
    await sb.control("POST", `/orders/${uid}/status`, { status: "deleted" });
    await expect(card.locator(".status")).toHaveText("deleted");
    await expect(diagnosis).toHaveAttribute("data-mistakes", "secretLeftOut");
    await expect(item.locator("input[name=hash]")).toHaveValue(theirs);

    // A secret typed in is used instead, and masked too; the doctor says it is not the order's.
    await item.locator("input[name=secret]").fill("a-secret-typed-in");
    await item.getByRole("button", { name: "Diagnose" }).click();
    await expect(diagnosis.locator("code.expected")).toHaveText(/:a-••••••••in$/);
    await expect(diagnosis).toHaveAttribute("data-mistakes", "secretLeftOut");
    await expect(diagnosis.locator("ul.notes li")).toContainText([`The secret given is not the ipnSecret order ${uid} was created with: leave it blank to use that one.`]);
    const text = await page.locator("body").innerText();
    for (const secret of [IPN_SECRET, "a-secret-typed-in"]) expect(text).not.toContain(secret);
    expect(errors).toEqual([]);
  } finally {
    await shop.close();
  }
});

test.describe("with scripts off", () => {
  test.use({ javaScriptEnabled: false });

  test("the dashboard is a snapshot whose doctor still answers, on a page of its own, and whose curl link opens the command", async ({ page }, testInfo) => {
    const shop = await startForgetfulMerchant();
    try {
      const { uid, delivery } = await rejectedDelivery(shop);
      await page.goto(`${sb.url}/_sandbox/?uid=${uid}`);
      await expect(page.locator("noscript")).toHaveCount(1);
      const card = page.locator(`#order-${uid}`);
      await expect(card.locator("td.ipns")).toHaveText("1 · waitPayment rejected HTTP 403");
      await card.locator(`details[data-key="order-${uid}"] > summary`).click();
      const item = card.locator(`li#delivery-${delivery.id}`);
      await item.getByText("why was this rejected?").click();
      await item.locator("input[name=hash]").fill(forgetfulHash(new URLSearchParams(delivery.body)));
      await item.getByRole("button", { name: "Diagnose" }).click();
      await expect(page).toHaveURL(`${sb.url}/_sandbox/dashboard/deliveries/${delivery.id}/doctor`);
      await expect(page.locator("section.diagnosis")).toHaveAttribute("data-mistakes", "secretLeftOut");
      await snap(page, testInfo, "dashboard-doctor-no-script");
      await page.getByRole("link", { name: "« back to the dashboard" }).click();
      await expect(page).toHaveURL(`${sb.url}/_sandbox/?uid=${uid}#order-${uid}`);

      await page.locator(`#order-${uid} details[data-key="order-${uid}"] > summary`).click();
      await page.locator(`li#delivery-${delivery.id}`).getByRole("link", { name: "copy as curl" }).click();
      await expect(page.locator("body")).toHaveText(`curl -i '${shop.url}?token=${URL_TOKEN}' -H 'Content-Type: application/x-www-form-urlencoded' --data-binary '${delivery.body}'`);
    } finally {
      await shop.close();
    }
  });
});
