#!/usr/bin/env bash
# The packages scripts/package.sh built (target/packages/), each installed as a user would:
# `apt-get install ./postgresql-MAJOR-agent-trace_*.deb ./agent-trace_*.deb` into a Debian root of
# the suite that ships that PostgreSQL (bookworm 15, trixie 17, sid 18; scripts/pg-root.sh), with
# no other copy of the extension there; then a fresh cluster, CREATE EXTENSION agent_trace, the
# packaged `agent-trace serve`, one exported LLM span over OTLP/HTTP: stored, with a computed cost.
# The packages are removed again at the end.
#
#   scripts/test-packages.sh [MAJOR ...]      (default: 15 17 18)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != --inside ]; then
    majors=("$@")
    [ ${#majors[@]} -gt 0 ] || majors=(15 17 18)
    for major in "${majors[@]}"; do
        bash scripts/pg-root.sh "$major" run bash scripts/test-packages.sh --inside "$major"
    done
    exit 0
fi

major=$2
. scripts/lib.sh
version=$(extension_version)
arch=$(dpkg --print-architecture)
extension_deb=target/packages/postgresql-$major-agent-trace_${version}_$arch.deb
binary_deb=target/packages/agent-trace_${version}_$arch.deb
for deb in "$extension_deb" "$binary_deb"; do
    [ -f "$deb" ] || { echo "scripts/test-packages.sh: no $deb: run scripts/package.sh first" >&2; exit 1; }
done

# Only the package's copy: what scripts/install-extension.sh may have put here goes first.
rm -f "/usr/lib/postgresql/$major/lib/agent_trace.so" /usr/share/postgresql/"$major"/extension/agent_trace*
cluster=$(mktemp -d /tmp/agent-trace-package-test.XXXXXX)
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "./$extension_deb" "./$binary_deb" >"$cluster/apt.log" 2>&1 \
    || { cat "$cluster/apt.log" >&2; exit 1; }
serve_pid=
cleanup() {
    [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "postgresql-$major-agent-trace" agent-trace >/dev/null 2>&1
    stop_scratch_cluster "$cluster"
}
trap cleanup EXIT
start_scratch_cluster "$cluster"
psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres -d postgres -c "CREATE EXTENSION agent_trace"

port=$(free_port)
grpc_port=$(free_port)
/usr/bin/agent-trace serve --database-url "host=$cluster user=postgres dbname=postgres" \
    --listen "127.0.0.1:$port" --grpc-listen "127.0.0.1:$grpc_port" >"$cluster/serve.log" 2>&1 &
serve_pid=$!
# One LLM call of gpt-4o-mini, 1,000 tokens in and 500 out, sent once the server is ready.
python3 - "$port" <<'EOF' || { cat "$cluster/serve.log" >&2; exit 1; }
import json, sys, time, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 30
while True:
    try:
        if urllib.request.urlopen(base + "/ready", timeout=2).status == 200:
            break
    except OSError:
        pass
    if time.monotonic() > deadline:
        sys.exit("agent-trace serve was not ready within 30 s")
    time.sleep(0.2)
now = time.time_ns()
attributes = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
              "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.input_tokens": 1000,
              "gen_ai.usage.output_tokens": 500}
span = {"traceId": "5eb5eb5eb5eb5eb5eb5eb5eb5eb5eb5e", "spanId": "5eb5eb5eb5eb5eb5", "name": "chat gpt-4o-mini",
        "kind": 3, "startTimeUnixNano": str(now - 10**9), "endTimeUnixNano": str(now),
        "attributes": [{"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
                       for k, v in attributes.items()]}
body = json.dumps({"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "package-test"}}]},
                                      "scopeSpans": [{"spans": [span]}]}]}).encode()
request = urllib.request.Request(base + "/v1/traces", body, {"Content-Type": "application/json"})
assert urllib.request.urlopen(request, timeout=10).status == 200
EOF
stored=$(psql -X -At -h "$cluster" -U postgres -d postgres -c \
    "SELECT span_count || ' ' || coalesce(computed_cost_usd::text, 'none') FROM agent_trace.agent_traces WHERE trace_id = '5eb5eb5eb5eb5eb5eb5eb5eb5eb5eb5e'")
case $stored in
    "1 "[0-9]*) log "PostgreSQL $major: the packages install, CREATE EXTENSION works, an exported LLM span is stored with a computed cost (\$${stored#1 }): $(basename "$extension_deb"), $(basename "$binary_deb")" ;;
    *) echo "FAIL: PostgreSQL $major: after one exported LLM span, agent_traces holds '$stored' (want 1 span and a computed cost)" >&2; exit 1 ;;
esac
