// A party logs in with the credentials the electoral body gave it, fills a candidacy's
// curricular questionnaire, uploads a photo, previews the public profile, submits and sees the
// receipt, answers the identity questionnaire with its consents; a reviewer observes a section, the party fixes it, the reviewer approves. Started by
// tests/tests/e2e/browser.rs with CAPTURE_URL, PARTY_EMAIL, PARTY_PASSWORD, PHOTO_PATH,
// REVIEWER_EMAIL and REVIEWER_PASSWORD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, fitsBothWidths, launch } from './support.mjs';

const base = process.env.CAPTURE_URL;
const shots = process.env.SCREENSHOT_DIR;
const long = Array(60).fill('palabra').join(' ');

async function saveSection(page, title, fill) {
  await page.getByRole('link', { name: title, exact: true }).click();
  await fill();
  await page.getByRole('button', { name: 'Guardar sección' }).click();
  await page.getByText(`Se guardó la sección «${title}».`).waitFor();
}

test('a party captures, previews and submits a candidacy and gets its receipt', async () => {
  const browser = await launch();
  const problems = [];
  try {
    const page = await (await browser.newContext()).newPage();
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));

    await firstSignIn(page, base, process.env.PARTY_EMAIL, process.env.PARTY_PASSWORD, 'frase del partido 2026');

    await page.goto(`${base}/`);
    await page.getByRole('heading', { name: 'Mis candidaturas' }).waitFor();
    await page.getByText('El periodo de captura cierra el').waitFor();
    await page.locator('table a').first().click();
    await page.getByRole('heading', { name: 'Cuestionario curricular' }).waitFor();

    await saveSection(page, 'Datos generales y medios de contacto', async () => {
      await page.getByLabel('Correo electrónico para aclaraciones').fill('aclaraciones@morena.mx');
      await page.getByLabel('Teléfono público 1').fill('844 123 4567');
      await page.getByLabel('Facebook').fill('https://www.facebook.com/candidatura');
    });
    await saveSection(page, 'Escolaridad', async () => {
      await page.getByLabel('Grado máximo de estudios').selectOption('maestria');
      await page.getByLabel('Situación del grado máximo').selectOption('titulado');
    });
    await saveSection(page, 'Trayectoria profesional', async () => {
      await page.getByLabel('Trayectoria profesional').fill(long);
      // The counter (a script allowed by the CSP) counts characters without spaces.
      await page.getByText('420 de 5000 caracteres (sin contar espacios)').waitFor();
    });
    await saveSection(page, 'Trayectoria política y participación ciudadana', async () => {
      await page.getByLabel('Trayectoria política y participación ciudadana').fill(long);
    });
    await saveSection(page, '¿Por qué quiere ocupar un cargo público?', async () => {
      await page.getByLabel('¿Por qué quiere ocupar un cargo público?').fill(long);
    });
    await saveSection(page, 'Propuestas', async () => {
      await page.getByLabel('Propuesta 1').fill(long);
      await page.getByLabel('Propuesta 2').fill(long);
    });
    await saveSection(page, 'Propuesta en materia de género o del grupo que representa', async () => {
      await page.getByLabel('Propuesta', { exact: false }).first().fill(long);
      await page.getByLabel('Población a la que se dirige').fill('Mujeres jóvenes del distrito');
    });

    await page.getByRole('link', { name: 'Fotografía', exact: true }).click();
    await page.getByLabel('Archivo de la fotografía').setInputFiles(process.env.PHOTO_PATH);
    await page.getByLabel('Fecha en que se tomó').fill(new Date().toISOString().slice(0, 10));
    await page.getByRole('button', { name: 'Cargar fotografía' }).click();
    await page.getByText('Se guardó la fotografía.').waitFor();

    // The identity questionnaire: notice, three separate consents, the questions, the
    // verification screen, one final submission with its receipt.
    await page.getByRole('link', { name: 'Cuestionario de identidad' }).click();
    await page.getByRole('heading', { name: 'Aviso de privacidad simplificado' }).waitFor();
    await page.getByText(/declara que lo tiene y el sistema lo registra como una declaración/).waitFor();
    await page.getByLabel(/consiente, por escrito, el tratamiento de sus datos personales sensibles/).check();
    await page.getByLabel(/consiente, por escrito, el uso de sus respuestas en estadísticas/).check();
    for (const id of ['indigenous-no', 'disability-no', 'afro_mexican-no', 'migrant-no',
      'age_group-neither', 'birth_state-05']) {
      await page.locator(`#q-${id}`).check();
    }
    await page.locator('#q-sexual_diversity-declina').check();
    await page.locator('#q-income-declina').check();
    await page.getByRole('button', { name: 'Revisar mis respuestas' }).click();
    await page.getByRole('heading', { name: 'Revise sus respuestas antes de enviar' }).waitFor();
    await page.getByText('Prefiero no contestar').first().waitFor();
    await page.getByRole('button', { name: 'Enviar definitivamente' }).click();
    await page.getByRole('heading', { name: 'Cuestionario de identidad enviado' }).waitFor();
    assert.match((await page.locator('code.huella').textContent()).trim(), /^[0-9a-f]{64}$/);
    await page.goto(page.url().replace(/\/(titular|holder)\/identidad.*$/, ''));
    await page.getByText('enviado').first().waitFor();

    await page.getByRole('link', { name: 'Vista previa y envío' }).click();
    await page.getByRole('heading', { name: 'Vista previa del perfil público' }).waitFor();
    await page.getByText('https://www.facebook.com/candidatura').waitFor();
    assert.equal(await page.getByText('aclaraciones@morena.mx').count(), 0, 'the private email is not shown');
    const photo = page.locator('article.perfil img');
    // The image may still be on its way when the page's heading shows: wait for it to settle.
    await photo.scrollIntoViewIfNeeded();
    const loaded = await photo.evaluate((img) => (img.complete && img.naturalWidth > 0) || new Promise((done) => {
      img.addEventListener('load', () => done(img.naturalWidth > 0), { once: true });
      img.addEventListener('error', () => done(false), { once: true });
      if (img.complete) done(img.naturalWidth > 0);
    }));
    assert.ok(loaded, 'photo loads');
    if (shots) await page.screenshot({ path: `${shots}/vista-previa.png`, fullPage: true });

    // The final submission asks for confirmation and says what cannot be undone.
    await page.getByRole('button', { name: 'Enviar cuestionario definitivo' }).click();
    await page.getByRole('heading', { name: '¿Enviar el cuestionario curricular definitivo?' }).waitFor();
    await page.getByText('No se puede deshacer.').waitFor();
    if (shots) await page.screenshot({ path: `${shots}/confirmar-envio.png`, fullPage: true });
    await page.getByRole('button', { name: 'Sí, enviar el cuestionario definitivo' }).click();
    await page.getByRole('heading', { name: 'Acuse de envío del cuestionario curricular' }).waitFor();
    const hash = (await page.locator('code.huella').textContent()).trim();
    assert.match(hash, /^[0-9a-f]{64}$/);
    if (shots) await page.screenshot({ path: `${shots}/acuse.png`, fullPage: true });

    // Read-only afterwards: the dashboard shows the candidacy as submitted.
    await page.goto(`${base}/captura`);
    await page.getByText('Enviada').first().waitFor();
    const candidacyUrl = await page.locator('table a').first().getAttribute('href');
    const holder = (await page.locator('table tbody tr').first().locator('td').nth(3).textContent()).trim();

    // A reviewer observes one section.
    const reviewer = await (await browser.newContext()).newPage();
    reviewer.on('pageerror', (e) => problems.push(String(e)));
    await reviewer.goto(`${base}/ingresar`);
    await reviewer.getByLabel('Correo electrónico').fill(process.env.REVIEWER_EMAIL);
    await reviewer.getByLabel('Contraseña', { exact: true }).fill(process.env.REVIEWER_PASSWORD);
    await reviewer.getByRole('button', { name: 'Ingresar' }).click();
    await reviewer.waitForURL('**/cuenta/contrasena');
    await reviewer.getByLabel('Contraseña actual').fill(process.env.REVIEWER_PASSWORD);
    await reviewer.getByLabel('Nueva contraseña', { exact: true }).fill('frase de la revisión 2026');
    await reviewer.getByLabel('Confirme la nueva contraseña').fill('frase de la revisión 2026');
    await reviewer.getByRole('button', { name: 'Cambiar contraseña' }).click();
    await reviewer.getByText('Su contraseña se cambió.').waitFor();
    const openInQueue = async () => {
      for (let i = 0; i < 60; i++) {
        await reviewer.goto(`${base}/revision`);
        if (await reviewer.getByRole('link', { name: holder }).count()) break;
        await reviewer.waitForTimeout(500);
      }
      await reviewer.getByRole('link', { name: holder }).click();
    };
    await openInQueue();
    await reviewer.getByRole('heading', { name: /Revisión del envío \(ronda 1\)/ }).waitFor();
    await reviewer.locator('#obs-professional').check();
    await reviewer.locator('#msg-professional').fill('Indique los años de cada cargo.');
    await reviewer.getByRole('button', { name: 'Enviar observaciones' }).click();
    await reviewer.getByRole('heading', { name: 'Envíos por revisar' }).waitFor();

    // The party sees it, fixes that section and submits again.
    for (let i = 0; i < 60; i++) {
      await page.goto(`${base}${candidacyUrl}`);
      if (await page.getByText('Indique los años de cada cargo.').count()) break;
      await page.waitForTimeout(500);
    }
    await page.getByRole('heading', { name: 'Observaciones por atender' }).waitFor();
    await saveSection(page, 'Trayectoria profesional', async () => {
      await page.getByLabel('Trayectoria profesional').fill(`${long} De 2010 a 2020 fui directora.`);
    });
    await page.getByRole('link', { name: 'Vista previa y envío' }).click();
    await page.getByRole('button', { name: 'Enviar cuestionario definitivo' }).click();
    await page.getByRole('button', { name: 'Sí, enviar el cuestionario definitivo' }).click();
    await page.getByRole('heading', { name: 'Acuse de envío del cuestionario curricular' }).waitFor();

    // The reviewer approves the new round; the party sees it approved.
    await openInQueue();
    await reviewer.getByRole('heading', { name: /Revisión del envío \(ronda 2\)/ }).waitFor();
    const reviewPath = new URL(reviewer.url()).pathname;
    await reviewer.getByText('Antes:').first().waitFor();
    await reviewer.getByRole('button', { name: 'Aprobar' }).click();
    await reviewer.getByRole('heading', { name: '¿Aprobar el envío (ronda 2)?' }).waitFor();
    await reviewer.getByRole('button', { name: 'Sí, aprobar' }).click();
    await reviewer.getByRole('heading', { name: 'Envíos por revisar' }).waitFor();
    await reviewer.getByText('Se aprobó el envío.').waitFor();
    for (let i = 0; i < 60; i++) {
      await page.goto(`${base}/captura`);
      if (await page.getByText('Aprobada').count()) break;
      await page.waitForTimeout(500);
    }
    await page.getByText('Aprobada').first().waitFor();
    if (shots) await reviewer.screenshot({ path: `${shots}/revision.png`, fullPage: true });

    // Every page of the party's and the reviewer's journeys fits a laptop and a phone and
    // passes axe.
    const candidacyPath = new URL(candidacyUrl, base).pathname;
    await fitsBothWidths(browser, await page.context().storageState(), base, [
      ['/captura', 'partido-candidaturas'],
      [candidacyPath, 'partido-candidatura'],
      [`${candidacyPath}/titular/datos-generales`, 'partido-seccion'],
      [`${candidacyPath}/titular/foto`, 'partido-foto'],
      [`${candidacyPath}/vista-previa`, 'partido-vista-previa'],
      ['/captura/carga-masiva', 'partido-carga-masiva'],
      ['/ayuda', 'partido-ayuda'],
    ], shots);
    const reviewed = new URL(reviewer.url()).pathname;
    await fitsBothWidths(browser, await reviewer.context().storageState(), base, [
      ['/revision', 'revision-cola'],
      [reviewPath, 'revision-envio'],
      ['/revision?estado=aprobadas', 'revision-aprobadas'],
      ['/ayuda', 'revision-ayuda'],
    ], shots);
    assert.ok(reviewed.startsWith('/revision'), reviewed);
    assert.deepEqual(problems, [], 'no console errors');
  } finally {
    await browser.close();
  }
});
