#!/bin/sh
# Runs once, on the first start of an empty data directory, after 10-agent-trace.sql: the ingest's
# login agent_trace_ingest, a member of agent_trace_writer and nothing more, created with the SQL
# `agent-trace up` runs (sql/ingest/ingest_role.sql) and the password of the ingest_password secret
# (docker/compose.yaml), which the ingest reads from the same secret.
set -eu
psql --no-psqlrc --set ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set role=agent_trace_ingest --set password="$(cat /run/secrets/ingest_password)" \
    --file /usr/local/share/agent-trace/ingest_role.sql
