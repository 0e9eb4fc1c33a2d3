// A citizen of a municipality finds its ayuntamiento's slates: each postulant's slate complete,
// in ballot order (presidencia, sindicaturas, regidurías in number order), the slates side by
// side, on a phone as on a desktop; every page checked with axe-core (no serious or critical
// WCAG 2.2 AA violation). Started by tests/tests/e2e/municipal.rs with SITE_URL, after the
// Sonora-like demo's questionnaires were submitted and approved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, firstSignIn, launch } from './support.mjs';

const site = process.env.SITE_URL;

// «Presidencia municipal» 0, «Sindicatura n» 1, «Regiduría n» 2: the ballot's order.
function ballotKey(label) {
  if (label.startsWith('Presidencia')) return [0, 0];
  const n = Number(label.split(' ').pop());
  return [label.startsWith('Sindicatura') ? 1 : 2, n];
}

for (const [width, height] of [[1366, 900], [390, 844]]) {
  test(`a citizen reads the slates of their ayuntamiento at ${width} px`, async () => {
    const browser = await launch();
    const problems = [];
    try {
      const context = await browser.newContext({ bypassCSP: true, viewport: { width, height } });
      const page = await context.newPage();
      page.on('pageerror', (e) => problems.push(String(e)));

      await page.goto(`${site}/`);
      await page.getByRole('link', { name: 'Vea las planillas completas de su municipio' }).click();
      await page.getByRole('heading', { name: 'Ayuntamientos', level: 1 }).waitFor();
      await accessible(page, 'ayuntamientos');
      await page.getByRole('link', { name: 'Hermosillo' }).click();
      await page.getByRole('heading', { name: 'Ayuntamiento de Hermosillo' }).waitFor();
      await accessible(page, 'ayuntamiento');

      // Every slate in ballot order; the page fits the screen (no sideways scrolling).
      const slates = page.locator('section.planilla');
      const count = await slates.count();
      assert.ok(count >= 4, `slates and lists shown (${count})`);
      for (let i = 0; i < count; i += 1) {
        const labels = await slates.nth(i).locator('.posicion').allTextContents();
        if (labels[0].startsWith('Lugar')) continue;
        const keys = labels.map(ballotKey);
        const sorted = [...keys].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        assert.deepEqual(keys, sorted, `ballot order in slate ${i + 1}: ${labels.join(', ')}`);
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `the page is ${overflow} px wider than the screen`);
      if (process.env.SCREENSHOT_DIR) {
        await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/ayuntamiento-${width}.png`, fullPage: true });
      }

      // Side by side: one row per position, one column per slate.
      await page.getByRole('link', { name: 'Comparar las planillas lado a lado' }).click();
      await page.getByRole('heading', { name: 'Planillas de Hermosillo, lado a lado' }).waitFor();
      await accessible(page, 'comparar planillas');
      const header = await page.locator('thead th').allTextContents();
      assert.ok(header.length - 1 >= 4, `a column per slate: ${header.join(', ')}`);
      const rows = await page.locator('tbody th[scope=row]').allTextContents();
      assert.equal(rows[0], 'Presidencia municipal');
      assert.ok(rows.includes('Sindicatura 1') && rows.includes('Regiduría 8'), rows.join(', '));

      // A profile from the slate says which position it holds.
      await page.locator('tbody a').first().click();
      await page.waitForURL(/\/candidaturas\//);
      await page.getByText(/Presidencia municipal · Hermosillo/).first().waitFor();

      // «¿Dónde voto?»: a mistyped sección is said next to the field, the typed text kept; the
      // right one opens the ballot of every contest of that place, which fits the screen.
      await page.getByRole('link', { name: '¿Dónde voto?' }).click();
      await page.getByLabel('Sección', { exact: true }).fill('21l');
      await page.getByRole('button', { name: 'Ver mi boleta' }).click();
      await page.getByText('La sección se escribe solo con números', { exact: false }).first().waitFor();
      assert.equal(await page.getByLabel('Sección', { exact: true }).inputValue(), '21l');
      await accessible(page, 'dónde voto con error');
      await page.getByLabel('Sección', { exact: true }).fill('0211');
      await page.getByRole('button', { name: 'Ver mi boleta' }).click();
      await page.getByRole('heading', { name: 'Mi boleta: sección 211', level: 1 }).waitFor();
      await accessible(page, 'mi boleta');
      const contests = await page.locator('section.contienda h2').allTextContents();
      assert.deepEqual(contests.slice(0, 3), [
        'Diputación local de mayoría relativa · Distrito 05 (Hermosillo)',
        'Diputación local de representación proporcional',
        'Ayuntamiento de Hermosillo',
      ]);
      const ballotOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(ballotOverflow <= 1, `the ballot is ${ballotOverflow} px wider than the screen`);
      if (process.env.SCREENSHOT_DIR) {
        await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/boleta-${width}.png`, fullPage: true });
      }
      await page.getByRole('link', { name: 'Hermosillo', exact: true }).click();
      await page.getByRole('heading', { name: 'Municipio de Hermosillo' }).waitFor();
      await accessible(page, 'municipio');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
    }
  });
}

// The party captures its ayuntamiento slates as units: the dashboard groups each slate in
// ballot order with its progress, and links the bulk template of that municipality alone.
test('a party sees each of its slates as a unit and downloads one municipality\'s template', async (t) => {
  const base = process.env.CAPTURE_URL;
  if (!base) return t.skip('CAPTURE_URL not given');
  const browser = await launch();
  const problems = [];
  try {
    const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    page.on('pageerror', (e) => problems.push(String(e)));
    await firstSignIn(page, base, process.env.PARTY_EMAIL, process.env.PARTY_PASSWORD, 'frase del partido para 2027');

    await page.goto(`${base}/captura`);
    const slate = page.locator('section.planilla', { has: page.getByRole('heading', { name: 'Planilla de Morena en Hermosillo' }) });
    await slate.waitFor();
    const positions = await slate.locator('tbody tr td:first-child').allTextContents();
    assert.deepEqual(positions.map((p) => p.trim()), ['Presidencia municipal', 'Sindicatura 1',
      ...Array.from({ length: 8 }, (_, i) => `Regiduría ${i + 1}`)]);
    await slate.getByText(/de 10 posiciones enviadas/).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the dashboard is ${overflow} px wider than the phone`);
    if (process.env.SCREENSHOT_DIR) {
      await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/planillas-partido-390.png`, fullPage: true });
    }
    const link = slate.getByRole('link', { name: /Plantilla de carga masiva de este municipio/ });
    const template = await page.request.get(new URL(await link.getAttribute('href'), base).href);
    assert.equal(template.status(), 200);
    const rows = (await template.text()).trim().split('\n').slice(1);
    assert.ok(rows.length > 0 && rows.every((r) => /,(titular|suplente),/.test(r)), 'one row per person');
    assert.ok(rows.some((r) => r.includes(',Sindicatura 1,')), 'positions named as on the ballot');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
