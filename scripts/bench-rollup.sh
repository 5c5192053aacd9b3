#!/usr/bin/env bash
# The ways to keep agent_trace.agent_traces (one summary row per trace) up to date as spans are
# inserted, side by side in one scratch PostgreSQL cluster (docs/rollups.md quotes the tables).
# Variants, each one insert trigger on agent_spans (or none; scripts/bench-rollup.sql writes them):
#   fold                 the extension's own AFTER INSERT statement trigger: folds the statement's
#                        rows (its transition table) into agent_traces as deltas and prices its LLM
#                        spans into agent_span_costs (rollup.sql). What ships.
#   recompute_trigger    an AFTER INSERT statement trigger that recomputes every trace the statement
#                        touched from all of its stored spans (agent_trace._refresh_traces).
#   recompute_by_ingest  no trigger: the client's INSERT ... RETURNING trace_id, project_id, then, in
#                        the same transaction, _refresh_traces on the distinct traces (an ingest on
#                        Citus, which has no transition tables, would have to do this).
#   row_trigger          an AFTER INSERT FOR EACH ROW trigger: the fold one span at a time (one upsert
#                        of agent_traces per span, one price lookup per LLM span).
#   deferred             an AFTER INSERT statement trigger that only appends the touched traces to an
#                        unindexed queue table; after the run the tables are analyzed and the queue
#                        is drained (the distinct traces, _refresh_traces on chunks of 10,000, one
#                        transaction per chunk, one session per CPU at once) and timed: "drain s
#                        per 1M spans",
#                        and the throughput of ingest and drain together, spans / (ingest time +
#                        drain time). A drain that runs once after the whole run is the best case
#                        for long traces: one recompute per trace, however many batches it got.
#   none                 no rollup at all: the ceiling.
# Shapes (pgbench scripts; every INSERT statement is one transaction):
#   500/stmt   500 spans per INSERT, in fresh traces of 6 spans (an agent root, 3 LLM calls, 2 tool
#              calls): what the ingest writes under load, many small traces per batch;
#   10/stmt    10 spans per INSERT (one trace of 6, one of 4): small requests;
#   long       50 spans per INSERT, all appended to one of 20 long-running traces, which grow to
#              thousands of spans in a run: where recomputing a whole trace costs.
# Half the spans are LLM calls (model gpt-4o, provider openai, input and output tokens, no cost_usd,
# so the database prices them: one model_prices row), the rest tool calls and roots; ~200 characters
# of input and output each; session_id and user_id set; 1% have status ERROR.
# Each run: TRUNCATE agent_spans, agent_traces, agent_span_costs (and forget their column statistics,
# which TRUNCATE keeps and which would carry one shape's into the next), CHECKPOINT, then pgbench -n -c 4
# -j 2 -T BENCH_SECONDS on one shape with one variant; spans/s = pgbench's tps x spans per
# transaction. After every variant that keeps agent_traces (all but none; deferred after its drain)
# agent_traces is compared with an aggregation of agent_spans from scratch (span, error, LLM and
# tool counts, token sums, first start, last end, session, user, root, computed cost), and the bench
# stops on any difference. BENCH_ROUNDS rounds, the variants' order reversed every other round;
# prints the medians and each variant's ratio to fold.
# The cluster: PostgreSQL's default settings but fsync=off (scripts/lib.sh), removed afterwards;
# partitions made by agent_trace.maintain(), so spans land in today's partition.
# Settings (environment): BENCH_SECONDS=10 per run, BENCH_ROUNDS=3, BENCH_SHAPES="500/stmt 10/stmt
# long" (or a part of it), BENCH_DRAIN_CHUNK=10000, BENCH_DRAIN_PLAN_CACHE_MODE=force_custom_plan
# (auto: PostgreSQL's default); about 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ROUNDS=${BENCH_ROUNDS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CLIENTS=4
THREADS=2
DRAIN_SESSIONS=$(nproc)
DRAIN_CHUNK=${BENCH_DRAIN_CHUNK:-10000}
DRAIN_PLAN_CACHE_MODE=${BENCH_DRAIN_PLAN_CACHE_MODE:-force_custom_plan}
VARIANTS=(fold recompute_trigger recompute_by_ingest row_trigger deferred none)
SHAPES=(${BENCH_SHAPES:-500/stmt 10/stmt long})
declare -A SPANS_PER_STATEMENT=([500/stmt]=500 [10/stmt]=10 [long]=50)
LONG_TRACES=20
declare -A SHAPE_LABELS=([500/stmt]="500 spans/INSERT, traces of 6" [10/stmt]="10 spans/INSERT"
                         [long]="50 spans/INSERT into $LONG_TRACES long traces")

