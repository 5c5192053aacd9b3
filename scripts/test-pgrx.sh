#!/usr/bin/env bash
# Runs the extension's #[pg_test]s (and its plain unit tests) with `cargo pgrx test`, which starts
# its own cluster of $PG_CONFIG's PostgreSQL (15 by default). As root, that cluster runs as
# `postgres` in a directory it owns.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# cargo pgrx test takes the PostgreSQL to build against, install into and run from
# $PGRX_HOME/config.toml: a private one names $PG_CONFIG (lib.sh), as the other scripts use.
pgrx_home=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-pgrx-home.XXXXXX")
trap 'rm -rf "$pgrx_home"' EXIT
printf '[configs]\npg%s = "%s"\n' "$PG_MAJOR" "$PG_CONFIG" > "$pgrx_home/config.toml"
export PGRX_HOME=$pgrx_home

args=("pg$PG_MAJOR" --no-default-features --features "pg$PG_MAJOR")
if [ "$(id -u)" -eq 0 ]; then
    pgdata_parent=${TMPDIR:-/tmp}/agent-trace-pgrx
    install -d -o postgres "$pgdata_parent"
    args+=(--runas postgres --pgdata "$pgdata_parent/data")
fi
(cd extension && cargo pgrx test "${args[@]}")
