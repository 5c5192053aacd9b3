#!/usr/bin/env bash
# Data that leaves, timed (BENCHMARKS.md quotes the table). One scratch cluster with default
# settings, removed afterwards. BENCH_SPANS spans (default 1,000,000) of one UTC day, in runs of 10
# (a root and nine LLM calls with tokens and no cost, so each is priced), 1% of the runs straddling
# midnight into the next day, and one log record per run:
#   expiry   agent_trace._maintain() as of two days later with a retention of one day: the day's
#            partitions are dropped and the straddling runs recomputed. Side by side with what
#            retention would be without partitions: a DELETE of the same day's spans (its trigger
#            recomputes the runs) and log records. BENCH_ROUNDS rounds (default 2), each on freshly
#            loaded rows, alternating which goes first.
#   erasure  agent_trace.erase(user_id => ...) of one user's 10 runs among the BENCH_SPANS spans.
#   upgrade  ALTER EXTENSION agent_trace UPDATE from 0.3.1 (its frozen script) with the same spans,
#            log records and one AgentOS schema: the seconds it takes, and per million spans.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
SPANS=${BENCH_SPANS:-1000000}
ROUNDS=${BENCH_ROUNDS:-2}
RUNS=$((SPANS / 10))
ext_dir="$("$PG_CONFIG" --sharedir)/extension"
frozen=tests/upgrade/agent_trace--0.3.1.sql
cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-retention.XXXXXX")
copied=
cleanup() {
    stop_scratch_cluster "$cluster"
    if [ -n "$copied" ]; then rm -f "$copied"; fi
}
trap cleanup EXIT
if [ ! -f "$ext_dir/agent_trace--0.3.1.sql" ]; then
    copied="$ext_dir/agent_trace--0.3.1.sql"
    cp "$frozen" "$copied"
fi
start_scratch_cluster "$cluster"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres "$@"; }
# Seconds a statement takes, as psql's \timing measures it.
timed() { # database statement
    sql -d "$1" -c '\timing on' -c "$2" | awk '/^Time:/ {printf "%.2f", $2 / 1000}'
}

# The day's rows, in any database with the extension (0.3.1 too): runs 0..RUNS-1 on 2026-11-10, run
# r starting r * 0.8 s after midnight; every hundredth run ends after midnight with two more spans on
# 2026-11-11.
load() { # database
    sql -d "$1" -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
                    VALUES ('gpt-4o', '*', 2.5, 10) ON CONFLICT DO NOTHING" \
        -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, provider,
                start_time, end_time, input_tokens, output_tokens, user_id, session_id, input, output)
            SELECT lpad(to_hex(r + 1), 32, '0')::agent_trace.trace_id, lpad(to_hex(k + 1), 16, '0')::agent_trace.span_id,
                   CASE WHEN k > 0 THEN '0000000000000001'::agent_trace.span_id END,
                   CASE WHEN k = 0 THEN 'invoke_agent' ELSE 'chat gpt-4o' END, CASE WHEN k = 0 THEN 'agent' ELSE 'llm' END,
                   CASE WHEN k > 0 THEN 'gpt-4o' END, CASE WHEN k > 0 THEN 'openai' END,
                   start, start + interval '2 s', CASE WHEN k > 0 THEN 1000 END, CASE WHEN k > 0 THEN 100 END,
                   CASE WHEN k = 0 THEN 'user-' || (r / 10) END, 'session-' || r, repeat('q', 200), repeat('a', 200)
              FROM generate_series(0, $RUNS - 1) AS r, generate_series(0, 9) AS k,
                   LATERAL (SELECT CASE WHEN r % 100 = 99 AND k >= 8
                                        THEN '2026-11-11 00:00:01+00'::timestamptz + k * interval '1 s'
                                        ELSE '2026-11-10 00:00:00+00'::timestamptz + r * interval '800 ms' + k * interval '50 ms' END AS start) AS s" \
        -c "INSERT INTO agent_trace.agent_logs (record_key, time, trace_id, event_name, body, session_id)
            SELECT gen_random_uuid(), '2026-11-10 00:00:00+00'::timestamptz + r * interval '800 ms',
                   lpad(to_hex(r + 1), 32, '0')::agent_trace.trace_id, 'api_request', 'a log record', 'session-' || r
              FROM generate_series(0, $RUNS - 1) AS r" \
        -c "VACUUM ANALYZE" >/dev/null
}

