#!/usr/bin/env bash
# agent_trace at 10 million spans (BENCHMARKS.md quotes the tables; docs/sizing.md derives the sizing):
#   1. loads BENCH_SPANS spans (default 10,000,000: 1,000,000 runs of 10) over the 30 days before
#      now into a scratch cluster, in chunks through the real tables and triggers
#      (scripts/bench-scale-load.sql), newest first, checking the free disk space before each chunk:
#      loading stops, saying at how many spans, when a chunk could leave less than BENCH_MIN_FREE_GB
#      free (the ingest rounds' spans counted); the days loaded then have the full load's density;
#   2. bytes per span on disk: table, TOAST and indexes of agent_spans, agent_span_costs (all
#      partitions), agent_traces and agent_scores;
#   3. the first questions, with the statements the product runs and its values written in (the
#      viewer plans each statement for its values: force_custom_plan): the trace list newest first
#      (sql/viewer/trace_list.sql, wrapped as the viewer sends it) unfiltered and by session, user,
#      agent, model and score; a trace's spans (sql/viewer/trace_tree.sql); the sessions list
#      (sql/viewer/sessions.sql); a session's cost (sql/mcp/session.sql, agent_sessions); a day's cost
#      by model (sql/cookbook.sql's per model and day, for one day). Median latency of BENCH_ROUNDS
#      rounds of BENCH_PER_ROUND runs (pgbench, every row read), the order alternating; and each
#      one's plan (auto_explain of the statement and of what its functions run, with ANALYZE and
#      BUFFERS): the scans, index or sequential, their rows, and the buffers;
#   4. ingest throughput at that size against an empty database: the release `agent-trace serve`,
#      one per database of the same cluster, OTLP/HTTP protobuf requests of 500 spans and of 10
#      (runs of the same shape as the load; scripts/bench-scale.py sends them, 4 clients), the same
#      spans into each, rounds alternating which goes first; the empty database is emptied before
#      each of its rounds.
# The cluster loads with fsync, synchronous_commit and full_page_writes off and autovacuum off, then
# is vacuumed, analyzed and restarted with durability on (fsync, synchronous_commit,
# full_page_writes; autovacuum on) for steps 2 to 4. shared_buffers = 1GB, the rest PostgreSQL's
# defaults. Removed afterwards (BENCH_KEEP=1 keeps it, stopped).
# Settings (environment): BENCH_SPANS=10000000, BENCH_CHUNK_RUNS=20000, BENCH_ROUNDS=5,
# BENCH_PER_ROUND=5, BENCH_INGEST=100000:500:4,20000:10:4 (SPANS:SPANS_PER_REQUEST:CLIENTS),
# BENCH_INGEST_ROUNDS=5, BENCH_MIN_FREE_GB=15, BENCH_DIR (default a new /tmp/agent-trace-bench-scale.*).
# A smoke run (half a minute): BENCH_SPANS=100000 BENCH_ROUNDS=1 BENCH_PER_ROUND=2 BENCH_INGEST_ROUNDS=1
# BENCH_INGEST=5000:500:4,1000:10:4 scripts/bench-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
SPANS=${BENCH_SPANS:-10000000}
CHUNK_RUNS=${BENCH_CHUNK_RUNS:-20000}
ROUNDS=${BENCH_ROUNDS:-5}
PER_ROUND=${BENCH_PER_ROUND:-5}
INGEST=${BENCH_INGEST:-100000:500:4,20000:10:4}
INGEST_ROUNDS=${BENCH_INGEST_ROUNDS:-5}
MIN_FREE_GB=${BENCH_MIN_FREE_GB:-15}
RUNS=$((SPANS / 10))
# bench-scale.py builds the OTLP requests with opentelemetry-proto, from the test clients' venv.
python=.venv-test-clients/bin/python
[ -x "$python" ] || { echo "missing $python: run scripts/install-test-clients.sh (make test-clients)" >&2; exit 1; }

cargo build --release -p ingest --bin agent-trace
server_bin=${CARGO_TARGET_DIR:-target}/release/agent-trace

