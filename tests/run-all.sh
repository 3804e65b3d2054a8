#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need when it is missing, then checks formatting and lints, and runs every
# test (unit, store crash and replay tests, CLI and metastore end-to-end tests
# against a real PostgreSQL).
#
#   tests/run-all.sh
#
# Environment: SKEIN_TEST_POSTGRES_URL points the tests at a PostgreSQL server
# whose user may create and drop databases; when unset, the script uses
# 127.0.0.1:5432 (user postgres, trust) if it answers, else starts a throwaway
# server of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "missing $* and cannot apt-get install it (need root on Debian)" >&2
    exit 1
  fi
}

# --- PostgreSQL -------------------------------------------------------------
command -v psql >/dev/null || apt_install postgresql-client
pg_ok() { psql "$1" -qtAc 'select 1' >/dev/null 2>&1; }
if [ -z "${SKEIN_TEST_POSTGRES_URL:-}" ]; then
  if pg_ok "postgres://postgres@127.0.0.1:5432/postgres"; then
    export SKEIN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
  else
    pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
      apt_install postgresql
      pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    pgdir=$(mktemp -d /tmp/skein-pg.XXXXXX)
    chown postgres "$pgdir" 2>/dev/null || true
    as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
    log "starting a throwaway PostgreSQL in $pgdir on port 55432"
    as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres --auth=trust >/dev/null
    as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -o "-p 55432 -k $pgdir -c listen_addresses=127.0.0.1" -w -l "$pgdir/log" start >/dev/null
    trap 'as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m fast stop >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
    export SKEIN_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:55432/postgres"
  fi
fi
pg_ok "$SKEIN_TEST_POSTGRES_URL" || { echo "PostgreSQL at $SKEIN_TEST_POSTGRES_URL does not answer" >&2; exit 1; }
# The chaos suite restarts a PostgreSQL server of its own (initdb, pg_ctl).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql

# --- Real Seq client libraries for tests/compat.rs --------------------------
# (section owned by the compatibility tests) Installs the clients the way
# their users do: seq-logging + pino-seq from npm (versions locked by
# tests/compat/node/package-lock.json) and seqlog from PyPI (pinned in
# tests/compat/python/requirements.txt, into a venv so no system Python is
# touched), then exports where they are. tests/compat.rs fails, never skips,
# when they are missing.
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
log "npm ci (tests/compat/node)"
(cd tests/compat/node && npm ci --no-audit --no-fund --loglevel=error)
compat_venv="$PWD/target/compat-venv"
if [ ! -x "$compat_venv/bin/python" ]; then
  mkdir -p target
  python3 -m venv "$compat_venv" 2>/dev/null || {
    rm -rf "$compat_venv"
    apt_install python3-venv
    python3 -m venv "$compat_venv"
  }
fi
log "pip install -r tests/compat/python/requirements.txt"
"$compat_venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/compat/python/requirements.txt
export SKEIN_COMPAT_NODE_DIR="$PWD/tests/compat/node"
export SKEIN_COMPAT_NODE="$(command -v node)"
export SKEIN_COMPAT_PYTHON="$compat_venv/bin/python"
# --- end of the compatibility section ----------------------------------------

# --- OpenTelemetry SDKs for tests/otlp.rs ---------------------------------
# (section owned by the OTLP tests) The Python SDK with its OTLP/HTTP
# protobuf exporter, pinned in tests/otlp/python/requirements.txt, into a
# venv of its own (its pins differ from the Seq clients'); the JavaScript
# SDK's OTLP/HTTP log exporter, locked by tests/otlp/node/package-lock.json.
# tests/otlp.rs fails, never skips, when they are missing.
otlp_venv="$PWD/target/otlp-venv"
[ -x "$otlp_venv/bin/python" ] || python3 -m venv "$otlp_venv"
log "pip install -r tests/otlp/python/requirements.txt"
"$otlp_venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/otlp/python/requirements.txt
log "npm ci (tests/otlp/node)"
(cd tests/otlp/node && npm ci --no-audit --no-fund --loglevel=error)
export SKEIN_OTLP_PYTHON="$otlp_venv/bin/python"
export SKEIN_OTLP_NODE_DIR="$PWD/tests/otlp/node"
# --- end of the OTLP section -------------------------------------------------

# --- OpenAPI tools for tests/openapi.rs -------------------------------------
# (section owned by the OpenAPI tests) openapi-spec-validator and
# schemathesis, pinned in tests/openapi/requirements.txt, into the venv above.
# tests/openapi.rs fails, never skips, when they are missing.
log "pip install -r tests/openapi/requirements.txt"
"$compat_venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/openapi/requirements.txt
export SKEIN_OPENAPI_PYTHON="$compat_venv/bin/python"
# --- end of the OpenAPI section ---------------------------------------------