version=$(extension_version)
ext_dir="$("$PG_CONFIG" --sharedir)/extension"
[ -f "$ext_dir/agent_trace--$version.sql" ] \
    || { echo "missing $ext_dir/agent_trace--$version.sql: run scripts/install-extension.sh (PG_CONFIG=$PG_CONFIG)" >&2; exit 1; }

cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-rollup.XXXXXX")
trap 'stop_scratch_cluster "$cluster"' EXIT
start_scratch_cluster "$cluster"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d rollup "$@"; }
psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres -c "CREATE DATABASE rollup"
sql -c "CREATE EXTENSION agent_trace VERSION '$version'" -c "SELECT count(*) FROM agent_trace.maintain()" \
    -f scripts/bench-rollup.sql >/dev/null

log "$(nproc) CPUs; $(sql -At -c "SELECT version()")"
log "settings: $(sql -At -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name)
                               FROM pg_settings
                              WHERE name IN ('shared_buffers', 'work_mem', 'max_wal_size', 'fsync',
                                             'synchronous_commit', 'wal_level', 'autovacuum', 'jit')")"

# The INSERT statement of shape $1 (no semicolon), for a pgbench script.
insert_spans() {
    local columns="trace_id, span_id, parent_span_id, start_time, end_time, name, span_type, status_code,
        model, provider, input_tokens, output_tokens, tool_name, input, output, session_id, user_id"
    # From spans(trace_id, session_id, user_id, pos, span_id, parent_span_id): pos 0 is a trace's
    # root (an agent span), odd positions are LLM calls, even ones tool calls.
    local select="SELECT s.trace_id::agent_trace.trace_id, s.span_id::agent_trace.span_id,
       s.parent_span_id::agent_trace.span_id,
       now() + s.pos * interval '100 ms',
       now() + CASE WHEN s.pos = 0 THEN interval '1 s' ELSE s.pos * interval '100 ms' + interval '80 ms' END,
       CASE WHEN s.pos = 0 THEN 'agent run' WHEN s.pos % 2 = 1 THEN 'chat gpt-4o' ELSE 'execute_tool get_weather' END,
       CASE WHEN s.pos = 0 THEN 'agent' WHEN s.pos % 2 = 1 THEN 'llm' ELSE 'tool' END,
       CASE WHEN random() < 0.01 THEN 'ERROR' ELSE 'OK' END,
       CASE WHEN s.pos % 2 = 1 THEN 'gpt-4o' END,
       CASE WHEN s.pos % 2 = 1 THEN 'openai' END,
       CASE WHEN s.pos % 2 = 1 THEN 500 + (random() * 3000)::int END,
       CASE WHEN s.pos % 2 = 1 THEN 50 + (random() * 500)::int END,
       CASE WHEN s.pos > 0 AND s.pos % 2 = 0 THEN 'get_weather' END,
       left(repeat(md5(random()::text), 7), 200),
       left(repeat(md5(random()::text), 7), 200),
       s.session_id, s.user_id
  FROM spans AS s"
    local n=${SPANS_PER_STATEMENT[$1]}
    if [ "$1" = long ]; then
        # :t is one of the long traces; :s makes span ids unique to this statement.
        cat <<EOF
INSERT INTO agent_trace.agent_spans ($columns)
WITH spans AS (
    SELECT lpad(to_hex(:t), 32, '0') AS trace_id, 'session-' || :t AS session_id, 'user-' || :t % 7 AS user_id,
           k + 1 AS pos, lpad(to_hex(:s::bigint * 64 + k), 16, '0') AS span_id, '0000000000000001' AS parent_span_id
      FROM generate_series(0, $((n - 1))) AS k)
$select
EOF
    else
        cat <<EOF
INSERT INTO agent_trace.agent_spans ($columns)
WITH traces AS (
    SELECT t, replace(gen_random_uuid()::text, '-', '') AS trace_id,
           'session-' || (random() * 10000)::int AS session_id, 'user-' || (random() * 1000)::int AS user_id
      FROM generate_series(0, $(((n - 1) / 6))) AS t
), spans AS (
    SELECT t.trace_id, t.session_id, t.user_id, k % 6 AS pos, lpad(to_hex(k % 6 + 1), 16, '0') AS span_id,
           CASE WHEN k % 6 > 0 THEN '0000000000000001' END AS parent_span_id
      FROM generate_series(0, $((n - 1))) AS k
      JOIN traces AS t ON t.t = k / 6)
$select
EOF
    fi
}

