#!/usr/bin/env bash
# AgentOS on agent_trace's compat schema against AgentOS on its own tables, holding the same
# BENCH_TRACES (default 1,000,000) Agno-shaped runs of 4 spans (BENCHMARKS.md quotes the tables):
#   reading: the AgentOS requests of scripts/bench-agno.py, through FastAPI's test client, alternating
#            between an app on each schema, BENCH_ROUNDS times; median milliseconds;
#   writing: Agno's own DatabaseSpanExporter (a SimpleSpanProcessor, as AgentOS(tracing=True) sets it
#            up) into each schema, and the OTLP exporter `agent-trace setup agno` adds, into a release
#            agent-trace: BENCH_WRITE_TRACES runs per round; median spans per second.
# A scratch PostgreSQL 15 cluster (scripts/lib.sh: fsync off, as for the other benchmarks), removed
# afterwards. Needs the extension installed and the test venv (scripts/install-test-clients.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
TRACES=${BENCH_TRACES:-1000000}
ROUNDS=${BENCH_ROUNDS:-5}
WRITE_TRACES=${BENCH_WRITE_TRACES:-250}
python=.venv-test-clients/bin/python
[ -x "$python" ] || { echo "missing $python: run scripts/install-test-clients.sh" >&2; exit 1; }
cargo build --release -q -p ingest

cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-agno.XXXXXX")
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    stop_scratch_cluster "$cluster"
}
trap cleanup EXIT
start_scratch_cluster "$cluster"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres "$@"; }
url="postgresql+psycopg://postgres@/postgres?host=$cluster"

log "loading $TRACES runs of 4 spans into agent_spans"
sql -v traces="$TRACES" -f scripts/bench-agno.sql
log "enable_agno_compat('ai'): $(sql -At -c "SELECT agent_trace.enable_agno_compat('ai')") traces copied"
# The same traces in Agno's own tables (created by Agno itself), read through the compat view.
"$python" -c "
from agno.db.postgres import PostgresDb
PostgresDb(db_url='$url', db_schema='agno_own')._get_table('spans', create_table_if_not_found=True)"
sql -c "INSERT INTO agno_own.agno_traces SELECT trace_id, name, status, start_time, end_time, duration_ms, run_id,
            session_id, user_id, agent_id, team_id, workflow_id, created_at FROM ai.agno_traces" \
    -c "INSERT INTO agno_own.agno_spans SELECT * FROM ai.agno_spans" \
    -c "VACUUM ANALYZE"
sql -At -c "SELECT 'sizes: agent_spans ' || pg_size_pretty(pg_total_relation_size('agent_trace.agent_spans'))
                 || ', agent_traces ' || pg_size_pretty(pg_total_relation_size('agent_trace.agent_traces'))
                 || ', ai.agno_traces (the copy) ' || pg_size_pretty(pg_total_relation_size('ai.agno_traces'))
                 || '; Agno''s own: agno_traces ' || pg_size_pretty(pg_total_relation_size('agno_own.agno_traces'))
                 || ', agno_spans ' || pg_size_pretty(pg_total_relation_size('agno_own.agno_spans'))"

log "reading, $ROUNDS rounds"
"$python" scripts/bench-agno.py read "$url" ai agno_own "$ROUNDS" "$TRACES"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
grpc_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
./target/release/agent-trace serve --database-url "host=$cluster user=postgres dbname=postgres" \
    --listen "127.0.0.1:$port" --grpc-listen "127.0.0.1:$grpc_port" >"$cluster/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
log "writing, $ROUNDS rounds of $WRITE_TRACES runs"
"$python" scripts/bench-agno.py write "$url" ai agno_own "$ROUNDS" "$WRITE_TRACES" "http://127.0.0.1:$port"
