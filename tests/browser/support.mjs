// What the browser journeys share: Chromium launched as the machine runs it, and the axe-core
// check (no serious or critical WCAG 2.2 AA violation).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axePath = require.resolve('axe-core/axe.min.js');

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  });
}

// axe is injected as a script: the site's CSP (rightly) forbids that, so pages checked with it
// are opened in a context with `bypassCSP`.
export async function accessible(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
  }));
  const serious = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  assert.deepEqual(serious, [], `${name} has accessibility violations`);
}

// Signs in to the capture front with generated credentials and sets a new password, as the
// front asks at the first sign-in.
export async function firstSignIn(page, base, email, password, next) {
  await page.goto(`${base}/ingresar`);
  await page.getByLabel('Correo electrónico').fill(email);
  await page.getByLabel('Contraseña', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Ingresar' }).click();
  await page.waitForURL('**/cuenta/contrasena');
  await page.getByLabel('Contraseña actual').fill(password);
  await page.getByLabel('Nueva contraseña', { exact: true }).fill(next);
  await page.getByLabel('Confirme la nueva contraseña').fill(next);
  await page.getByRole('button', { name: 'Cambiar contraseña' }).click();
  await page.getByText('Su contraseña se cambió.').waitFor();
}

// Opens each page as the signed-in person of `storageState` at a laptop's and a phone's width:
// nothing wider than the screen (tables scroll inside themselves), axe passes, and a
// screenshot `<name>-<width>.png` is saved for review. `pages` is a list of [path, name].
export async function fitsBothWidths(browser, storageState, base, pages, shots) {
  for (const width of [1366, 390]) {
    const context = await browser.newContext({
      storageState, bypassCSP: true, viewport: { width, height: width === 390 ? 844 : 900 },
    });
    const page = await context.newPage();
    for (const [path, name] of pages) {
      const response = await page.goto(`${base}${path}`);
      assert.ok(response.ok(), `${path} answers ${response.status()}`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      const widest = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table'))
        .slice(0, 3).map((e) => `${e.tagName}.${e.className} ${e.textContent.slice(0, 40)}`));
      assert.ok(overflow <= 1, `${path} is ${overflow}px wider than ${width}px: ${widest.join(' | ')}`);
      await accessible(page, `${path} at ${width}px`);
      if (shots) await page.screenshot({ path: `${shots}/${name}-${width}.png`, fullPage: true });
    }
    await context.close();
  }
}
