#!/usr/bin/env bash
# Runs every cargo-fuzz target of every fuzz crate (*/fuzz) for SECONDS each
# (default 15, as tests/run-all.sh does in CI; a scheduled job passes more,
# e.g. 600):
#   store/fuzz   CLEF parser, legacy JSON parser, block decoder, filter
#                language, a replica applying hostile history;
#   actors/fuzz  replication frames (sealed and unsealed, decoded, consumed),
#                scale-out query shares (requests, partial answers merged).
# Installs cargo-fuzz when it is missing; libFuzzer needs the sanitizer
# flags of a nightly compiler, which RUSTC_BOOTSTRAP unlocks on stable.
# The crates share one target folder, so skein-store is built with the
# sanitizer once. A crash fails the script and leaves its input in
# <crate>/artifacts/<target>/.
#
#   tests/fuzz.sh [SECONDS]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=${1:-15}
target_dir="${CARGO_TARGET_DIR:-$root/target}/fuzz"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
export RUSTC_BOOTSTRAP=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for dir in "$root"/*/fuzz; do
  [ -f "$dir/Cargo.toml" ] || continue
  crate=${dir#"$root"/}
  cd "$dir"
  for target in $(cargo fuzz list); do
    echo "==> fuzzing $crate $target for ${seconds}s"
    if ! cargo fuzz run --target-dir "$target_dir" "$target" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
      tail -60 "$log"
      echo "fuzz target $target failed: its input is in $crate/artifacts/$target/" >&2
      exit 1
    fi
    grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added)" "$log" || true
  done
done
