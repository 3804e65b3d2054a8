#!/usr/bin/env bash
# The scheduled fault campaign (issue #8): the long forms of what the test
# command runs briefly — the chaos suite in a release build, every fuzz
# target, and schemathesis against a secured node. Meant for a nightly timer
# on a machine where tests/run-all.sh has run once (root, for the tmpfs and
# FUSE disks; PostgreSQL; the Python venv in target/compat-venv).
#
#   tests/campaign.sh [CHAOS_SECONDS] [FUZZ_SECONDS_PER_TARGET] [SCHEMATHESIS_EXAMPLES]
#
# Defaults: 1800 s of chaos, 600 s per fuzz target, 200 schemathesis
# examples per operation. Seeds change every day (SKEIN_CAMPAIGN_SEED, the
# date by default) and are printed, so a failure replays with the same seed.
# Any loss, violation, crash or failed check fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
chaos=${1:-1800}
fuzz=${2:-600}
examples=${3:-200}
seed=${SKEIN_CAMPAIGN_SEED:-$(date +%Y%m%d)}
export SKEIN_TEST_POSTGRES_URL=${SKEIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
export SKEIN_OPENAPI_PYTHON=${SKEIN_OPENAPI_PYTHON:-$PWD/target/compat-venv/bin/python}
echo "campaign: seed $seed; chaos ${chaos}s, fuzz ${fuzz}s per target, schemathesis ${examples} examples"

echo "==> chaos (release), ${chaos}s"
SKEIN_CHAOS_SECONDS=$chaos SKEIN_CHAOS_SEED=$seed SKEIN_CHAOS_FAULTS=${SKEIN_CHAOS_FAULTS:-4} \
  cargo test --release --test chaos -- --ignored chaos_long --nocapture

echo "==> schemathesis, ${examples} examples per operation"
SKEIN_SCHEMATHESIS_EXAMPLES=$examples SKEIN_SCHEMATHESIS_SEED=$seed \
  cargo test --release --test openapi schemathesis -- --nocapture

echo "==> fuzzing, ${fuzz}s per target"
tests/fuzz.sh "$fuzz"
echo "campaign: seed $seed passed"
