// An administrator logs in through the browser, changes the generated password, creates a
// reviewer; the reviewer logs in and cannot reach the administration. Started by
// tests/tests/e2e/browser.rs with CAPTURE_URL, ADMIN_EMAIL and ADMIN_PASSWORD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from './support.mjs';

const base = process.env.CAPTURE_URL;
const adminEmail = process.env.ADMIN_EMAIL;
const adminPassword = process.env.ADMIN_PASSWORD;
const shots = process.env.SCREENSHOT_DIR;

// Fails the test on any console error (a CSP violation shows up there).
function watch(page, problems) {
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
}

async function login(page, email, password) {
  await page.goto(`${base}/ingresar`);
  await page.getByLabel('Correo electrónico').fill(email);
  await page.getByLabel('Contraseña', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Ingresar' }).click();
}

async function changePassword(page, current, next) {
  await page.waitForURL('**/cuenta/contrasena');
  await page.getByLabel('Contraseña actual').fill(current);
  await page.getByLabel('Nueva contraseña', { exact: true }).fill(next);
  await page.getByLabel('Confirme la nueva contraseña').fill(next);
  await page.getByRole('button', { name: 'Cambiar contraseña' }).click();
  await page.getByText('Su contraseña se cambió.').waitFor();
}

test('an admin creates a reviewer in the browser and the reviewer logs in', async () => {
  const browser = await launch();
  const problems = [];
  try {
    const admin = await (await browser.newContext()).newPage();
    watch(admin, problems);
    await login(admin, adminEmail, adminPassword);
    await changePassword(admin, adminPassword, 'frase de la administración 2026');

    await admin.getByRole('link', { name: 'Cuentas' }).click();
    await admin.getByLabel('Correo electrónico', { exact: true }).fill('revisor@navegador.mx');
    await admin.getByLabel('Rol', { exact: true }).selectOption('reviewer');
    await admin.getByRole('button', { name: 'Crear cuenta' }).click();
    await admin.getByText('Se creó la cuenta revisor@navegador.mx.').waitFor();
    const generated = (await admin.locator('code.contrasena').textContent()).trim();
    assert.equal(generated.length, 16);
    if (shots) await admin.screenshot({ path: `${shots}/cuentas.png`, fullPage: true });

    const reviewer = await (await browser.newContext()).newPage();
    watch(reviewer, problems);
    await login(reviewer, 'revisor@navegador.mx', generated);
    await changePassword(reviewer, generated, 'frase de quien revisa 2026');
    await reviewer.goto(`${base}/`);
    await reviewer.locator('#contenido').getByText('Revisión', { exact: true }).waitFor();
    await reviewer.getByRole('link', { name: 'Revisión', exact: true }).waitFor();
    assert.deepEqual(problems, [], 'no console errors so far');
    const refused = await reviewer.goto(`${base}/admin/cuentas`);
    assert.equal(refused.status(), 403);
    await reviewer.getByText('No tiene permiso para ver esta página').waitFor();
    problems.length = 0; // the browser logs the refused document as a failed load

    // The session cookie is host-only, Secure, HttpOnly, SameSite=Strict.
    const cookies = await reviewer.context().cookies();
    const session = cookies.find((c) => c.name === '__Host-conoceles_sesion');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');

    await reviewer.goto(`${base}/`);
    await reviewer.getByRole('button', { name: 'Cerrar sesión' }).click();
    await reviewer.waitForURL('**/ingresar');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
