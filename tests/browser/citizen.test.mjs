// A citizen picks a district, opens a profile, compares two candidates of one contest, reads the
// statistics and downloads the open data; every public page is checked with axe-core (no
// serious or critical WCAG 2.2 AA violation). Started by tests/tests/e2e/browser.rs with SITE_URL,
// after the demo's questionnaires were submitted and approved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, launch } from './support.mjs';

const site = process.env.SITE_URL;

test('a citizen finds who runs where they vote, compares, and downloads the data', async () => {
  const browser = await launch();
  const problems = [];
  try {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(String(e)));

    await page.goto(`${site}/`);
    await page.getByRole('heading', { name: 'Conoce a quién compite donde votas' }).waitFor();
    await accessible(page, 'home');
    const district = page.getByLabel('Tu distrito o circunscripción');
    const options = await district.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(options.length > 0, 'districts to choose from');
    // The demo leaves some candidacies unpublished (every seventh, by holder, district and party):
    // the first district, through the form, that lists two candidacies to compare.
    const boxes = page.getByLabel(/^Comparar a /);
    let chosen = null;
    for (const option of options) {
      if (page.url() !== `${site}/`) await page.goto(`${site}/`);
      await district.selectOption(option);
      await page.getByRole('button', { name: 'Ver candidaturas' }).click();
      await page.waitForURL(/\/candidaturas\?/);
      if (await boxes.count() >= 2) { chosen = option; break; }
    }
    assert.ok(chosen, 'a district with at least two candidacies');
    await accessible(page, 'list');
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole('button', { name: /Comparar/ }).click();
    await page.waitForURL(/\/comparar\?/);
    await accessible(page, 'comparison');
    assert.equal(await page.locator('table thead th[scope="col"]').count() >= 3, true, 'two candidates side by side');

    await page.goto(`${site}/candidaturas?distrito=${encodeURIComponent(chosen)}`);
    await page.locator('main a[href^="/candidaturas/"]').first().click();
    await page.waitForURL(/\/candidaturas\/[0-9a-f-]+$/);
    await page.getByText('Huella SHA-256').waitFor();
    // Light on a phone's data plan: the page under 50 KB, its photo under 40 KB as shown.
    const profileHtml = await page.request.get(page.url(), { headers: { 'accept-encoding': 'identity' } });
    assert.ok((await profileHtml.body()).length < 50 * 1024, 'the profile\'s HTML is under 50 KB');
    const photoSrc = await page.locator('main img[src^="/fotos/"]').first().getAttribute('src');
    const photo = await page.request.get(`${site}${photoSrc}`);
    assert.ok((await photo.body()).length < 40 * 1024, `the photo ${photoSrc} is under 40 KB`);
    // The institutional header: the body's name and emblem, the postulant's emblem.
    assert.ok(await page.locator('header .institucion .marca a').textContent(), 'the body or the site named');
    await accessible(page, 'profile');

    await page.goto(`${site}/estadisticas`);
    await page.getByRole('heading', { name: 'Avance de la captura por postulante' }).waitFor();
    await accessible(page, 'statistics');

    await page.goto(`${site}/datos`);
    await accessible(page, 'open data');
    const csv = await page.request.get(`${site}/datos/candidaturas.csv`);
    assert.equal(csv.status(), 200);
    const text = await csv.text();
    assert.ok(text.startsWith('ID_CANDIDATURA,ID_PERSONA,PARTIDO_COALICION,CARGO'), 'the CSV header');
    assert.ok(text.split('\r\n').length > 3, 'rows of published candidacies');
    assert.ok(text.includes(',SUPLENTE,'), 'the alternates have rows of their own');
    const spreadsheet = await page.request.get(`${site}/datos/candidaturas-excel.csv`);
    assert.equal(spreadsheet.status(), 200);
    const bytes = await spreadsheet.body();
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'the spreadsheet variant starts with the BOM');
    assert.equal(bytes.subarray(3).toString('utf8'), text, 'the same rows');
    assert.deepEqual(problems, [], 'no page errors');
  } finally {
    await browser.close();
  }
});

