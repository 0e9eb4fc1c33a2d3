// The unit's admin gives people their accounts and each uses their own pages: it creates the
// parity reviewer's account (the password shown once), issues a party's credential sheet
// (after a confirmation that says the earlier passwords stop working) and reads a
// candidate's readable login name on it; the candidate signs in to their own account and
// finds the identity questionnaire's consents in the first person; the parity reviewer signs
// in and follows the identity questionnaire's progress. Every page at a laptop's and a
// phone's width, passing axe. Started by tests/tests/e2e/browser.rs with CAPTURE_URL,
// ACCOUNTS_EMAIL, ACCOUNTS_PASSWORD, SHEET_PARTY and SHEET_PARTY_NAME (a party whose accounts no other journey
// uses), after the demo is seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstSignIn, fitsBothWidths, launch } from './support.mjs';

const base = process.env.CAPTURE_URL;
const shots = process.env.SCREENSHOT_DIR;

test('the unit gives a parity reviewer and a candidate their accounts, and each uses their own pages', async () => {
  const browser = await launch();
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(String(e)));
    return page;
  };
  try {
    const admin = watch(await (await browser.newContext()).newPage());
    await firstSignIn(admin, base, process.env.ACCOUNTS_EMAIL, process.env.ACCOUNTS_PASSWORD, 'frase de las cuentas 2027');

    // The parity reviewer's account: its password is shown once.
    await admin.goto(`${base}/admin/cuentas`);
    await admin.getByLabel('Correo electrónico', { exact: true }).fill('paridad@navegador.mx');
    await admin.getByLabel('Rol', { exact: true }).selectOption({ label: 'Revisión de paridad' });
    await admin.getByRole('button', { name: 'Crear cuenta' }).click();
    await admin.getByText('Se creó la cuenta paridad@navegador.mx.').waitFor();
    const parityPassword = (await admin.locator('code.contrasena').textContent()).trim();
    assert.ok(parityPassword.length >= 12, parityPassword);
    // A candidacy's key that does not exist is refused in Spanish, the form kept as typed.
    await admin.getByLabel('Correo electrónico', { exact: true }).fill('nadie@navegador.mx');
    await admin.getByLabel('Rol', { exact: true }).selectOption({ label: 'Persona candidata' });
    await admin.getByLabel(/Clave de registro de la candidatura/).fill('NO-EXISTE-1');
    await admin.getByRole('button', { name: 'Crear cuenta' }).click();
    await admin.getByText('No hay una candidatura con la clave de registro «NO-EXISTE-1» en la elección en curso.').waitFor();
    assert.equal(await admin.getByLabel('Correo electrónico', { exact: true }).inputValue(), 'nadie@navegador.mx');

    // The party's credential sheet: a confirmation first, then readable login names.
    await admin.goto(`${base}/admin/credenciales`);
    const party = admin.locator('section.partido', {
      has: admin.getByRole('heading', { name: process.env.SHEET_PARTY_NAME, exact: true }),
    });
    await party.getByRole('button', { name: 'Emitir hoja para imprimir' }).click();
    await admin.getByText('No se puede deshacer.').waitFor();
    await admin.getByRole('button', { name: 'Sí, emitir la hoja' }).click();
    await admin.getByRole('heading', { name: 'Hoja de credenciales' }).waitFor();
    if (shots) await admin.screenshot({ path: `${shots}/hoja-credenciales.png`, fullPage: true });
    const credential = admin.locator('section.credencial')
      .filter({ hasNot: admin.getByRole('heading', { name: /^Cuenta del partido/ }) }).first();
    const user = (await credential.locator('dd').first().textContent()).trim();
    const password = (await credential.locator('code.contrasena').textContent()).trim();
    const code = process.env.SHEET_PARTY.toLowerCase();
    assert.match(user, new RegExp(`^${code}\\.[a-z0-9-]+\\.[a-z0-9-]+(\\.\\d+)?@`), user);
    await fitsBothWidths(browser, await admin.context().storageState(), base, [
      ['/admin/cuentas', 'admin-cuentas'],
      ['/admin/cuentas?q=paridad', 'admin-cuentas-busqueda'],
      ['/admin/credenciales', 'admin-credenciales'],
      ['/admin/candidaturas', 'admin-candidaturas'],
      ['/admin/importar', 'admin-importar'],
      ['/admin/eleccion', 'admin-eleccion'],
      ['/admin/catalogos', 'admin-catalogos'],
      ['/admin/avisos', 'admin-avisos'],
      ['/ayuda', 'admin-ayuda'],
    ], shots);

    // The candidate, in their own account: their candidacy, and consents in the first person.
    const candidate = watch(await (await browser.newContext()).newPage());
    await firstSignIn(candidate, base, user, password, 'frase de la candidatura 2027');
    await candidate.goto(`${base}/`);
    await candidate.getByRole('heading', { name: 'Mis candidaturas' }).waitFor();
    assert.equal(await candidate.locator('table tbody tr').count(), 1, 'only their own candidacy');
    await candidate.locator('table a').first().click();
    await candidate.getByRole('heading', { name: 'Cuestionario curricular' }).waitFor();
    const candidacyPath = new URL(candidate.url()).pathname;
    await candidate.getByRole('link', { name: 'Cuestionario de identidad' }).click();
    await candidate.getByText(/desde su propia cuenta; se registran así/).waitFor();
    await candidate.getByLabel(/^Consiento el tratamiento de mis datos personales sensibles/).waitFor();
    const identityPath = new URL(candidate.url()).pathname;
    await fitsBothWidths(browser, await candidate.context().storageState(), base, [
      ['/captura', 'candidata-candidaturas'],
      [candidacyPath, 'candidata-candidatura'],
      [`${candidacyPath}/titular/datos-generales`, 'candidata-seccion'],
      [`${candidacyPath}/titular/foto`, 'candidata-foto'],
      [identityPath, 'candidata-identidad'],
      [`${candidacyPath}/vista-previa`, 'candidata-vista-previa'],
      ['/ayuda', 'candidata-ayuda'],
    ], shots);

    // The parity reviewer: the identity questionnaire's progress, no one's answers.
    const parity = watch(await (await browser.newContext()).newPage());
    await firstSignIn(parity, base, 'paridad@navegador.mx', parityPassword, 'frase de la paridad 2027');
    await parity.goto(`${base}/`);
    await parity.getByRole('link', { name: 'Cuestionario de identidad' }).first().click();
    await parity.getByRole('heading', { name: 'Avance del cuestionario de identidad' }).waitFor();
    assert.equal((await parity.goto(`${base}/admin/cuentas`)).status(), 403, 'the parity reviewer manages no accounts');
    await fitsBothWidths(browser, await parity.context().storageState(), base, [
      ['/', 'paridad-inicio'],
      ['/revision/identidad', 'paridad-identidad'],
      ['/ayuda', 'paridad-ayuda'],
    ], shots);
    // The refusals the journey provokes on purpose (a key that does not exist, a page not theirs).
    assert.deepEqual(problems.filter((p) => !/status of (403|422)/.test(p)), [], 'no console errors');
  } finally {
    await browser.close();
  }
});