fresh() { # database: a new database with 0.4.0, the days' partitions and the rows
    sql -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    sql -d "$1" -c "CREATE EXTENSION agent_trace" -c "SELECT count(*) FROM agent_trace._maintain('2026-11-10 12:00+00')" >/dev/null
    load "$1"
}

log "retention benchmark: $SPANS spans ($RUNS runs) of one day, $ROUNDS rounds"
expiry=() deletes=() refreshed=
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) -eq 1 ]; then order="expire delete"; else order="delete expire"; fi
    for way in $order; do
        fresh bench
        if [ "$way" = expire ]; then
            sql -d bench -c "SELECT agent_trace.set_retention('spans', '1 day'), agent_trace.set_retention('logs', '1 day')" >/dev/null
            expiry+=("$(timed bench "SELECT count(*) FROM agent_trace._maintain('2026-11-12 12:00+00')")")
            refreshed=$(sql -d bench -At -c "SELECT count(*) FROM agent_trace.agent_traces")
        else
            deletes+=("$(timed bench "BEGIN; DELETE FROM agent_trace.agent_spans WHERE start_time < '2026-11-11'; DELETE FROM agent_trace.agent_logs WHERE time < '2026-11-11'; COMMIT")")
        fi
        left=$(sql -d bench -At -c "SELECT count(*) || ' spans, ' || (SELECT count(*) FROM agent_trace.agent_traces) || ' traces, ' || (SELECT coalesce(sum(span_count), 0) FROM agent_trace.agent_traces) || ' spans counted' FROM agent_trace.agent_spans")
        log "round $round, $way: $left left"
    done
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f", m}'; }

# Erasure: one user's runs among all the others.
fresh bench
erase_s=$(timed bench "SELECT count(*) FROM agent_trace.erase(user_id => 'user-42')")
erased=$(sql -d bench -At -c "SELECT count(*) FROM agent_trace.agent_traces WHERE user_id = 'user-42'")

# Upgrade from 0.3.1 with the same rows.
sql -d postgres -c "DROP DATABASE IF EXISTS old" -c "CREATE DATABASE old" >/dev/null
sql -d old -c "CREATE EXTENSION agent_trace VERSION '0.3.1'" -c "SELECT agent_trace.enable_agno_compat('ai')" >/dev/null
load old
upgrade_s=$(timed old "ALTER EXTENSION agent_trace UPDATE")
upgraded=$(sql -d old -At -c "SELECT count(*) || ' spans in ' || string_agg(DISTINCT tableoid::regclass::text, ', ') FROM agent_trace.agent_spans")

echo
echo "| $SPANS spans of one day ($ROUNDS rounds, medians) | seconds | per million spans |"
echo "|---|---|---|"
per_million() { awk -v s="$1" -v n="$SPANS" 'BEGIN {printf "%.2f", s * 1000000 / n}'; }
e=$(median "${expiry[@]}"); d=$(median "${deletes[@]}")
echo "| expire the day: maintain() drops its partitions, recomputes the $((RUNS / 100)) runs that straddle midnight ($refreshed traces left) | $e | $(per_million "$e") |"
echo "| the same rows by DELETE (its trigger recomputes the runs) | $d | $(per_million "$d") |"
echo "| DELETE / partition drop | $(awk -v a="$d" -v b="$e" 'BEGIN {printf "%.1fx", a / b}') | |"
echo "| erase one user (10 runs, 100 spans) among them: reads every span ($erased of their traces left) | $erase_s | $(per_million "$erase_s") |"
echo "| upgrade from 0.3.1 with them and an AgentOS schema ($upgraded) | $upgrade_s | $(per_million "$upgrade_s") |"
echo
echo "per round: expire ${expiry[*]} s; DELETE ${deletes[*]} s"
