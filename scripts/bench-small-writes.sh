#!/usr/bin/env bash
# Small writes, the extension's previous release against the current one, side by side in one
# scratch cluster (BENCHMARKS.md quotes the table). Two databases: one with the previous release
# (CREATE EXTENSION agent_trace VERSION '$BENCH_OLD', from its frozen script in tests/upgrade/; the
# releases compared differ in SQL only, so the shared library is the same), one with the current.
# In each, pgbench runs, one client, BENCH_SECONDS per run, BENCH_ROUNDS rounds alternating:
#   agentos: what Agno's DatabaseSpanExporter sends for a run of 4 spans (weather_agent.run, two
#            OpenAIChat.invoke with tokens and no cost, a get_weather tool call): per span, its trace
#            upsert into agno_traces and its span INSERT into agno_spans, each in its own transaction,
#            into the compat schema of enable_agno_compat('ai'); and the same into Agno's own tables
#            (schema agno_own, created by agno itself), for scale;
#   priced10: one INSERT of 10 LLM spans with tokens and no cost (the database prices them), the
#            shape of a small OTLP request as the ingest writes it.
# Then, end to end, with the test venv's real agno (scripts/install-test-clients.sh): Agno's own
# DatabaseSpanExporter exports BENCH_AGNO_TRACES runs of 4 spans into each compat schema and into
# Agno's own tables, alternating, BENCH_ROUNDS rounds (scripts/bench-agno.py write-databases).
# Prices: the snapshot `agent-trace prices import` ships. Prints median milliseconds per operation.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
OLD=${BENCH_OLD:-0.3.0}
ROUNDS=${BENCH_ROUNDS:-5}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
AGNO_TRACES=${BENCH_AGNO_TRACES:-250}
python=.venv-test-clients/bin/python
[ -x "$python" ] || { echo "missing $python: run scripts/install-test-clients.sh" >&2; exit 1; }
frozen="tests/upgrade/agent_trace--$OLD.sql"
[ -f "$frozen" ] || { echo "no frozen script $frozen" >&2; exit 1; }
new=$(extension_version)
ext_dir="$("$PG_CONFIG" --sharedir)/extension"
[ -f "$ext_dir/agent_trace--$new.sql" ] || { echo "missing $ext_dir/agent_trace--$new.sql: run scripts/install-extension.sh" >&2; exit 1; }
cargo build --release -q -p ingest

cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-small.XXXXXX")
copied=
cleanup() {
    # pgbench prints a run's errors, not only its numbers: show them.
    grep -i error "$cluster/pgbench.log" 2>/dev/null | head -5 >&2 || true
    stop_scratch_cluster "$cluster"
    if [ -n "$copied" ]; then rm -f "$copied"; fi
}
trap cleanup EXIT
if [ ! -f "$ext_dir/agent_trace--$OLD.sql" ]; then
    copied="$ext_dir/agent_trace--$OLD.sql"
    cp "$frozen" "$copied"
fi
start_scratch_cluster "$cluster"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres "$@"; }

for db in old new; do
    version=$([ "$db" = old ] && echo "$OLD" || echo "$new")
    sql -d postgres -c "CREATE DATABASE $db"
    sql -d "$db" -c "CREATE EXTENSION agent_trace VERSION '$version'" -c "SELECT agent_trace.enable_agno_compat('ai')" >/dev/null
    ./target/release/agent-trace prices import --database-url "host=$cluster user=postgres dbname=$db" >/dev/null
    # AgentOS's own tables, created by agno itself (with its traces table, which its spans reference).
    "$python" -c "
from agno.db.postgres import PostgresDb
PostgresDb(db_url='postgresql+psycopg://postgres@/$db?host=$cluster', db_schema='agno_own')._get_table('spans', create_table_if_not_found=True)"
done

