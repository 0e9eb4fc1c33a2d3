#!/usr/bin/env bash
# The Python a statistician's session uses (docs/statistics.md) and the API fuzzer the tests run
# (schemathesis): a virtual environment in .run/python. Idempotent; installs only when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.run/python
stamp="$venv/.requirements"

# CPython 3.11 (up to 3.11.7) and 3.12.0 raise a spurious "SystemError: AST constructor recursion
# depth mismatch" now and then when a thread parses source (CPython gh-106905), which
# hypothesis does under schemathesis: a newer interpreter is used when the machine has one.
pick_python() {
  local candidate
  for candidate in python3.13 python3.12; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12, 1))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[3-9]*/bin/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.[1-9]*/bin/python3; do
    if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
      echo "$candidate"; return
    fi
  done
  command -v python3
}
python=$(pick_python)
# Tests that run a session call this too, several at once: one prepares, the others wait.
mkdir -p .run
exec 9>.run/python.lock
flock 9
wanted="$(cat deploy/python-requirements.txt; "$python" --version 2>&1)"
if [ -x "$venv/bin/python" ] && [ "$wanted" = "$(cat "$stamp" 2>/dev/null)" ]; then
  exit 0
fi
echo "[python] preparing $venv with $("$python" --version 2>&1) (pandas, grpcio, grpcio-tools, schemathesis, aiosmtpd)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/python-requirements.txt
printf '%s' "$wanted" > "$stamp"
