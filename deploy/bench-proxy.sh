#!/usr/bin/env bash
# Ingestion through a follower's proxy vs directly to the leader, alternating,
# in one run, with the release build (cargo build --release) on this machine:
#   deploy/bench-proxy.sh
set -euo pipefail
B=${SKEIN_BIN:-$(cd "$(dirname "$0")/.." && pwd)/target/release/skein}
D=$(mktemp -d /tmp/proxybench.XXXX)
mk() { # root name me_cluster me_internal peer_cluster peer_internal
  local r=$D/$1
  $B --storage $r show-key --generate > $D/$1.key
  $B --storage $r config create >/dev/null
  $B --storage $r config set -k storage.secretKey -v "$(cat $D/$1.key)" >/dev/null
  $B --storage $r node setup --cluster-listen ws://127.0.0.1:$3 --internal-api http://127.0.0.1:$4 \
     --peer-cluster ws://127.0.0.1:$5 --peer-internal-api http://127.0.0.1:$6 -k cluster-key-0123456789 --node-name $2 >/dev/null
}
mk a a 25344 25341 26344 26341
mk b b 26344 26341 25344 25341
$B --storage $D/a config set -k cluster.role -v leader >/dev/null
$B --storage $D/b node follow >/dev/null
export SKEIN_STORAGE_FLUSHFLOORBYTES=0 RUST_LOG=warn
SKEIN_API_LISTENURIS=http://127.0.0.1:25400 $B --storage $D/a run > $D/a.log 2>&1 & PA=$!
SKEIN_API_LISTENURIS=http://127.0.0.1:26400 $B --storage $D/b run > $D/b.log 2>&1 & PB=$!
trap 'kill $PA $PB 2>/dev/null; wait; rm -rf $D' EXIT
for i in $(seq 50); do curl -sf http://127.0.0.1:25400/health >/dev/null && curl -s http://127.0.0.1:26400/health >/dev/null && break; sleep 0.2; done
for round in 1 2; do
  echo "round $round direct:";  $B bench ingest --url http://127.0.0.1:25400 --events 300000 --batch 1000 --connections 4 2>&1 | tail -3
  echo "round $round proxied:"; $B bench ingest --url http://127.0.0.1:26400 --events 300000 --batch 1000 --connections 4 2>&1 | tail -3
done