# One AgentOS run of 4 spans into schema $1, as pgbench script text (:t, a random trace number).
agentos_run() {
    local schema=$1 k name attributes parent
    echo '\set t random(1, 1000000000000)'
    for k in 0 1 2 3; do
        case $k in
            0) name=weather_agent.run parent=NULL
               attributes='{"openinference.span.kind": "AGENT", "agent.name": "weather_agent", "agno.agent.id": "agent-1", "session.id": "session-1", "user.id": "user-1", "agno.run.id": "run-1", "input.value": "What is the weather in Paris?", "output.value": "It is sunny in Paris, 21 C."}' ;;
            2) name=get_weather parent="lpad(to_hex(:t::bigint * 4), 16, '0')"
               attributes='{"openinference.span.kind": "TOOL", "tool.name": "get_weather", "input.value": "{\"city\": \"Paris\"}", "output.value": "{\"temp_c\": 21}"}' ;;
            *) name=OpenAIChat.invoke parent="lpad(to_hex(:t::bigint * 4), 16, '0')"
               attributes='{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "OpenAI", "llm.token_count.prompt": 42, "llm.token_count.completion": 17, "input.value": "What is the weather in Paris?", "output.value": "It is sunny."}' ;;
        esac
        echo "INSERT INTO $schema.agno_traces (trace_id, name, status, start_time, end_time, duration_ms, run_id, session_id, user_id, agent_id, team_id, workflow_id, created_at) VALUES (lpad(to_hex(:t::bigint), 32, '0'), '$name', 'OK', '2026-11-29T16:23:40.368150+00:00', '2026-11-29T16:23:41.368150+00:00', 1000, 'run-1', 'session-1', 'user-1', 'agent-1', NULL, NULL, '2026-11-29T16:23:41.368150+00:00') ON CONFLICT (trace_id) DO UPDATE SET end_time = greatest($schema.agno_traces.end_time, excluded.end_time), start_time = least($schema.agno_traces.start_time, excluded.start_time), status = excluded.status, session_id = coalesce($schema.agno_traces.session_id, excluded.session_id);"
        echo "INSERT INTO $schema.agno_spans (span_id, trace_id, parent_span_id, name, span_kind, status_code, status_message, start_time, end_time, duration_ms, attributes, created_at) VALUES (lpad(to_hex(:t::bigint * 4 + $k), 16, '0'), lpad(to_hex(:t::bigint), 32, '0'), $parent, '$name', 'INTERNAL', 'OK', NULL, '2026-11-29T16:23:40.368150+00:00', '2026-11-29T16:23:41.368150+00:00', 1000, '$attributes', '2026-11-29T16:23:41.368150+00:00');"
    done
}
agentos_run ai >"$cluster/agentos.sql"
agentos_run agno_own >"$cluster/agentos_own.sql"
cat >"$cluster/priced10.sql" <<'EOF'
\set t random(1, 1000000000000)
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code, start_time, end_time, model, provider, input_tokens, output_tokens, session_id, attributes)
SELECT lpad(to_hex(:t::bigint), 32, '0')::agent_trace.trace_id, lpad(to_hex(:t::bigint * 16 + k), 16, '0')::agent_trace.span_id, NULL, 'chat gpt-4o-mini', 'llm', 'OK', now(), now(), 'gpt-4o-mini', 'openai', 1200 + k, 300, 'session-1', '{}'
  FROM generate_series(0, 9) AS k;
EOF

# Milliseconds per script run of pgbench script $2 on database $1.
run() {
    as_pg_user "$PG_BINDIR/pgbench" -n -h "$cluster" -U postgres -f "$2" -T "$SECONDS_PER_RUN" "$1" 2>&1 | tee -a "$cluster/pgbench.log" \
        | awk '/^latency average/ {print $4}'
}

declare -A times
log "$ROUNDS rounds of ${SECONDS_PER_RUN}s runs, alternating: agent_trace $OLD and $new"
for round in $(seq "$ROUNDS"); do
    for script_and_database in "agentos old" "agentos new" "agentos_own new" "priced10 old" "priced10 new"; do
        set -- $script_and_database
        ms=$(run "$2" "$cluster/$1.sql")
        times["$1 $2"]+="$ms "
    done
    log "round $round: ${times[agentos old]}| ${times[agentos new]}| ${times[priced10 old]}| ${times[priced10 new]}"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
m() { median <<<"${times[$1]}"; }
printf '\n| operation | %s ms (median) | %s ms (median) | %s / %s | each round, %s then %s |\n|---|---|---|---|---|\n' \
    "$OLD" "$new" "$new" "$OLD" "$OLD" "$new"
row() {
    local label=$1 key=$2
    printf '| %s | %s | %s | %sx | %s/ %s|\n' "$label" "$(m "$key old")" "$(m "$key new")" \
        "$(awk -v old="$(m "$key old")" -v new="$(m "$key new")" 'BEGIN {printf "%.2f", new / old}')" \
        "${times[$key old]}" "${times[$key new]}"
}
row "AgentOS run of 4 spans into the compat schema (8 transactions)" agentos
row "INSERT of 10 LLM spans the database prices (1 transaction)" priced10
printf '\nThe same AgentOS run into Agno'"'"'s own tables: %s ms (median; %s)\n' "$(m "agentos_own new")" "${times[agentos_own new]}"

log "end to end: Agno's DatabaseSpanExporter, $ROUNDS rounds of $AGNO_TRACES runs"
url() { echo "postgresql+psycopg://postgres@/$1?host=$cluster"; }
"$python" scripts/bench-agno.py write-databases "$ROUNDS" "$AGNO_TRACES" \
    "into the compat schema, agent_trace $OLD" "$(url old)" ai \
    "into the compat schema, agent_trace $new" "$(url new)" ai \
    "into Agno's own tables" "$(url new)" agno_own
