#!/usr/bin/env bash
# Measures the on-disk size of trace/span id representations (docs/key-design.md quotes the table).
# Runs in a scratch PostgreSQL 15 cluster that is removed afterwards. Needs the extension installed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-keys.XXXXXX")
trap 'stop_scratch_cluster "$cluster"' EXIT
start_scratch_cluster "$cluster"
psql -X -q -h "$cluster" -U postgres -d postgres -f scripts/bench-keys.sql
