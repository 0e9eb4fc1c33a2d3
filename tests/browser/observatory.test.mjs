// The MDN HTTP Observatory's scan of both fronts, each behind a local TLS endpoint (as an
// ingress terminates TLS in production): every test of the scanner passes and the grade is A+.
// The endpoint forwards requests and answers verbatim: every header the scanner grades comes
// from the services themselves. Run by tests/tests/e2e/hostile.rs with SITE_URL and CAPTURE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import https from 'node:https';
import http from 'node:http';

const require = createRequire(import.meta.url);
const scanner = join(
  require.resolve('@mdn/mdn-http-observatory/package.json'), '..', 'src', 'scan.js');

// A throw-away certificate authority and a certificate for localhost signed by it.
function certificates(dir) {
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Conoceles test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', 'localhost.key', '-out', 'localhost.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'localhost.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' +
    'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n');
  run('x509', '-req', '-in', 'localhost.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-out', 'localhost.pem', '-days', '1', '-extfile', 'localhost.ext');
  return {
    ca: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'localhost.key')),
    cert: readFileSync(join(dir, 'localhost.pem')),
  };
}

// HTTPS on a free port of 127.0.0.1, forwarding to `upstream` (plain HTTP) unchanged.
function tlsEndpoint(upstream, { key, cert }) {
  const target = new URL(upstream);
  const server = https.createServer({ key, cert }, (request, response) => {
    const forwarded = http.request({
      host: target.hostname, port: target.port, method: request.method,
      path: request.url, headers: request.headers,
    }, (answer) => {
      response.writeHead(answer.statusCode, answer.rawHeaders);
      answer.pipe(response);
    });
    forwarded.on('error', () => { response.writeHead(502); response.end(); });
    request.pipe(forwarded);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function scan(host, ca) {
  return new Promise((resolve, reject) => {
    execFile('node', [scanner, host], { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca } },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${error.message}\n${stdout}\n${stderr}`));
        resolve(JSON.parse(stdout));
      });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'conoceles-observatory-'));
const pki = certificates(dir);

for (const [name, upstream] of [['public site', process.env.SITE_URL],
  ['capture front', process.env.CAPTURE_URL]]) {
  test(`the ${name} scores A+ in the HTTP Observatory`, async () => {
    assert.ok(upstream, 'SITE_URL and CAPTURE_URL name the fronts');
    const server = await tlsEndpoint(upstream, pki);
    try {
      const result = await scan(`localhost:${server.address().port}`, pki.ca);
      assert.equal(result.scan.error, null, JSON.stringify(result.scan));
      const failed = Object.entries(result.tests)
        .filter(([, t]) => !t.pass || t.scoreModifier < 0)
        .map(([id, t]) => `${id}: ${t.result} (${t.scoreModifier})`);
      console.log(`${name}: grade ${result.scan.grade}, score ${result.scan.score}, ` +
        `${result.scan.testsPassed}/${result.scan.testsQuantity} tests passed`);
      assert.deepEqual(failed, [], `tests that failed or cost points`);
      assert.equal(result.scan.grade, 'A+');
    } finally {
      server.close();
    }
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));
