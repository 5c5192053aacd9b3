#!/usr/bin/env bash
# SQL-level tests of the installed extension: pg_regress golden files (tests/sql/*.sql, whose output
# must equal tests/expected/*.out). pg_regress starts a throwaway PostgreSQL 15 instance, creates
# the extension in a fresh database, runs every test and stops the instance, pass or fail.
# Why pg_regress over pgTAP: the expected output shows what a user sees in psql (rows, error
# messages), so a reviewer reads the behaviour directly, and a change in it shows up as a diff.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"
work=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-regress.XXXXXX")
trap 'rm -rf "$work"' EXIT
give_to_pg_user "$work"

# Every test by default; name some to run only those: scripts/test-sql.sh trace_api rollup
tests=${*:-$(cd tests/sql && ls ./*.sql | sed 's|^\./||; s|\.sql$||' | sort)}
log "pg_regress: $(echo $tests | wc -w) test files"
status=0
as_pg_user "$pg_regress" \
    --temp-instance="$work/instance" \
    --bindir="$PG_BINDIR" \
    --inputdir="$PWD/tests" \
    --outputdir="$work" \
    --load-extension=agent_trace \
    --dbname=agent_trace_regress \
    $tests || status=$?
if [ "$status" -ne 0 ] && [ -f "$work/regression.diffs" ]; then
    mkdir -p tests/results
    cp "$work/regression.diffs" tests/results/
    cp -r "$work/results/." tests/results/ 2>/dev/null || true
    echo "---- regression.diffs (also kept in tests/results/) ----"
    cat "$work/regression.diffs"
fi
exit "$status"