# The pgbench script of shape $1 for variant $2.
pgbench_script() {
    if [ "$1" = long ]; then
        printf '\\set t random(1, %d)\n\\set s random(1, 100000000000000)\n' "$LONG_TRACES"
    fi
    if [ "$2" = recompute_by_ingest ]; then
        # The client gets the touched traces back and recomputes them before it commits. Each
        # trace with its new spans' first and last start: _refresh_traces reads only there and
        # within the trace's stored times (scripts/bench-rollup.sql says why).
        echo "BEGIN;"
        echo "WITH inserted AS ("
        insert_spans "$1"
        echo " RETURNING trace_id, project_id, start_time)"
        cat <<'EOF'
SELECT array_agg(k.trace_id) AS trace_ids, array_agg(k.project_id) AS project_ids,
       array_agg(k.spans_from) AS spans_from, array_agg(k.spans_to) AS spans_to
  FROM (SELECT i.trace_id, i.project_id, min(i.start_time) AS spans_from, max(i.start_time) AS spans_to
          FROM inserted AS i GROUP BY i.trace_id, i.project_id) AS k \gset
SELECT agent_trace._refresh_traces(':trace_ids', ':project_ids', ':spans_from', ':spans_to');
COMMIT;
EOF
    else
        insert_spans "$1"
        echo ";"
    fi
}

for shape in "${SHAPES[@]}"; do
    for variant in "${VARIANTS[@]}"; do
        pgbench_script "$shape" "$variant" >"$cluster/${shape%%/*}-$variant.sql"
    done
done
give_to_pg_user "$cluster"

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now_s() { date +%s.%N; }
declare -A rates drains combined long_sizes

# One run: variant $2 on shape $1; appends its spans/s to rates["$1 $2"].
run() {
    local shape=$1 variant=$2 n=${SPANS_PER_STATEMENT[$1]} out status tps processed spans rate traces note
    sql -c "SELECT rollup_bench.use_variant('$variant')" -c "CHECKPOINT" >/dev/null
    out="$cluster/pgbench.out"
    status=0
    as_pg_user "$PG_BINDIR/pgbench" -n -h "$cluster" -U postgres -c "$CLIENTS" -j "$THREADS" -T "$SECONDS_PER_RUN" \
        -f "$cluster/${shape%%/*}-$variant.sql" rollup >"$out" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || grep -qi 'error\|aborted' "$out"; then
        echo "pgbench failed ($shape, $variant, exit $status):" >&2; cat "$out" >&2; exit 1
    fi
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$out")
    processed=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$out")
    spans=$(sql -At -c "SELECT count(*) FROM agent_trace.agent_spans")
    if [ "$spans" -ne $((processed * n)) ]; then
        echo "$shape, $variant: $spans spans stored, pgbench counted $processed transactions" >&2; exit 1
    fi
    rate=$(awk -v tps="$tps" -v n="$n" 'BEGIN {printf "%.0f", tps * n}')
    rates["$shape $variant"]+="$rate "
    note=""
    if [ "$variant" = deferred ]; then
        local start seconds pids=() pid
        # A drain runs on a live database, whose tables autovacuum keeps analyzed.
        sql -c "ANALYZE agent_trace.agent_spans, agent_trace.agent_traces, agent_trace.agent_span_costs"
        start=$(now_s)
        traces=$(sql -At -c "SELECT rollup_bench.drain_prepare($DRAIN_CHUNK)")
        for w in $(seq 0 $((DRAIN_SESSIONS - 1))); do
            sql -c "SET plan_cache_mode = $DRAIN_PLAN_CACHE_MODE" -c "CALL rollup_bench.drain($w, $DRAIN_SESSIONS)" & pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid"; done
        seconds=$(awk -v a="$start" -v b="$(now_s)" 'BEGIN {printf "%.2f", b - a}')
        drains["$shape"]+="$(awk -v s="$seconds" -v n="$spans" 'BEGIN {printf "%.2f", s / n * 1e6}') "
        # Ingest time (spans / spans per second) plus drain time.
        combined["$shape"]+="$(awk -v r="$rate" -v s="$seconds" -v n="$spans" 'BEGIN {printf "%.0f", n / (n / r + s)}') "
        note=", drained $traces traces in ${seconds}s"
    fi
    if [ "$variant" != none ]; then
        traces=$(sql -At -c "SELECT rollup_bench.check_exact()") \
            || { echo "$shape, $variant: agent_traces is not what agent_spans add up to (above)" >&2; exit 1; }
        note+=", $traces traces exact"
    fi
    if [ "$shape" = long ]; then
        long_sizes["$variant"]+="$((spans / LONG_TRACES)) "
    fi
    log "$shape $variant: $rate spans/s ($spans spans$note)"
}

