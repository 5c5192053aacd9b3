// Headless Chromium for the viewer's tests and benchmark: Debian's /usr/bin/chromium (Playwright's
// own browser download is never used), offline-friendly flags, a fresh profile per launch
// (Playwright's default). Every request the page makes is recorded, to prove it never leaves the
// server it was opened from.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
