// The unit's screens for the parties' requirements and the final report, as the unit uses them:
// it registers a party's address, issues the requirements, opens one and prints it, produces the
// final report; at a desktop width and a
// phone's, each page passing axe. Started by tests/tests/e2e/browser.rs with CAPTURE_URL,
// UNIT_EMAIL and UNIT_PASSWORD, after the demo is seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessible, firstSignIn, launch } from './support.mjs';

const base = process.env.CAPTURE_URL;
const shots = process.env.SCREENSHOT_DIR;

test('the unit registers a party address, issues the requirements and prints one', async () => {
  const browser = await launch();
  const problems = [];
  try {
    const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push(String(e)));
    await firstSignIn(page, base, process.env.UNIT_EMAIL, process.env.UNIT_PASSWORD, 'frase de la unidad 2027');

    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Requerimientos a los partidos' }).click();
    await page.getByRole('heading', { name: 'Requerimientos a los partidos' }).waitFor();
    await page.getByRole('link', { name: 'Correos a los partidos' }).click();

    await page.getByLabel('Partido o candidatura independiente').selectOption({ label: 'Morena' });
    await page.getByLabel('Correo electrónico').fill('representacion@morena.org.mx');
    await page.getByRole('button', { name: 'Registrar el correo' }).click();
    await page.getByText('Se registró el correo.').waitFor();
    await page.getByRole('cell', { name: 'representacion@morena.org.mx', exact: true }).waitFor();
    await accessible(page, 'the parties\' addresses');

    await page.goto(`${base}/admin/requerimientos`);
    // The default deadline is a date three business days ahead, already filled in.
    assert.match(await page.getByLabel('Plazo para atender').inputValue(), /^\d{4}-\d{2}-\d{2}$/);
    await accessible(page, 'the requirements');
    if (shots) await page.screenshot({ path: `${shots}/requerimientos-1366.png`, fullPage: true });
    await page.getByRole('button', { name: /^Generar y enviar los requerimientos/ }).click();
    await page.getByText(/Se generaron \d+ requerimientos/).waitFor();
    await page.getByRole('link', { name: /^UT\/REQ\/\d{4}\/0001$/ }).click();
    await page.getByRole('heading', { name: /^Requerimiento UT\/REQ\// }).waitFor();
    await page.getByText('Huella SHA-256 del contenido guardado').waitFor();
    await accessible(page, 'a requirement');
    if (shots) await page.screenshot({ path: `${shots}/requerimiento-1366.png`, fullPage: true });

    // Printed: no navigation, no links back, only the requirement.
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.encabezado').isVisible(), false);
    assert.equal(await page.getByText('Para obtener el PDF').isVisible(), false);
    assert.equal(await page.getByRole('heading', { name: /^Requerimiento/ }).isVisible(), true);
    await page.emulateMedia({ media: 'screen' });

    // The curricular questionnaire's own fields: a definition that drops a field of the
    // Lineamientos is refused with the field named (the journey stores none: the party's
    // journey runs beside it).
    await page.goto(`${base}/admin/cuestionario-curricular`);
    await page.getByText('Versión en uso:').waitFor();
    await accessible(page, 'the curricular definition');
    await page.getByLabel('Nueva versión de los campos propios (JSON)').fill('{"sections": [{"id": "general", "fields": []}]}');
    await page.getByRole('button', { name: 'Guardar como versión nueva' }).click();
    await page.getByText(/Falta el campo «Correo electrónico para aclaraciones»/).waitFor();
    if (shots) await page.screenshot({ path: `${shots}/cuestionario-curricular-1366.png`, fullPage: true });

    // The final report: every table named in Spanish, each chart followed by its table.
    await page.goto(`${base}/admin/informes`);
    if (shots) await page.screenshot({ path: `${shots}/informes-1366.png`, fullPage: true });
    await page.getByLabel('Informe final e incumplimiento').check();
    await page.getByRole('button', { name: 'Generar y guardar el informe' }).click();
    await page.getByRole('heading', { name: 'Informe final de la captura y de incumplimiento' }).waitFor();
    await page.getByRole('heading', { name: 'Sustituciones por postulante y cargo' }).waitFor();
    await page.getByRole('heading', { name: 'Perfil curricular: escolaridad por cargo' }).waitFor();
    const figures = await page.locator('figure').count();
    const followed = await page.locator('figure + table').count();
    assert.equal(followed, figures, 'every chart has its table under it');
    assert.equal(await page.getByText('diputacion_mr').count(), 0);
    await accessible(page, 'the final report');
    if (shots) await page.screenshot({ path: `${shots}/informe-final-1366.png` });

    const report = new URL(page.url()).pathname;

    // The public site's presentation: a pale colour is refused with its contrast, an SVG emblem
    // with a script is taken as a clean PNG.
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'presentación del sitio público y emblemas' }).click();
    await page.getByRole('heading', { name: 'Presentación del sitio público' }).waitFor();
    await accessible(page, 'the site\'s presentation');
    await page.getByLabel('Color institucional').fill('#ffd700');
    await page.getByRole('button', { name: 'Guardar', exact: true }).click();
    await page.getByText(/se necesita al menos 4\.5 a 1/).waitFor();
    await page.getByLabel('Archivo del emblema de Morena').setInputFiles({
      name: 'morena.svg',
      mimeType: 'image/svg+xml',
      buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><script>alert(1)</script><rect width="40" height="20" fill="#8a1538"/></svg>'),
    });
    await page.getByRole('button', { name: 'Cargar emblema de Morena' }).click();
    await page.getByText('Se guardó el emblema de Morena.').waitFor();
    const src = await page.getByAltText('Emblema actual de Morena').getAttribute('src');
    assert.match(src, /^data:image\/png;base64,/);
    if (shots) await page.screenshot({ path: `${shots}/presentacion-sitio-1366.png`, fullPage: true });

    // On a phone the pages fit their width (tables scroll inside themselves).
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [path, name] of [['/admin/requerimientos', 'requerimientos'], ['/admin/correos', 'correos'], [report, 'informe-final'], ['/admin/sitio', 'presentacion-sitio']]) {
      await page.goto(`${base}${path}`);
      if (shots) await page.screenshot({ path: `${shots}/${name}-390.png`, fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      const widest = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table'))
        .slice(0, 3).map((e) => `${e.tagName}.${e.className} ${e.textContent.slice(0, 40)}`));
      assert.ok(overflow <= 1, `${path} is ${overflow}px wider than the phone: ${widest.join(' | ')}`);
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
