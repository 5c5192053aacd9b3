#!/usr/bin/env bash
# SQL-level tests of the installed extension: pg_regress golden files (tests/sql/*.sql, whose output
# must equal tests/expected/*.out).
# Why pg_regress over pgTAP: the expected output shows what a user sees in psql (rows, error
# messages), so a reviewer reads the behaviour directly, and a change in it shows up as a diff.
#
# Each file runs alone, in a database of its own that pg_regress creates (with its usual settings
# and the extension) on one throwaway cluster: a file starts from a fresh install and needs no
# cleanup, and a file that fails half-way cannot leave rows behind that change another's output.
# Roles are the one thing databases share, so a file names its roles regress_<file>_* (checked
# below) and no two files can collide on one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

pg_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress"
work=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-regress.XXXXXX")
cluster="$work/cluster"
trap 'stop_scratch_cluster "$cluster"; rm -rf "$work"' EXIT
give_to_pg_user "$work"

# Every test by default; name some to run only those: scripts/test-sql.sh trace_api rollup
tests=${*:-$(cd tests/sql && ls ./*.sql | sed 's|^\./||; s|\.sql$||' | sort)}

for test in $tests; do
    foreign=$(grep -ioE 'create role +[a-z0-9_]+' "tests/sql/$test.sql" | awk '{print $3}' \
        | grep -v "^regress_${test}_" || true)
    if [ -n "$foreign" ]; then
        echo "tests/sql/$test.sql creates roles not named regress_${test}_*: $foreign" >&2
        exit 1
    fi
done

# pgrx adds a Rust backtrace to the DETAIL of errors raised through Rust code when the server runs
# with RUST_BACKTRACE set; the expected output is what users see without it.
(unset RUST_BACKTRACE RUST_LIB_BACKTRACE && start_scratch_cluster "$cluster")
log "pg_regress: $(echo $tests | wc -w) test files, each in a fresh database"
failed=()
for test in $tests; do
    out="$work/$test"
    mkdir -p "$out"
    give_to_pg_user "$out"
    status=0
    as_pg_user "$pg_regress" \
        --host="$cluster" \
        --user=postgres \
        --bindir="$PG_BINDIR" \
        --inputdir="$PWD/tests" \
        --outputdir="$out" \
        --load-extension=agent_trace \
        --dbname="regress_$test" \
        "$test" >"$out/pg_regress.log" 2>&1 || status=$?
    grep -E '^test ' "$out/pg_regress.log" || cat "$out/pg_regress.log"
    if [ "$status" -ne 0 ]; then
        failed+=("$test")
        if [ -f "$out/regression.diffs" ]; then
            mkdir -p tests/results
            cp "$out/regression.diffs" "tests/results/$test.diffs"
            cp -r "$out/results/." tests/results/ 2>/dev/null || true
            echo "---- $test: regression.diffs (also kept in tests/results/) ----"
            cat "$out/regression.diffs"
        fi
    fi
done

# Concurrency: isolation specs (tests/isolation/specs/*.spec) run their sessions' steps in every
# interleaving they list, deterministically (PostgreSQL's own isolationtester), on the same cluster.
isolation_regress="$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/isolation/pg_isolation_regress"
specs=$(cd tests/isolation/specs && ls ./*.spec | sed 's|^\./||; s|\.spec$||' | sort)
if [ -z "${*:-}" ]; then
    out="$work/isolation"
    mkdir -p "$out"
    give_to_pg_user "$out"
    status=0
    as_pg_user "$isolation_regress" \
        --host="$cluster" \
        --user=postgres \
        --bindir="$PG_BINDIR" \
        --inputdir="$PWD/tests/isolation" \
        --outputdir="$out" \
        --load-extension=agent_trace \
        --dbname=regress_isolation \
        $specs >"$out/pg_regress.log" 2>&1 || status=$?
    grep -E '^(test|ok|not ok) ' "$out/pg_regress.log" || cat "$out/pg_regress.log"
    if [ "$status" -ne 0 ]; then
        failed+=("isolation")
        if [ -f "$out/regression.diffs" ]; then
            mkdir -p tests/results/isolation
            cp "$out/regression.diffs" tests/results/isolation/
            cp -r "$out/results/." tests/results/isolation/ 2>/dev/null || true
            cat "$out/regression.diffs"
        fi
    fi
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAIL: ${failed[*]}" >&2
    exit 1
fi
log "all $(echo $tests | wc -w) test files pass, and the isolation specs: $(echo $specs | tr "\n" " ")"
