#!/usr/bin/env bash
# Runs every cargo-fuzz target of store/fuzz (CLEF parser, legacy JSON
# parser, block decoder, filter language) for SECONDS each (default 15, as
# tests/run-all.sh does in CI; a scheduled job passes more, e.g. 600).
# Installs cargo-fuzz when it is missing; libFuzzer needs the sanitizer
# flags of a nightly compiler, which RUSTC_BOOTSTRAP unlocks on stable.
# A crash fails the script and leaves its input in store/fuzz/artifacts/.
#
#   tests/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../store/fuzz"
seconds=${1:-15}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
export RUSTC_BOOTSTRAP=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in $(cargo fuzz list); do
  echo "==> fuzzing $target for ${seconds}s"
  if ! cargo fuzz run "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    tail -60 "$log"
    echo "fuzz target $target failed: its input is in store/fuzz/artifacts/$target/" >&2
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)" "$log" || true
done
