#!/bin/sh
# Runs once on every node, after 10-agent-trace.sql; does something only on the coordinator, the
# node whose CITUS_WORKERS names its workers (docker/compose.citus.yaml): it adds them, distributes
# agent_trace (docs/scaling-out.md, the steps ingest/tests/citus.rs runs) and creates the ingest's
# insert-only login, as docker/initdb/20-ingest-role.sh does on one node.
set -eu
[ -n "${CITUS_WORKERS:-}" ] || exit 0
run_sql() {
    psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
}
for worker in $CITUS_WORKERS; do
    # The workers are healthy before the coordinator starts (depends_on); wait anyway, with a deadline.
    tries=60
    until pg_isready --host "$worker" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" >/dev/null; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || { echo "worker $worker does not answer" >&2; exit 1; }
        sleep 1
    done
done
run_sql --set host="$CITUS_COORDINATOR_HOST" \
    --command "SELECT citus_set_coordinator_host(:'host', 5432)"
for worker in $CITUS_WORKERS; do
    run_sql --set worker="$worker" --command "SELECT citus_add_node(:'worker', 5432)"
done
run_sql --command "SELECT * FROM agent_trace.distribute()"
run_sql --set role=agent_trace_ingest --set password="$(cat /run/secrets/ingest_password)" \
    --file /usr/local/share/agent-trace/ingest_role.sql
