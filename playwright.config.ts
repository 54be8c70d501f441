// Playwright runs the browser tests (test/browser/*.spec.ts) in Debian's Chromium: no browser is ever downloaded.
// test/browser/check-chromium.mjs runs first and explains how to install it when it is missing.

import { defineConfig } from "@playwright/test";

const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export default defineConfig({
  testDir: "test/browser",
  testMatch: "*.spec.ts",
  outputDir: "test-results",
  workers: 2,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 30_000,
  expect: { timeout: 5_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    headless: true,
    launchOptions: {
      executablePath,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
    // The specs save a named screenshot of every page they visit; this adds one of the page as it was on failure.
    screenshot: "only-on-failure",
    trace: "off",
  },
});
