#!/usr/bin/env bash
# trace_tree against a flat indexed fetch of the same trace, and diff_traces of two 1,000-span runs
# and of two pairs of 100,000-span runs (BENCHMARKS.md quotes the table). A scratch PostgreSQL 15 cluster with default settings, removed
# afterwards; pgbench sends each query and reads every row, so both sides pay the same transfer.
# Rounds alternate between the queries compared, so machine noise hits both; medians are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ROUNDS=${BENCH_ROUNDS:-5}
PER_ROUND=${BENCH_PER_ROUND:-20}
# The 100,000-span diffs take around a second each: fewer runs per round.
BIG_PER_ROUND=${BENCH_BIG_PER_ROUND:-2}
cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-api.XXXXXX")
trap 'stop_scratch_cluster "$cluster"' EXIT
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
done
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
run() { # query [transactions [database]]
    local db=${3:-postgres} log="$1${3:+-$3}" mode=simple
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
for round in $(seq "$ROUNDS"); do
    for q in bushy-flat bushy-tree bushy-tree-all chain-flat chain-tree chain-tree-all diff-flat diff; do run "$q"; done
    for q in diff-e1-flat diff-e1 diff-e2-flat diff-e2; do run "$q" "$BIG_PER_ROUND"; done
    # One partition against 90, alternating which goes first.
    for q in open-small open-small-unprepared small-tree small-replay small-diff-summary bushy-tree; do
        if [ $((round % 2)) -eq 0 ]; then order="postgres partitioned"; else order="partitioned postgres"; fi
        for db in $order; do run "$q" "$PER_ROUND" "$db"; done
    done
done

echo
echo "| query ($((ROUNDS * PER_ROUND)) runs each, alternating) | median ms | flat fetch median ms | ratio |"
echo "|---|---|---|---|"
for shape in bushy chain; do
    tree=$(median_ms "$shape-tree"); flat=$(median_ms "$shape-flat")
    label="trace_tree, 10,000 spans, $shape"
    [ "$shape" = chain ] && label="trace_tree, 10,000-deep chain"
    [ "$shape" = bushy ] && label="trace_tree, 10,000 spans, bushy (99 x 100)"
    echo "| $label | $tree | $flat | $(awk -v a="$tree" -v b="$flat" 'BEGIN {printf "%.2fx", a / b}') |"
    all=$(median_ms "$shape-tree-all")
    echo "| the same, all 25 columns (SELECT *) | $all | $flat | $(awk -v a="$all" -v b="$flat" 'BEGIN {printf "%.2fx", a / b}') |"
done
diff=$(median_ms diff); flat=$(median_ms diff-flat)
echo "| diff_traces, two 1,000-span runs | $diff | $flat | $(awk -v a="$diff" -v b="$flat" 'BEGIN {printf "%.2fx", a / b}') |"
for pair in e1 e2; do
    diff=$(median_ms "diff-$pair"); flat=$(median_ms "diff-$pair-flat")
    label="diff_traces, two 100,000-span runs that resemble each other (aligned exactly), $((ROUNDS * BIG_PER_ROUND)) runs"
    [ "$pair" = e2 ] && label="diff_traces, two 100,000-span runs of 300 tools in different orders (budget spent: by position), $((ROUNDS * BIG_PER_ROUND)) runs"
    echo "| $label | $diff | $flat | $(awk -v a="$diff" -v b="$flat" 'BEGIN {printf "%.2fx", a / b}') |"
done

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
