// The kit's one browser check: the payment page's "Return to site" button, walked in a real Chromium.

import { existsSync } from "node:fs";
import { importOptional } from "../sandbox/index.js";

export type WalkResult =
  | { kind: "passed"; evidence: string[] }
  | { kind: "failed"; evidence: string[] }
  | { kind: "unavailable"; message: string; hint: string };

/**
 * playwright-core is an optional peer dependency: only the walk needs it, and it is 14 MB that `start`, `run` and the
 * rest of `verify` do without. This is what a user without it is told.
 */
export const PLAYWRIGHT_MISSING =
  "the return-page walk in Chromium needs playwright-core, which is not installed: npm install --save-dev playwright-core (or skip the walk with --no-browser)";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Finds the Chromium to drive: the given path, CHROMIUM_PATH, or Debian's /usr/bin/chromium. */
export function findChromium(given?: string): string | null {
  const candidates = [given, process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => Boolean(p));
  return candidates.find((p) => existsSync(p)) ?? null;
}

export async function walkReturnInBrowser(options: { paymentUrl: string; chromiumPath: string | undefined; timeoutMs: number }): Promise<WalkResult> {
  const executablePath = findChromium(options.chromiumPath);
  if (!executablePath) {
    return {
      kind: "unavailable",
      message: "no Chromium found (looked at --chromium, CHROMIUM_PATH, /usr/bin/chromium)",
      hint: "Install Chromium (Debian: apt-get install -y chromium) or pass --chromium PATH.",
    };
  }
  const playwright = await loadPlaywright();
  if (!playwright) return { kind: "unavailable", message: PLAYWRIGHT_MISSING, hint: "Install playwright-core beside exchanger-sandbox." };
  const { chromium } = playwright;
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const evidence: string[] = [];
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(options.timeoutMs);
    page.on("pageerror", (error) => errors.push(`page error on ${page.url()}: ${error.message}`));
    await page.goto(options.paymentUrl);
    evidence.push(`opened the payment page ${options.paymentUrl.replace(/\/[A-Za-z0-9]{24}\/$/, "/…/")}`);
    const button = page.locator("#return");
    await button.waitFor({ state: "visible" });
    const href = await button.getAttribute("href");
    evidence.push(`Return to site → ${href}`);
    const [response] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), button.click()]);
    const status = response?.status() ?? null;
    evidence.push(`landed on ${page.url()} with HTTP ${status ?? "?"}`);
    // Give the page's own scripts a moment to run (and fail, if they will).
    await page.waitForTimeout(300);
    if (status === null || status >= 500) return { kind: "failed", evidence: [...evidence, ...errors] };
    if (errors.length > 0) return { kind: "failed", evidence: [...evidence, ...errors] };
    return { kind: "passed", evidence: [...evidence, "no page error"] };
  } catch (error) {
    return { kind: "failed", evidence: [...evidence, ...errors, `the walk stopped: ${(error as Error).message.split("\n")[0]}`] };
  } finally {
    await browser.close();
  }
}

/** True when playwright-core can be loaded, so a command can refuse up front instead of after minutes of checks. */
export async function browserWalkAvailable(): Promise<boolean> {
  return (await loadPlaywright()) !== null;
}

/** playwright-core, or null when it is not installed; any other failure to load it is a real error and is thrown. */
function loadPlaywright(): Promise<typeof import("playwright-core") | null> {
  return importOptional("playwright-core", () => import("playwright-core"));
}
