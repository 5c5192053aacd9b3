#!/usr/bin/env bash
# The viewer's speed (BENCHMARKS.md quotes the table): the JSON API's latency for the trace list
# over 100,000 traces and for a 10,000-span trace, and headless Chromium's time to draw that trace
# and to scroll through it. Runs the release `agent-trace up` on a scratch directory and ports
# (removed afterwards), loads scripts/bench-viewer.sql, then viewer/e2e/bench.mjs measures;
# medians of BENCH_ROUNDS (default 20) requests after two warm-ups.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

cargo build --release -p ingest
dir=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-bench-viewer.XXXXXX")
chmod 755 "$dir" # the cluster runs as the postgres user when we are root
pg_port=$(free_port); http_port=$(free_port); grpc_port=$(free_port)
./target/release/agent-trace up --dir "$dir/cluster" --pg-port "$pg_port" \
    --listen "127.0.0.1:$http_port" --grpc-listen "127.0.0.1:$grpc_port" --pg-config "$PG_CONFIG" \
    >"$dir/up.log" 2>&1 &
up_pid=$!
cleanup() {
    kill -INT "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT

url="http://127.0.0.1:$http_port"
for _ in $(seq 100); do
    curl -sf "$url/api/traces?limit=1" >/dev/null 2>&1 && break
    kill -0 "$up_pid" 2>/dev/null || { cat "$dir/up.log" >&2; exit 1; }
    sleep 0.5
done
# up's cluster asks for a password: the superuser's is in its password file.
psql=(env PGPASSFILE="$dir/cluster/pgpass" "$PG_BINDIR/psql" -X -q -h 127.0.0.1 -p "$pg_port" -U postgres -d agent_trace)
log "loading 100,000 traces and a 10,000-span trace"
"${psql[@]}" -f scripts/bench-viewer.sql
deep=$("${psql[@]}" -At -F ' ' -c "SELECT to_json(start_time)#>>'{}', trace_id FROM agent_trace.agent_traces ORDER BY start_time DESC, trace_id DESC OFFSET 50000 LIMIT 1")
log "measuring"
(cd viewer && VIEWER_URL="$url" DEEP_AFTER="${deep% *}" DEEP_AFTER_ID="${deep#* }" node e2e/bench.mjs)
