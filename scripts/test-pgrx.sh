#!/usr/bin/env bash
# Runs the extension's #[pg_test]s (and its plain unit tests) with `cargo pgrx test`, which starts
# its own PostgreSQL 15 cluster. As root, that cluster runs as `postgres` in a directory it owns.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

args=(pg15)
if [ "$(id -u)" -eq 0 ]; then
    pgdata_parent=${TMPDIR:-/tmp}/agent-trace-pgrx
    install -d -o postgres "$pgdata_parent"
    args+=(--runas postgres --pgdata "$pgdata_parent/data")
fi
(cd extension && cargo pgrx test "${args[@]}")
