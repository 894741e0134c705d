// What the browser tests (test/browser/) share: Debian's Chromium driven by playwright-core, the
// two viewport sizes, the screenshot directory and the axe-core check.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export { within } from './within.ts';

export const CHROMIUM = '/usr/bin/chromium';
const AXE = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url));
/** Where the browser tests put their screenshots; created on import. */
export const SCREENSHOTS = fileURLToPath(new URL('../../test-results/screenshots/', import.meta.url));
mkdirSync(SCREENSHOTS, { recursive: true });
export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** `page.evaluate` over a string expression, typed by what it answers. */
export type Evaluate = <T>(fn: string) => Promise<T>;

/** Headless Chromium with the flags every browser test uses; a missing Chromium fails, it does not skip. */
export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install -y chromium): this test does not skip`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Runs axe-core on the page; any serious or critical violation fails, naming `where`. */
export async function assertNoSeriousAxeViolations(page: Page, where: string): Promise<void> {
  await page.addScriptTag({ path: AXE });
  const violations = await (page.evaluate as Evaluate)<Array<{ id: string; impact: string; help: string }>>(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help })))`,
  );
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${where}: axe-core finds serious or critical violations`);
}
