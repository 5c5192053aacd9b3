#!/usr/bin/env bash
# Builds the extension in release mode and installs it into $PG_CONFIG's PostgreSQL (15 by default)
# (the files CREATE EXTENSION reads: agent_trace.so, agent_trace.control, agent_trace--*.sql).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

sudo_flag=()
[ "$(id -u)" -eq 0 ] || sudo_flag=(--sudo)
log "building and installing the agent_trace extension for $("$PG_CONFIG" --version)"
(cd extension && cargo pgrx install --release --pg-config "$PG_CONFIG" \
    --no-default-features --features "pg$PG_MAJOR" "${sudo_flag[@]}")
