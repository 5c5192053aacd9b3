#!/usr/bin/env bash
# The tests that depend on the PostgreSQL major, on another major than the host's 15 (17, 18): the
# extension built for it, its SQL suites (pg_regress and isolation, the upgrade paths, the pgrx
# tests) and the ingest's end-to-end tests against it: every captured request stored once with its
# counts over HTTP and gRPC, logs and metrics, computed costs, the SQL API. Runs in that major's
# Debian root (scripts/pg-root.sh, made once per machine); the ingest's test programs are the
# host's own build, run inside the root.
#
#   scripts/test-pg-version.sh MAJOR
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/test-pg-version.sh MAJOR}
log() { printf '==> %s\n' "$*"; }

# The ingest's end-to-end tests that compare what was stored, built on the host (cargo's JSON
# names each test program's file).
e2e_tests=(otlp_http otlp_grpc otlp_logs_metrics prices sql_api)
test_args=()
for t in "${e2e_tests[@]}"; do test_args+=(--test "$t"); done
programs=$(cargo test -p ingest --no-run --message-format=json "${test_args[@]}" 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "test" in m["target"]["kind"]:
        print(m["executable"])')
[ -n "$programs" ] || { echo "scripts/test-pg-version.sh: the ingest's test programs did not build" >&2; exit 1; }

bash scripts/pg-root.sh "$major" >/dev/null
start=$(date +%s)
# shellcheck disable=SC2016,SC2086 # expanded inside the root; the programs are one word each
bash scripts/pg-root.sh "$major" run bash -c '
    set -euo pipefail
    . scripts/lib.sh
    log "PostgreSQL $("$PG_CONFIG" --version) in its Debian root"
    ensure_pgrx_knows "$PG_CONFIG"
    bash scripts/install-extension.sh
    bash scripts/test-sql.sh
    bash scripts/test-upgrade.sh
    bash scripts/test-pgrx.sh
    log "the ingest end to end against PostgreSQL $PG_MAJOR"
    for program in "$@"; do
        "$program" --test-threads 2 -q
    done
' bash $programs
log "PostgreSQL $major: every suite passed in $(( $(date +%s) - start )) s"