# --- HAProxy for tests/load_balancer.rs -------------------------------------
# (section owned by the load-balancer tests) The cluster tests put a real
# HAProxy, configured from deploy/haproxy.cfg, in front of two nodes; they
# fail, never skip, when it is missing. tests/deploy.rs also runs nginx from
# deploy/nginx.conf and checks deploy/skein.service with systemd-analyze.
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || apt_install haproxy
[ -x /usr/sbin/nginx ] || apt_install nginx-light
[ -x /usr/bin/systemd-analyze ] || apt_install systemd
export SKEIN_TEST_HAPROXY="$(command -v haproxy || echo /usr/sbin/haproxy)"
# --- end of the HAProxy section ---------------------------------------------

# --- Chromium, Firefox and puppeteer-core for tests/ui.rs -------------------
# (section owned by the admin UI tests) Debian's chromium and firefox-esr,
# both driven by puppeteer-core (locked by tests/ui/package-lock.json; it
# never downloads a browser). tests/ui.rs fails, never skips, when any is
# missing.
[ -x /usr/bin/chromium ] || apt_install chromium
[ -x /usr/bin/firefox-esr ] || apt_install firefox-esr
log "npm ci (tests/ui)"
(cd tests/ui && npm ci --no-audit --no-fund --loglevel=error)
export SKEIN_UI_DIR="$PWD/tests/ui"
export SKEIN_CHROMIUM=/usr/bin/chromium
export SKEIN_FIREFOX=/usr/bin/firefox-esr
export SKEIN_UI_NODE="$(command -v node)"
# --- end of the admin UI section ---------------------------------------------

# --- openssl for tests/tls.rs -----------------------------------------------
# The TLS tests make their CA, leaf certificates and PFX files (modern and
# legacy) with the real openssl command.
command -v openssl >/dev/null || apt_install openssl
# --- end of the openssl section ---------------------------------------------

# --- FUSE for tests/slow_disk.rs --------------------------------------------
# (section owned by the slow-disk tests) SlowDisk mounts a FUSE passthrough
# that the test process serves itself (the fuser crate mounts with mount(2)
# as root: no libfuse, no fusermount), so it needs root and /dev/fuse. Loads
# the module when the device is missing, and takes down slow disks left
# mounted by a test process that was killed. tests/slow_disk.rs fails, never
# skips, without FUSE.
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || echo "no /dev/fuse: tests/slow_disk.rs will fail" >&2
awk '$1 ~ /^slowdisk:/ && $3 == "fuse" {print $2}' /proc/mounts | while read -r m; do umount -l "$m" || true; done
# --- end of the FUSE section -------------------------------------------------

# --- The Rust toolchain of rust-toolchain.toml ------------------------------
# rustup does not install a pinned toolchain on first use: install it (with
# rustfmt and clippy, as the file says) when it is missing. A machine that
# cannot download it but whose stable toolchain is that very version (a
# sandbox without the network) gets the pinned name linked to stable.
if command -v rustup >/dev/null; then
  channel=$(sed -n 's/^channel = "\(.*\)"$/\1/p' rust-toolchain.toml)
  if ! rustup toolchain list | grep -q "^$channel-"; then
    log "rustup toolchain install ($channel, from rust-toolchain.toml)"
    if ! rustup toolchain install; then
      stable=$(rustup run stable rustc -vV)
      grep -qx "release: $channel" <<<"$stable" || { echo "cannot install Rust $channel" >&2; exit 1; }
      host=$(sed -n 's/^host: //p' <<<"$stable")
      ln -s "$(rustup run stable rustc --print sysroot)" "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$channel-$host"
      log "linked Rust $channel to the installed stable toolchain (the same version)"
    fi
  fi
fi
# --- end of the Rust toolchain section ---------------------------------------

# --- Rust checks and tests --------------------------------------------------
log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test (whole workspace)"
cargo test --workspace --locked 2>&1 | tee target/test-output.log
summary=$(grep -E "^test result:" target/test-output.log | awk '{p+=$4; f+=$6} END {printf "%d passed, %d failed\n", p, f}')
log "summary"
echo "$summary"

# --- Fuzzing, bounded -------------------------------------------------------
# Every cargo-fuzz target (CLEF, legacy JSON, block decoder, filter language,
# history applied by a replica, replication frames) for 15 s each; longer
# runs: tests/fuzz.sh 600.
log "fuzzing (15 s per target)"
tests/fuzz.sh 15
