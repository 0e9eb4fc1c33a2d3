#!/usr/bin/env bash
# The dependency policy (deny.toml): licences, banned crates and sources, checked by cargo-deny,
# which this script installs into .run/tools the first time (from crates.io).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
deny=.run/tools/bin/cargo-deny
if ! "$deny" --version 2>/dev/null | grep -q " $version"; then
  echo "[lint-deps] installing cargo-deny $version into .run/tools" >&2
  cargo install --quiet --locked --root .run/tools cargo-deny --version "$version"
fi
"$deny" --log-level error check licenses bans sources
echo "lint-deps: licences, bans and sources pass (deny.toml)"
