#!/usr/bin/env bash
# trace_tree against a flat indexed fetch of the same trace, and diff_traces of two 1,000-span runs
# and of two pairs of 100,000-span runs (BENCHMARKS.md quotes the table). A scratch PostgreSQL 15 cluster with default settings, removed
# afterwards; pgbench sends each query and reads every row, so both sides pay the same transfer.
# Rounds alternate between the queries compared, so machine noise hits both; medians are printed.
# Then the backend's own CPU time per query (utime + stime of /proc/self/stat, read by the backend
# itself), which waiting for a core on a busy machine does not inflate.
#
#   BENCH_BASE=REV (environment only): also build the extension's library at git revision REV and
#   run every trace function query with each library in turn, in the same rounds: the installed
#   agent_trace.so is swapped between runs (each run is a new backend, which loads the file then
#   installed). REV must install the same SQL as this checkout (checked), so only the library
#   differs; the files of this checkout are put back at the end.
#      BENCH_BASE=main scripts/bench-trace-api.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ROUNDS=${BENCH_ROUNDS:-5}
PER_ROUND=${BENCH_PER_ROUND:-20}
# The 100,000-span diffs take around a second each: fewer runs per round.
BIG_PER_ROUND=${BENCH_BIG_PER_ROUND:-2}
CPU_RUNS=${BENCH_CPU_RUNS:-40}
libdir=$("$PG_CONFIG" --pkglibdir)
sharedir="$("$PG_CONFIG" --sharedir)/extension"
libs="$PWD/target/bench-api-libraries"
builds=(candidate)
restore() {
    [ -f "$libs/candidate/agent_trace.so" ] || return 0
    cp "$libs/candidate/agent_trace.so" "$libdir/agent_trace.so.new"
    mv -f "$libdir/agent_trace.so.new" "$libdir/agent_trace.so"
    cp "$libs"/candidate/*.sql "$libs"/candidate/*.control "$sharedir/"
}
if [ -n "${BENCH_BASE:-}" ]; then
    rm -rf "$libs/src" "$libs/candidate" "$libs/base"
    mkdir -p "$libs/src" "$libs/candidate" "$libs/base"
    cp "$libdir/agent_trace.so" "$sharedir"/agent_trace* "$libs/candidate/"
    git archive "$BENCH_BASE" | tar -x -C "$libs/src"
    log "building the extension at $BENCH_BASE (its library alternates with this checkout's)"
    # A target directory of its own: in this checkout's, cargo would leave the base's library where
    # the next install of this checkout looks for its own (a fresh crate is not copied out again).
    (cd "$libs/src/extension" && CARGO_TARGET_DIR="$libs/target" cargo pgrx install --release \
        --pg-config "$PG_CONFIG" --no-default-features --features "pg$PG_MAJOR" >/dev/null)
    cp "$libdir/agent_trace.so" "$sharedir"/agent_trace* "$libs/base/"
    restore
    if cmp -s "$libs/base/agent_trace.so" "$libs/candidate/agent_trace.so"; then
        echo "the library built at BENCH_BASE=$BENCH_BASE is this checkout's installed one: nothing to compare" >&2
        exit 1
    fi
    # (pgrx notes the source line of each entity: those comments may differ.)
    if ! diff -r -x agent_trace.so -I "^-- [a-z_/]*\.rs:[0-9]*$" "$libs/base" "$libs/candidate" >/dev/null; then
        echo "BENCH_BASE=$BENCH_BASE installs other SQL than this checkout: only libraries can alternate" >&2
        exit 1
    fi
    builds=(base candidate)
fi
# The library new backends load: the base's or this checkout's.
use_library() { # base|candidate
    [ "${#builds[@]}" -gt 1 ] || return 0
    cp "$libs/$1/agent_trace.so" "$libdir/agent_trace.so.new"
    mv -f "$libdir/agent_trace.so.new" "$libdir/agent_trace.so"
}

cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-api.XXXXXX")
trap 'stop_scratch_cluster "$cluster"; restore' EXIT
start_scratch_cluster "$cluster"
psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres -f scripts/bench-trace-api.sql
# The same data in a second database, and 90 days of other runs in both: in "postgres" everything
# lies in the default partitions (as in one table), in "partitioned" each day has its own.
psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres -c "CREATE DATABASE partitioned"
psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d partitioned -f scripts/bench-trace-api.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v partitioned=false -h "$cluster" -U postgres -d postgres -f scripts/bench-trace-api-days.sql
psql -X -q -v ON_ERROR_STOP=1 -v partitioned=true -h "$cluster" -U postgres -d partitioned -f scripts/bench-trace-api-days.sql

work="$cluster/queries"
mkdir -p "$work"
give_to_pg_user "$work"
flat_columns="span_id, parent_span_id, start_time, name, span_type, status_code, model, duration_ms, input_tokens, output_tokens, cost_usd"
query() { # name sql
    echo "$2;" > "$work/$1.sql"
}
for shape in bushy:00000000000000000000000000000b05 chain:00000000000000000000000000000c4a; do
    name=${shape%%:*}; trace=${shape#*:}
    query "$name-flat" "SELECT $flat_columns FROM agent_trace.agent_spans WHERE trace_id = '$trace'"
    # The same columns from trace_tree (status is its name for status_code), and all of them.
    query "$name-tree" "SELECT span_id, parent_span_id, start_time, name, span_type, status, model, duration_ms, input_tokens, output_tokens, cost_usd FROM agent_trace.trace_tree('$trace')"
    query "$name-tree-all" "SELECT * FROM agent_trace.trace_tree('$trace')"
    query "$name-critical" "SELECT * FROM agent_trace.critical_path('$trace')"
done
# One document: a chain 10,000 deep is past what jsonb nests (trace_tree_json refuses it).
query "bushy-json" "SELECT agent_trace.trace_tree_json('00000000000000000000000000000b05')"
# Opening the small run as the viewer's trace page does (sql/viewer/: the trace, its tree, critical
# path, turns and log records, then one span), with its parameters written in; and the SQL
# functions on it.
small=0000000000000000000000000000005a
viewer_sql() { # file [second parameter]
    sed -e '/^--/d' -e "s/\$1::text/'$small'::text/g" -e "s/\$2::text/${2:-NULL}::text/g" "sql/viewer/$1.sql"
    echo ";"
}
{
    viewer_sql trace
    viewer_sql trace_tree
    viewer_sql critical_path
    viewer_sql turns
    viewer_sql trace_logs
    viewer_sql span "'0000000000000003'"
} > "$work/open-small.sql"
cp "$work/open-small.sql" "$work/open-small-unprepared.sql"
query "small-tree" "SELECT * FROM agent_trace.trace_tree('$small')"
query "small-replay" "SELECT * FROM agent_trace.replay('$small')"
query "small-diff-summary" "SELECT * FROM agent_trace.diff_summary('$small', '$small')"
query "diff" "SELECT * FROM agent_trace.diff_traces('00000000000000000000000000000d1a', '00000000000000000000000000000d1b')"
query "diff-flat" "SELECT $flat_columns, input, output FROM agent_trace.agent_spans WHERE trace_id IN ('00000000000000000000000000000d1a', '00000000000000000000000000000d1b')"
for pair in e1 e2; do
    query "diff-$pair" "SELECT * FROM agent_trace.diff_traces('00000000000000000000000000000${pair}a', '00000000000000000000000000000${pair}b')"
    query "diff-$pair-flat" "SELECT $flat_columns, input, output FROM agent_trace.agent_spans WHERE trace_id IN ('00000000000000000000000000000${pair}a', '00000000000000000000000000000${pair}b')"
done

# Latencies in microseconds, one per line, appended per query over all rounds.
run() { # query [transactions [database [build]]]
    local db=${3:-postgres} log="$1${3:+-$3}${4:+@$4}" mode=simple
    # The viewer's statements are prepared once per connection (tokio-postgres' prepare_cached),
    # so the page is timed as the viewer runs it: planned once, executed each time.
    [ "$1" = open-small ] && mode=prepared
    (cd "$work" && "$PG_BINDIR/pgbench" -n -M "$mode" -h "$cluster" -U postgres -c 1 -t "${2:-$PER_ROUND}" \
        -f "$1.sql" -l --log-prefix="$log" "$db" >/dev/null 2>&1)
    cat "$work/$log".[0-9]* | awk '{print $3}' >> "$work/$log.latencies"
    rm -f "$work/$log".[0-9]*
}
median_ms() {
    sort -n "$work/$1.latencies" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f", m / 1000}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
# The builds of a round, the first one alternating from round to round.
round_builds() { # round
    if [ "${#builds[@]}" -gt 1 ] && [ $(($1 % 2)) -eq 0 ]; then echo "${builds[1]} ${builds[0]}"; else echo "${builds[@]}"; fi
}
tree_queries="bushy-tree bushy-tree-all bushy-critical bushy-json chain-tree chain-tree-all chain-critical diff"
for round in $(seq "$ROUNDS"); do
    use_library candidate
    for q in bushy-flat chain-flat diff-flat; do run "$q"; done
    for build in $(round_builds "$round"); do
        use_library "$build"
        for q in $tree_queries; do run "$q" "" "" "$build"; done
    done
    use_library candidate
    for q in diff-e1-flat diff-e2-flat; do run "$q" "$BIG_PER_ROUND"; done
    for build in $(round_builds "$round"); do
        use_library "$build"
        for q in diff-e1 diff-e2; do run "$q" "$BIG_PER_ROUND" "" "$build"; done
    done
    use_library candidate
    # One partition against 90, alternating which goes first.
    for q in open-small open-small-unprepared small-tree small-replay small-diff-summary bushy-tree; do
        if [ $((round % 2)) -eq 0 ]; then order="postgres partitioned"; else order="partitioned postgres"; fi
        for db in $order; do run "$q" "$PER_ROUND" "$db"; done
    done
done

label_of() {
    case $1 in
        bushy-tree) echo "trace_tree, 10,000 spans, bushy (99 x 100), the flat fetch's 11 columns";;
        bushy-tree-all) echo "the same, all 25 columns (SELECT *)";;
        bushy-critical) echo "critical_path, bushy (reads all 10,000 spans, returns 2 rows)";;
        bushy-json) echo "trace_tree_json, bushy (one 10,000-span document)";;
        chain-tree) echo "trace_tree, 10,000-deep chain, the 11 columns";;
        chain-tree-all) echo "the same, all 25 columns (SELECT *)";;
        chain-critical) echo "critical_path, 10,000-deep chain (returns 10,000 rows)";;
        diff) echo "diff_traces, two 1,000-span runs (flat: both runs with input and output)";;
        diff-e1) echo "diff_traces, two 100,000-span runs that resemble each other (aligned exactly), $((ROUNDS * BIG_PER_ROUND)) runs";;
        diff-e2) echo "diff_traces, two 100,000-span runs of 300 tools in different orders (budget spent: by position), $((ROUNDS * BIG_PER_ROUND)) runs";;
    esac
}
flat_of() {
    case $1 in
        bushy-*) echo bushy-flat;; chain-*) echo chain-flat;; diff) echo diff-flat;; diff-e*) echo "$1-flat";;
    esac
}
echo
if [ "${#builds[@]}" -gt 1 ]; then
    echo "Wall time, medians ($((ROUNDS * PER_ROUND)) runs each; base: $BENCH_BASE, candidate: this checkout; alternating)"
    echo
    echo "| query | flat fetch ms | base ms | base ratio | candidate ms | candidate ratio |"
    echo "|---|---|---|---|---|---|"
    for q in $tree_queries diff-e1 diff-e2; do
        flat=$(median_ms "$(flat_of "$q")"); base=$(median_ms "$q@base"); candidate=$(median_ms "$q@candidate")
        echo "| $(label_of "$q") | $flat | $base | $(ratio "$base" "$flat") | $candidate | $(ratio "$candidate" "$flat") |"
    done
else
    echo "| query ($((ROUNDS * PER_ROUND)) runs each, alternating) | median ms | flat fetch median ms | ratio |"
    echo "|---|---|---|---|"
    for q in $tree_queries diff-e1 diff-e2; do
        flat=$(median_ms "$(flat_of "$q")"); tree=$(median_ms "$q@candidate")
        echo "| $(label_of "$q") | $tree | $flat | $(ratio "$tree" "$flat") |"
    done
fi

echo
echo "Opening a trace with 90 daily partitions, against the same rows in one partition (a table, as in 0.3.x)"
echo
echo "| query ($((ROUNDS * PER_ROUND)) runs each, alternating) | one partition median ms | 90 daily partitions median ms | ratio |"
echo "|---|---|---|---|"
for q in open-small open-small-unprepared small-tree small-replay small-diff-summary bushy-tree; do
    one=$(median_ms "$q-postgres"); many=$(median_ms "$q-partitioned")
    case $q in
        open-small) label="the viewer's trace page on a 30-span run (trace, tree, critical path, turns, logs, one span; prepared, as the viewer runs it)";;
        open-small-unprepared) label="the same page, each statement planned each time (as psql sends it)";;
        small-tree) label="trace_tree, 30 spans";;
        small-replay) label="replay, 30 spans";;
        small-diff-summary) label="diff_summary, 30 spans against themselves";;
        bushy-tree) label="trace_tree, 10,000 spans, bushy";;
    esac
    echo "| $label | $one | $many | $(awk -v a="$many" -v b="$one" 'BEGIN {printf "%.2fx", a / b}') |"
done

# Backend CPU: one psql session per query and round runs it CPU_RUNS times, its output discarded;
# the backend reads its own utime + stime (clock ticks) before and after.
ticks="split_part(pg_read_file('/proc/self/stat'), ' ', 14)::bigint + split_part(pg_read_file('/proc/self/stat'), ' ', 15)::bigint"
hz=$(getconf CLK_TCK)
cpu_run() { # query build
    {
        echo "SELECT $ticks AS before \\gset"
        echo "\\o /dev/null"
        for _ in $(seq "$CPU_RUNS"); do cat "$work/$1.sql"; done
        echo "\\o"
        echo "SELECT ($ticks - :before) * 1000.0 / $hz / $CPU_RUNS;"
    } > "$work/cpu.sql"
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres -f "$work/cpu.sql" >> "$work/$1@$2.cpu"
}
median_cpu() {
    sort -n "$work/$1.cpu" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f", m}'
}
cpu_queries="bushy-tree bushy-tree-all bushy-critical bushy-json chain-tree chain-tree-all chain-critical diff"
for round in $(seq "$ROUNDS"); do
    use_library candidate
    for q in bushy-flat chain-flat diff-flat; do cpu_run "$q" flat; done
    for build in $(round_builds "$round"); do
        use_library "$build"
        for q in $cpu_queries; do cpu_run "$q" "$build"; done
    done
done
use_library candidate
echo
echo "Backend CPU ms per run (utime + stime, $CPU_RUNS runs per round, $ROUNDS rounds, medians of the rounds)"
echo
if [ "${#builds[@]}" -gt 1 ]; then
    echo "| query | flat fetch | base | base ratio | candidate | candidate ratio |"
    echo "|---|---|---|---|---|---|"
else
    echo "| query | backend CPU ms | flat fetch | ratio |"
    echo "|---|---|---|---|"
fi
for q in $cpu_queries; do
    flat=$(median_cpu "$(flat_of "$q")@flat"); candidate=$(median_cpu "$q@candidate")
    if [ "${#builds[@]}" -gt 1 ]; then
        base=$(median_cpu "$q@base")
        echo "| $(label_of "$q") | $flat | $base | $(ratio "$base" "$flat") | $candidate | $(ratio "$candidate" "$flat") |"
    else
        echo "| $(label_of "$q") | $candidate | $flat | $(ratio "$candidate" "$flat") |"
    fi
done