dir=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-scale.XXXXXX")}
mkdir -p "$dir/work"
chmod 755 "$dir"
give_to_pg_user "$dir"
data=$dir/data
servers=()
cleanup() {
    for pid in "${servers[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    [ -f "$data/postmaster.pid" ] && as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

common=(-c "listen_addresses=" -c "unix_socket_directories=$dir" -c shared_buffers=1GB)
loading=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off
    -c max_wal_size=2GB -c checkpoint_timeout=30min -c maintenance_work_mem=512MB)
durable=(-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c autovacuum=on)
start() { # settings...
    as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w -o "$(printf '%q ' "$@")" start >/dev/null \
        || { tail -n 20 "$dir/server.log" >&2; return 1; }
}
stop() { as_pg_user "$PG_BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null; }
as_pg_user "$PG_BINDIR/initdb" -D "$data" -U postgres --auth=trust --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
start "${common[@]}" "${loading[@]}"
sql() { "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -U postgres "$@"; }
free_kb() { df --output=avail -k "$dir" | tail -n 1; }

# Two databases: the loaded one, and an empty one for the ingest's comparison. The loaded one gets
# the partitions of the 30 days before now (and maintain()'s three days ahead), as daily traffic
# with maintain() running would have made them.
t_end=$(sql -d postgres -At -c "SELECT date_trunc('second', now())")
for db in scale empty; do
    sql -d postgres -c "CREATE DATABASE $db"
    sql -d "$db" -c "CREATE EXTENSION agent_trace"
done
sql -d scale -c "SELECT count(*) FROM generate_series(timestamptz '$t_end' - interval '30 days', '$t_end', interval '1 day') AS d,
                 LATERAL agent_trace._maintain(d) AS m" >/dev/null
sql -d empty -c "SELECT count(*) FROM agent_trace._maintain(now())" >/dev/null
partitions=$(sql -d scale -At -c "SELECT count(*) FROM agent_trace.agent_partitions WHERE table_name = 'agent_spans'")

# 1. Load, a chunk of runs at a time, while the disk allows.
log "loading $SPANS spans ($RUNS runs of 10) over 30 days into $partitions partitions of agent_spans, $CHUNK_RUNS runs per chunk"
ingest_spans=0
for shape in ${INGEST//,/ }; do ingest_spans=$((ingest_spans + ${shape%%:*} * INGEST_ROUNDS)); done
loaded_runs=0 stopped= per_span_guess=5000 load_started=$(date +%s.%N)
while [ "$loaded_runs" -lt "$RUNS" ]; do
    # Newest runs first: a load the disk stops holds the latest days, today's among them, as a
    # database that has taken this rate for that many days does.
    last=$((RUNS - loaded_runs)) first=$((RUNS - loaded_runs - CHUNK_RUNS)); [ "$first" -lt 0 ] && first=0
    # What the chunk may take: bytes per span so far (a first guess before any), doubled for WAL;
    # and what the ingest rounds add after the load.
    if [ "$loaded_runs" -gt 0 ]; then
        per_span_guess=$(sql -d scale -At -c "SELECT (sum(pg_total_relation_size(relid)) / $((loaded_runs * 10)))::bigint
            FROM (SELECT relid FROM pg_partition_tree('agent_trace.agent_spans') WHERE isleaf
                  UNION ALL SELECT relid FROM pg_partition_tree('agent_trace.agent_span_costs') WHERE isleaf
                  UNION ALL VALUES ('agent_trace.agent_traces'::regclass), ('agent_trace.agent_scores'::regclass)) AS r")
    fi
    need_kb=$(( ((last - first) * 10 * 2 + ingest_spans) * per_span_guess / 1024 ))
    if [ $(( $(free_kb) - need_kb )) -lt $((MIN_FREE_GB * 1024 * 1024)) ]; then
        stopped="stopped at $((loaded_runs * 10)) spans: another chunk could leave less than $MIN_FREE_GB GB free ($(($(free_kb) / 1024 / 1024)) GB free)"
        log "$stopped"
        break
    fi
    sql -d scale -v first="$first" -v last="$last" -v runs="$RUNS" -v t_end="$t_end" -f scripts/bench-scale-load.sql
    loaded_runs=$((loaded_runs + last - first))
    log "$((loaded_runs * 10)) spans loaded ($(($(free_kb) / 1024 / 1024)) GB free)"
done
load_seconds=$(awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
SPANS_LOADED=$((loaded_runs * 10))
log "vacuum and analyze"
vacuum_started=$(date +%s.%N)
"$PG_BINDIR/vacuumdb" -h "$dir" -U postgres -d scale -j 2 --analyze -q
"$PG_BINDIR/vacuumdb" -h "$dir" -U postgres -d empty --analyze -q
vacuum_seconds=$(awk -v a="$vacuum_started" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
sql -d postgres -c CHECKPOINT
stop
start "${common[@]}" "${durable[@]}"
settings=$(sql -d scale -At -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ', ' ORDER BY name) FROM pg_settings
                                 WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'autovacuum')")

# 2. Bytes per span.
sizes=$(sql -d scale -At -F '|' -v spans="$SPANS_LOADED" <<'SQL'
WITH rels AS (
    SELECT 'agent_spans' AS t, relid FROM pg_partition_tree('agent_trace.agent_spans') WHERE isleaf
    UNION ALL SELECT 'agent_span_costs', relid FROM pg_partition_tree('agent_trace.agent_span_costs') WHERE isleaf
    UNION ALL SELECT 'agent_traces', 'agent_trace.agent_traces'::regclass
    UNION ALL SELECT 'agent_scores', 'agent_trace.agent_scores'::regclass
), sized AS (
    SELECT r.t, sum(c.reltuples)::bigint AS rows_, sum(pg_relation_size(r.relid)) AS heap,
           sum(coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)) AS toast,
           sum(pg_indexes_size(r.relid)) AS indexes, sum(pg_total_relation_size(r.relid)) AS total
      FROM rels AS r JOIN pg_class AS c ON c.oid = r.relid
     GROUP BY r.t
)
SELECT t, rows_, heap, toast, indexes, total FROM sized
UNION ALL SELECT 'all', NULL, sum(heap), sum(toast), sum(indexes), sum(total) FROM sized
ORDER BY total
SQL
)

# 3. The queries. Values: a session, a user and an agent of the data, a model of ten, the score
# filters, a ten-span run, a day in the middle.
work=$dir/work
q() { # name file [values: N=value ...]
    local name=$1 file=$2 text; shift 2
    text=$(sed -e '/^--/d' "$file")
    for kv in "$@"; do
        text=$(printf '%s' "$text" | sed -e "s/\\\$${kv%%=*}::/${kv#*=}::/g")
    done
    # Any parameter left is NULL.
    text=$(printf '%s' "$text" | sed -E 's/\$[0-9]+::/NULL::/g')
    printf '%s;\n' "$text" > "$work/$name.sql"
}
viewer() { # name file values...: wrapped as the viewer sends it (sql/viewer/rows_as_json.sql)
    local name=$1; shift
    q "$name" "$@"
    { sed -e '/^--/d' -e '/^QUERY$/,$d' sql/viewer/rows_as_json.sql; sed -e 's/;$//' "$work/$name.sql";
      sed -e '1,/^QUERY$/d' sql/viewer/rows_as_json.sql; echo ';'; } > "$work/$name.tmp"
    mv "$work/$name.tmp" "$work/$name.sql"
}
mid_run=$((RUNS - loaded_runs / 2))
trace=$(sql -d scale -At -c "SELECT md5('run $mid_run')")
session=$(sql -d scale -At -c "SELECT session_id FROM agent_trace.agent_traces WHERE trace_id = '$trace'")
user=$(sql -d scale -At -c "SELECT user_id FROM agent_trace.agent_traces WHERE trace_id = '$trace'")
day=$(sql -d scale -At -c "SELECT (start_time AT TIME ZONE 'UTC')::date FROM agent_trace.agent_traces WHERE trace_id = '$trace'")
next_day=$(date -u -d "$day + 1 day" +%F)
all_time=("1='-infinity'" "2='infinity'" "12=100")
viewer list sql/viewer/trace_list.sql "${all_time[@]}"
viewer list_session sql/viewer/trace_list.sql "${all_time[@]}" "6='$session'"
viewer list_user sql/viewer/trace_list.sql "${all_time[@]}" "5='$user'"
viewer list_agent sql/viewer/trace_list.sql "${all_time[@]}" "4='agent-7'"
viewer list_model sql/viewer/trace_list.sql "${all_time[@]}" "7='o3'"
viewer list_score sql/viewer/trace_list.sql "${all_time[@]}" "14='relevance'" "15='0.9'"
viewer list_thumbs sql/viewer/trace_list.sql "${all_time[@]}" "14='helpfulness'" "17='thumbs_down'"
viewer tree sql/viewer/trace_tree.sql "1='$trace'"
viewer sessions sql/viewer/sessions.sql "1='-infinity'" "2='infinity'" "6=100"
viewer sessions_day sql/viewer/sessions.sql "1='$day'" "2='$next_day'" "6=100"
q session_cost sql/mcp/session.sql "1='$session'"
# sql/cookbook.sql's tokens and cost per model per day, for one day, with the computed costs (the
# day's range on both tables, so that each reads its day's partition only).
cat > "$work/day_cost.sql" <<SQL
SELECT s.model, count(*) AS calls, sum(s.input_tokens) AS input_tokens, sum(s.output_tokens) AS output_tokens,
       sum(s.cost_usd) AS cost_usd, sum(c.computed_cost_usd) AS computed_cost_usd
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c
         ON c.trace_id = s.trace_id AND c.span_id = s.span_id AND c.start_time = s.start_time AND c.project_id = s.project_id
 WHERE s.span_type = 'llm' AND s.start_time >= '$day' AND s.start_time < '$next_day'
   AND c.start_time >= '$day' AND c.start_time < '$next_day'
 GROUP BY s.model
 ORDER BY s.model;
SQL
queries=(list list_session list_user list_agent list_model list_score list_thumbs tree sessions sessions_day session_cost day_cost)
declare -A label=(
    [list]="trace list, newest first, first page of 100 (trace_list.sql)"
    [list_session]="... of one session (50 runs)"
    [list_user]="... of one user"
    [list_agent]="... of one agent (of 40)"
    [list_model]="... with a model (o3, one of ten)"
    [list_score]="... with a relevance score >= 0.9"
    [list_thumbs]="... with a thumbs_down (1 run in 210)"
    [tree]="a trace's spans: the waterfall (trace_tree.sql, 10 spans)"
    [sessions]="sessions list, most recently active first, all time (sessions.sql)"
    [sessions_day]="... active on one day"
    [session_cost]="a session's cost (agent_sessions, the MCP session tool's session.sql)"
    [day_cost]="a day's tokens and cost by model (cookbook.sql, one day)"
)
give_to_pg_user "$work"
export PGOPTIONS="-c jit=off -c search_path=pg_catalog,pg_temp -c TimeZone=UTC"
log "plans"
for name in "${queries[@]}"; do
    # auto_explain at NOTICE: the statement's plan and those of the statements its functions run.
    sql -d scale -c "LOAD 'auto_explain'" -c "SET auto_explain.log_min_duration = 0" \
        -c "SET auto_explain.log_analyze = on" -c "SET auto_explain.log_buffers = on" \
        -c "SET auto_explain.log_nested_statements = on" -c "SET auto_explain.log_format = json" \
        -c "SET auto_explain.log_level = notice" -f "$work/$name.sql" >/dev/null 2>"$work/$name.plan"
done
run() { # name
    (cd "$work" && "$PG_BINDIR/pgbench" -n -h "$dir" -U postgres -c 1 -t "$PER_ROUND" -f "$1.sql" -l --log-prefix="$1" scale >/dev/null 2>&1)
    cat "$work/$1".[0-9]* | awk '{print $3}' >> "$work/$1.latencies"
    rm -f "$work/$1".[0-9]*
}
median_ms() {
    sort -n "$work/$1.latencies" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f", m / 1000}'
}
log "timing the queries: $ROUNDS rounds of $PER_ROUND runs each"
for round in $(seq "$ROUNDS"); do
    order=("${queries[@]}")
    if [ $((round % 2)) -eq 0 ]; then
        order=(); for ((i = ${#queries[@]} - 1; i >= 0; i--)); do order+=("${queries[i]}"); done
    fi
    for name in "${order[@]}"; do run "$name"; done
done

# 4. Ingest: a server per database.
server_port= server_pid=
start_server() { # database: sets server_port and server_pid
    local grpc
    server_port=$(free_port); grpc=$(free_port)
    "$server_bin" serve --database-url "host=$dir user=postgres dbname=$1" --listen "127.0.0.1:$server_port" \
        --grpc-listen "127.0.0.1:$grpc" >"$dir/serve-$1.log" 2>&1 &
    server_pid=$!
    servers+=("$server_pid")
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$server_port/ready" >/dev/null 2>&1 && return
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.2
    done
    cat "$dir/serve-$1.log" >&2; return 1
}
start_server scale; port_scale=$server_port pid_scale=$server_pid
start_server empty; port_empty=$server_port pid_empty=$server_pid
postmaster=$(head -n 1 "$data/postmaster.pid")
log "ingest: $INGEST, $INGEST_ROUNDS rounds"
ingest_results=$dir/ingest.tsv
: > "$ingest_results"
for round in $(seq "$INGEST_ROUNDS"); do
    for shape in ${INGEST//,/ }; do
        IFS=: read -r n batch clients <<<"$shape"
        bodies=$dir/bodies-$shape
        "$python" scripts/bench-scale.py encode --spans "$n" --batch "$batch" --seed "$round" --out "$bodies"
        if [ $((round % 2)) -eq 1 ]; then order="scale empty"; else order="empty scale"; fi
        for db in $order; do
            if [ "$db" = empty ]; then
                sql -d empty -c "TRUNCATE agent_trace.agent_spans, agent_trace.agent_traces, agent_trace.agent_span_costs" -c CHECKPOINT >/dev/null
                port=$port_empty pid=$pid_empty
            else
                sql -d scale -c CHECKPOINT >/dev/null
                port=$port_scale pid=$pid_scale
            fi
            before=$(sql -d "$db" -At -c "SELECT count(*) FROM agent_trace.agent_spans")
            result=$("$python" scripts/bench-scale.py send --url "http://127.0.0.1:$port/v1/traces" --bodies "$bodies" \
                --spans "$n" --clients "$clients" --server-pid "$pid" --postmaster-pid "$postmaster")
            after=$(sql -d "$db" -At -c "SELECT count(*) FROM agent_trace.agent_spans")
            [ $((after - before)) -eq "$n" ] || { echo "bench: $db stored $((after - before)) spans of $n" >&2; exit 1; }
            printf '%s\t%s\t%s\t%s\n' "$shape" "$db" "$round" "$result" >> "$ingest_results"
            log "round $round, $shape, $db: $result"
        done
        rm -f "$bodies"
    done
done

# The tables.
echo
days=$(sql -d scale -At -c "SELECT count(*) FROM agent_trace.agent_partitions WHERE table_name = 'agent_spans' AND estimated_rows > 0")
echo "$SPANS_LOADED spans ($loaded_runs runs) in $days of $partitions daily partitions${stopped:+ ($stopped)}; loaded in $load_seconds s (fsync off), vacuumed and analyzed in $vacuum_seconds s; measured with $settings"
echo
echo "| table | rows | table (heap) | TOAST | indexes | total | bytes per span |"
echo "|---|---|---|---|---|---|---|"
while IFS='|' read -r t rows heap toast indexes total; do
    mb() { awk -v b="$1" 'BEGIN {printf "%.0f MB", b / 1048576}'; }
    echo "| $t | ${rows:-} | $(mb "$heap") | $(mb "$toast") | $(mb "$indexes") | $(mb "$total") | $(awk -v b="$total" -v n="$SPANS_LOADED" 'BEGIN {printf "%.0f", b / n}') |"
done <<<"$sizes"
echo
echo "| query ($((ROUNDS * PER_ROUND)) runs each, alternating) | median ms | plan: scans (rows), buffers |"
echo "|---|---|---|"
for name in "${queries[@]}"; do
    echo "| ${label[$name]} | $(median_ms "$name") | $("$python" scripts/bench-scale.py plans "$work/$name.plan") |"
done
echo
"$python" scripts/bench-scale.py report "$ingest_results"