// Every public page, on a phone and on a desktop: nothing wider than the screen (no sideways
// scrolling), no serious or critical accessibility violation; with SCREENSHOT_DIR, each page
// saved for review.
test('every public page fits a phone and a desktop and passes axe', async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    // Paths found through the site itself: a profile, a registered candidacy without a
    // published version, a municipality, a sección of the catalog.
    await page.goto(`${site}/candidaturas`);
    const published = await page.locator('li.tarjeta:not(.sin-publicar) h3 a').first().getAttribute('href');
    const pending = await page.locator('li.tarjeta.sin-publicar h3 a').first().getAttribute('href').catch(() => null);
    const compared = await page.locator('li.tarjeta input[name=ids]').evaluateAll(
      (boxes) => boxes.slice(0, 1).map((b) => `ids=${b.value}`).join('&'));
    await page.goto(`${site}/donde-voto`);
    const municipality = await page.locator('ul.municipios a').first().getAttribute('href');
    await page.goto(`${site}/donde-voto?seccion=1`);
    const ballot = new URL(page.url()).pathname;
    // [name of the screenshot, path]
    const paths = [
      ['inicio', '/'], ['donde-voto', '/donde-voto'], ['donde-voto-error', '/donde-voto?seccion=12a'],
      ['municipio', municipality], ['boleta', ballot], ['candidaturas', '/candidaturas'],
      ['distrito-13', '/candidaturas?distrito=13'], ['busqueda-municipio', '/candidaturas?q=torreon'],
      ['perfil', published], ['registro', pending], ['comparar', `/comparar?${compared}`],
      ['ayuntamientos', '/ayuntamientos'], ['estadisticas', '/estadisticas'], ['datos', '/datos'],
      ['no-encontrada', '/no-existe'],
    ].filter(([, path]) => path);
    const screenshots = process.env.SCREENSHOT_DIR;
    for (const [width, height] of [[390, 844], [1366, 900]]) {
      await page.setViewportSize({ width, height });
      for (const [name, path] of paths) {
        await page.goto(`${site}${path}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${path} at ${width} px is ${overflow} px wider than the screen`);
        await accessible(page, `${path} at ${width} px`);
        if (screenshots) {
          await page.screenshot({ path: `${screenshots}/sitio-${name}-${width}.png`, fullPage: true });
        }
      }
    }
  } finally {
    await browser.close();
  }
});

// Comparing: a whole contest from the ballot, one card per candidacy on a phone; a selection
// from two contests is kept, grouped by contest, each group comparable.
test('a citizen compares a whole contest on a phone and recovers from mixing contests', async () => {
  const browser = await launch();
  try {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${site}/donde-voto?seccion=1`);
    await page.getByRole('link', { name: 'Comparar toda la contienda' }).first().click();
    await page.getByRole('heading', { name: 'Comparar candidaturas', level: 1 }).waitFor();
    const cards = page.locator('.comparar-tarjetas section');
    assert.ok(await cards.count() >= 1, 'one card per candidacy');
    assert.ok(await cards.first().isVisible(), 'the cards show on a phone');
    assert.equal(await page.locator('.tabla-desplazable.comparacion').isVisible(), false, 'the wide table does not');
    await accessible(page, 'comparación en teléfono');

    // Two candidacies of different contests: not a dead end.
    await page.goto(`${site}/candidaturas`);
    const boxes = page.locator('li.tarjeta input[name=ids]');
    // Under the party's line, «Cargo [· lugar n] · Distrito»: the contest is the office and the
    // constituency.
    const contests = await page.locator('li.tarjeta:not(.sin-publicar) > p.postula + p').allTextContents();
    const contest = (text) => { const parts = text.split(' · '); return `${parts[0]}|${parts[parts.length - 1]}`; };
    const other = contests.findIndex((c) => contest(c) !== contest(contests[0]));
    assert.ok(other > 0, 'the list holds two contests');
    await boxes.nth(0).check();
    await boxes.nth(other).check();
    await page.getByRole('button', { name: /Comparar las elegidas/ }).click();
    await page.getByRole('heading', { name: 'Eligió candidaturas de contiendas distintas' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Comparar esta candidatura' }).count(), 2, 'each contest comparable');
    await accessible(page, 'comparación de contiendas distintas');
  } finally {
    await browser.close();
  }
});
