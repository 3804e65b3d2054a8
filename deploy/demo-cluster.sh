#!/usr/bin/env bash
# demo-cluster.sh — start a local two-node Skein cluster to try it out.
#
#   deploy/demo-cluster.sh                      # throwaway database on the local PostgreSQL
#   deploy/demo-cluster.sh postgres://u:p@h/db  # use this (empty) database as the metastore
#
# What it does, following the operator guide with `skein` for `seq`:
#   1. two storage roots under a temporary directory (node-a, node-b);
#   2. the shared metastore: a new database `skein_demo_<random>` on the
#      server named by $SKEIN_TEST_POSTGRES_URL (default
#      postgres://postgres@127.0.0.1:5432/postgres), dropped on exit — or the
#      connection string given as the first argument (kept on exit);
#   3. on each node: config create, storage.secretKey (the same key),
#      secret metastore.postgres.connectionString, api.canonicalUri, node setup;
#      `node lead` on node-a only;
#   4. starts both nodes (`skein run`), then HAProxy in front of them when
#      `haproxy` is installed (a copy of deploy/haproxy.cfg with local ports);
#   5. prints the URLs and waits; Ctrl-C stops everything.
#
# Environment: SKEIN (the binary; default target/release/skein, then
# target/debug/skein, then `skein` on PATH), BASE_PORT (default 15340: API
# ports BASE+1 and BASE+11, cluster ports BASE+4 and BASE+14, load balancer
# BASE+21), KEEP=1 keeps the temporary directory.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
SKEIN="${SKEIN:-}"
if [[ -z "$SKEIN" ]]; then
  for candidate in "$here/target/release/skein" "$here/target/debug/skein"; do
    [[ -x "$candidate" ]] && SKEIN="$candidate" && break
  done
  SKEIN="${SKEIN:-$(command -v skein || true)}"
fi
[[ -x "$SKEIN" ]] || { echo "no skein binary: run cargo build --release or set SKEIN" >&2; exit 1; }

base="${BASE_PORT:-15340}"
api_a=$((base + 1)); cluster_a=$((base + 4))
api_b=$((base + 11)); cluster_b=$((base + 14))
lb=$((base + 21))
work="$(mktemp -d -t skein-demo.XXXXXX)"
pids=()
admin="${SKEIN_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db_name=""

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$db_name" ]]; then
    psql -q "$admin" -c "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [[ "${KEEP:-0}" == 1 ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ $# -ge 1 ]]; then
  db_url="$1"
else
  command -v psql >/dev/null || { echo "psql is needed to create the demo database" >&2; exit 1; }
  db_name="skein_demo_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
  psql -q "$admin" -c "CREATE DATABASE \"$db_name\"" >/dev/null
  db_url="${admin%/*}/$db_name"
fi

sk() { local root="$1"; shift; "$SKEIN" --storage "$root" "$@"; }

key="$(sk "$work/node-a" show-key --generate)"
cluster_key="demo-cluster-key-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
configure() { # root name api cluster peer_api peer_cluster
  local root="$1" name="$2"
  sk "$root" config create >/dev/null
  sk "$root" config set -k storage.secretKey -v "$key" >/dev/null
  sk "$root" secret set -k metastore.postgres.connectionString -v "$db_url" >/dev/null
  sk "$root" config set -k api.listenUris -v "http://127.0.0.1:$3" >/dev/null
  sk "$root" config set -k api.canonicalUri -v "http://127.0.0.1:$lb" >/dev/null
  sk "$root" node setup \
    --cluster-listen "ws://127.0.0.1:$4" --internal-api "http://127.0.0.1:$3" \
    --peer-cluster "ws://127.0.0.1:$6" --peer-internal-api "http://127.0.0.1:$5" \
    -k "$cluster_key" --node-name "$name" >/dev/null
}
configure "$work/node-a" node-a "$api_a" "$cluster_a" "$api_b" "$cluster_b"
configure "$work/node-b" node-b "$api_b" "$cluster_b" "$api_a" "$cluster_a"
sk "$work/node-a" node lead

start() { # root api
  # The binary itself in the background (not through a function, whose
  # subshell would be what `kill` stops), so cleanup stops the node.
  "$SKEIN" --storage "$1" run >"$1.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$2/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "node at port $2 did not become healthy; see $1.log" >&2
}
start "$work/node-a" "$api_a"
start "$work/node-b" "$api_b"

lb_url="(HAProxy not installed)"
if command -v haproxy >/dev/null; then
  sed -e "s/bind \*:5341/bind 127.0.0.1:$lb/" \
      -e "s/seq001.example.local:80/127.0.0.1:$api_a/" \
      -e "s/seq002.example.local:80/127.0.0.1:$api_b/" \
      "$here/deploy/haproxy.cfg" >"$work/haproxy.cfg"
  haproxy -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  pids+=("$!")
  lb_url="http://127.0.0.1:$lb"
  for _ in $(seq 1 100); do
    curl -fs "$lb_url/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi

cat <<EOT

Skein demo cluster (metastore: ${db_name:-$db_url})
  node-a (leader)    http://127.0.0.1:$api_a   cluster ws://127.0.0.1:$cluster_a   log $work/node-a.log
  node-b (follower)  http://127.0.0.1:$api_b   cluster ws://127.0.0.1:$cluster_b   log $work/node-b.log
  load balancer      $lb_url

Try:
  curl -s http://127.0.0.1:$api_a/api/cluster
  curl -s http://127.0.0.1:$api_a/health/cluster
  $SKEIN ingest --url http://127.0.0.1:$api_a < events.clef
  $SKEIN node demote --url http://127.0.0.1:$api_a --wait

Ctrl-C stops the cluster.
EOT
wait
