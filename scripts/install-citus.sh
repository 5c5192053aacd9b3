#!/usr/bin/env bash
# Citus, for the multi-node test only (ingest/tests/citus.rs): users install Citus from its own
# packages or image; agent_trace never needs it at run time.
#
# Installed into $PG_CONFIG's PostgreSQL when it is not there yet, built from the source tarball
# $CITUS_TARBALL names (.ci/run sets it: the one test dependency read from beside the clone); the build
# is kept in ~/.cache/agent-trace/, outside the clone, so a second run only installs. Without Citus
# and without a tarball it says so loudly and exits 0: the multi-node test then skips itself, saying
# why, and every other test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

libdir=$("$PG_CONFIG" --pkglibdir)
if [ -f "$libdir/citus.so" ]; then
    log "Citus is installed in $libdir"
    exit 0
fi
if [ -z "${CITUS_TARBALL:-}" ] || [ ! -f "$CITUS_TARBALL" ]; then
    echo "==> WARNING: Citus is not installed and CITUS_TARBALL (${CITUS_TARBALL:-unset}) names no source tarball:" >&2
    echo "==> WARNING: the multi-node test (ingest/tests/citus.rs) will be SKIPPED." >&2
    exit 0
fi

APT_PACKAGES=(liblz4-dev libzstd-dev libcurl4-openssl-dev libkrb5-dev libselinux1-dev libxslt1-dev libpam0g-dev libssl-dev)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing Citus's build dependencies: ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cache=${XDG_CACHE_HOME:-$HOME/.cache}/agent-trace
# A build installs into the PostgreSQL it was configured for: one build per pg_config.
name=$(basename "$CITUS_TARBALL" .tar.gz)-$(printf '%s' "$PG_CONFIG" | sha256sum | cut -c1-8)
build="$cache/$name"
if [ ! -f "$build/src/backend/distributed/citus.so" ]; then
    log "building Citus from $CITUS_TARBALL in $build (about a minute)"
    rm -rf "$build" && mkdir -p "$build"
    tar xzf "$CITUS_TARBALL" -C "$build" --strip-components=1
    (cd "$build" && ./configure PG_CONFIG="$PG_CONFIG" >"$build/configure.log" 2>&1 \
        || { tail -20 "$build/configure.log" >&2; exit 1; })
    make -C "$build" -j"$(nproc)" >"$build/make.log" 2>&1 || { tail -30 "$build/make.log" >&2; exit 1; }
fi
make -C "$build" install >"$build/install.log" 2>&1 || { tail -20 "$build/install.log" >&2; exit 1; }
[ -f "$libdir/citus.so" ] || { echo "Citus's install put no citus.so in $libdir (see $build/install.log)" >&2; exit 1; }
log "Citus installed into $libdir (from $CITUS_TARBALL)"
