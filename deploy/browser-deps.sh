#!/usr/bin/env bash
# What the browser tests need: Debian's Chromium and the npm packages of tests/browser.
# Idempotent; installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "[browser] installing Chromium (Debian package)" >&2
  apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "[browser] installing Node.js and npm (Debian packages)" >&2
  apt_install nodejs npm
fi
observatory=tests/browser/node_modules/@mdn/mdn-http-observatory
if [ ! -d tests/browser/node_modules/playwright-core ] || [ ! -d tests/browser/node_modules/axe-core ] \
   || [ ! -d "$observatory" ]; then
  echo "[browser] installing playwright-core, axe-core and the HTTP Observatory scanner" >&2
  # No install scripts: Chromium is Debian's, and the scanner's would download lists from the
  # internet (the tests need none of them).
  npm ci --prefix tests/browser --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
fi
if ! command -v openssl >/dev/null; then
  echo "[browser] installing openssl (certificates of the local TLS endpoint)" >&2
  apt_install openssl
fi
# The scanner reads Chromium's HSTS preload list; a local site is on none.
[ -f "$observatory/conf/hsts-preload.json" ] || echo '{}' >"$observatory/conf/hsts-preload.json"