log "$ROUNDS rounds of ${SECONDS_PER_RUN}s runs, pgbench -c $CLIENTS -j $THREADS, variants alternating: ${VARIANTS[*]}"
for round in $(seq "$ROUNDS"); do
    order=("${VARIANTS[@]}")
    if [ $((round % 2)) -eq 0 ]; then
        order=()
        for ((i = ${#VARIANTS[@]} - 1; i >= 0; i--)); do order+=("${VARIANTS[i]}"); done
    fi
    for shape in "${SHAPES[@]}"; do
        for variant in "${order[@]}"; do
            run "$shape" "$variant"
        done
    done
done

# The median of the values in $1, printed with format $2 (default: a whole number).
m() { median <<<"$1" | awk -v f="${2:-%.0f}" '{printf f, $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '\nSpans per second, median of %s runs of %ss (pgbench -c %s -j %s), and the ratio to fold:\n\n' \
    "$ROUNDS" "$SECONDS_PER_RUN" "$CLIENTS" "$THREADS"
printf '| variant |'
for shape in "${SHAPES[@]}"; do printf ' %s | vs fold |' "${SHAPE_LABELS[$shape]}"; done
printf '\n|---|'
for shape in "${SHAPES[@]}"; do printf -- '--:|--:|'; done
printf '\n'
for variant in "${VARIANTS[@]}"; do
    printf '| %s' "$variant"
    for shape in "${SHAPES[@]}"; do
        printf ' | %s | %sx' "$(m "${rates[$shape $variant]}")" \
            "$(ratio "$(m "${rates[$shape $variant]}")" "$(m "${rates[$shape fold]}")")"
    done
    printf ' |\n'
done
printf '\ndeferred, with its drain (%s sessions, chunks of %s traces, plan_cache_mode %s); combined = spans / (ingest time + drain time):\n\n' \
    "$DRAIN_SESSIONS" "$DRAIN_CHUNK" "$DRAIN_PLAN_CACHE_MODE"
printf '| shape | ingest spans/s | drain s per 1M spans | combined spans/s | combined vs fold |\n|---|--:|--:|--:|--:|\n'
for shape in "${SHAPES[@]}"; do
    printf '| %s | %s | %s | %s | %sx |\n' "${SHAPE_LABELS[$shape]}" "$(m "${rates[$shape deferred]}")" "$(m "${drains[$shape]}" %.2f)" \
        "$(m "${combined[$shape]}")" "$(ratio "$(m "${combined[$shape]}")" "$(m "${rates[$shape fold]}")")"
done
if [ -n "${long_sizes[fold]:-}" ]; then
    printf '\nSpans per long trace at the end of a run (median):'
    sep=' '
    for variant in "${VARIANTS[@]}"; do printf '%s%s %s' "$sep" "$variant" "$(m "${long_sizes[$variant]}")"; sep=', '; done
    printf '\n'
fi
printf '\nEach run, in round order:\n\n'
for shape in "${SHAPES[@]}"; do
    for variant in "${VARIANTS[@]}"; do
        printf -- '- %s %s: %s\n' "$shape" "$variant" "${rates[$shape $variant]% }"
    done
    printf -- '- %s deferred drain s per 1M spans: %s; combined: %s\n' "$shape" "${drains[$shape]% }" "${combined[$shape]% }"
done
