#!/usr/bin/env bash
# make fuzz: each cargo-fuzz target (fuzz/fuzz_targets) runs for FUZZ_SECONDS (default 60) from
# its seeds (fuzz/seeds/<target>) and what earlier runs learnt (fuzz/corpus/<target>). A crash
# stops the run; libFuzzer leaves the input in fuzz/artifacts/<target>/ — turn it into a
# regression test beside the code it broke. cargo-fuzz is installed into .run/tools the first
# time; the toolchain's nightly flags are allowed with RUSTC_BOOTSTRAP (no other toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.13.2
tools=.run/tools
if ! "$tools/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$version"; then
  echo "[fuzz] installing cargo-fuzz $version into $tools" >&2
  cargo install --quiet --locked --root "$tools" cargo-fuzz --version "$version"
fi
export PATH="$PWD/$tools/bin:$PATH" RUSTC_BOOTSTRAP=1
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"import_csv bulk_csv photo questionnaire section_form"}

cd fuzz
cargo fuzz build --release
for target in $targets; do
  mkdir -p "corpus/$target" "seeds/$target"
  echo "== fuzz: $target, $seconds s =="
  log="../.run/fuzz-$target.log"
  mkdir -p ../.run
  status=0
  cargo fuzz run --release "$target" "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|Test unit written|Done [0-9]+ runs)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -40 "$log" >&2
    echo "fuzz: $target failed (the input is in fuzz/artifacts/$target/; full log $log)" >&2
    exit 1
  fi
done
echo "fuzz: every target ran $seconds s without a crash"
