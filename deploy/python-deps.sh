#!/usr/bin/env bash
# The Python a statistician's session uses (docs/statistics.md) and the API fuzzer the tests run
# (schemathesis): a virtual environment in .run/python. Idempotent; installs only when the requirements change.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.run/python
stamp="$venv/.requirements"
if [ -x "$venv/bin/python" ] && cmp -s deploy/python-requirements.txt "$stamp"; then
  exit 0
fi
echo "[python] preparing $venv (pandas, grpcio, grpcio-tools, schemathesis)" >&2
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r deploy/python-requirements.txt
cp deploy/python-requirements.txt "$stamp"
