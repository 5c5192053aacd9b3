#!/usr/bin/env bash
# Installs what building and testing agent_trace needs on Debian 12, idempotently:
# Debian packages (PostgreSQL 15 and its headers, clang for bindgen, sudo for `--runas`, gdb for a
# test that breaks a running server from outside),
# cargo-pgrx 0.18.0, and a pgrx configuration that points at the system's PostgreSQL 15.
# Every step checks first, so a second run costs a few seconds.
set -euo pipefail

PGRX_VERSION=0.18.0
# Debian's PostgreSQL 15 unless $PG_CONFIG names another installation (as in scripts/lib.sh).
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 libclang-dev clang pkg-config sudo make gdb)

log() { printf '==> %s\n' "$*"; }

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "missing Debian packages: ${missing[*]} (run as root, or install them)" >&2; exit 1; }
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Debian package starts a system cluster on 5432; we never use it, and tests start their own.
if [ ! -x "$PG_CONFIG" ]; then
    echo "expected $PG_CONFIG after installing postgresql-server-dev-15" >&2
    exit 1
fi

if ! cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
    log "installing cargo-pgrx $PGRX_VERSION (about 8 minutes on 2 cores)"
    cargo install cargo-pgrx --version "$PGRX_VERSION" --locked
fi

PGRX_HOME=${PGRX_HOME:-$HOME/.pgrx}
if ! grep -qs "^pg15 *= *\"$PG_CONFIG\"" "$PGRX_HOME/config.toml"; then
    log "configuring pgrx for PostgreSQL 15 at $PG_CONFIG"
    cargo pgrx init --pg15 "$PG_CONFIG"
fi
log "dependencies ready: $(cargo pgrx --version), $($PG_CONFIG --version)"
