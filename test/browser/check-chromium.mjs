// Runs before `playwright test`: the browser tests need Debian's Chromium and must fail, not skip, without it.

import { accessSync, constants } from "node:fs";

const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
try {
  accessSync(path, constants.X_OK);
} catch {
  const where = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${path}` : `${path}`;
  process.stderr.write(
    `The browser tests need Chromium, and ${where} is not an executable file.\n` +
      `Install Debian's Chromium:   apt-get update && apt-get install -y chromium\n` +
      `or point at another build:  CHROMIUM_PATH=/path/to/chromium npm run test:browser\n` +
      `(Playwright's own browser download is not used.)\n`,
  );
  process.exit(1);
}
