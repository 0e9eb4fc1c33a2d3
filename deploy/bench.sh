#!/usr/bin/env bash
# Benchmarks that exist so far; each prints its figures and the command that reproduces it.
# See docs/benchmarks.md for the latest figures and what is not measured yet.
set -euo pipefail
cd "$(dirname "$0")/.."

bench_db=conoceles_bench_capture
url="postgres://conoceles:conoceles@127.0.0.1:5432/$bench_db"
psql_admin() { psql -X -q -h 127.0.0.1 -U conoceles -d postgres "$@"; }

cargo build --release -p conoceles-capture --bin conoceles-capture
echo
echo "== Candidacy import, national scale (100,000 rows) =="
echo "   reproduce: make bench   (or: DATABASE_URL=$url target/release/conoceles-capture bench-import 100000)"
PGPASSWORD=conoceles psql_admin -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)"
DATABASE_URL="$url" RUST_LOG=warn target/release/conoceles-capture bench-import 100000
PGPASSWORD=conoceles psql_admin -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)"
echo
echo "Not measured yet (their issues add them): public pages and API against an nginx baseline,"
echo "overload, pipeline latency, statistics, logins per second, memory."
