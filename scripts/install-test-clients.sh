#!/usr/bin/env bash
# Installs the real clients the client tests run into a Python venv at .venv-test-clients/,
# idempotently, from PyPI: the pinned opentelemetry-python SDK and its OTLP/HTTP and OTLP/gRPC
# exporters (ingest/tests/python_sdk.rs), Agno with what its AgentOS, its tracing and its
# PostgresDb need (ingest/tests/agno.rs), and the official MCP Python SDK (ingest/tests/mcp.rs). A
# marker file in the venv records what was installed, so a second run with the same pins only
# checks it (well under a second). Then the official MCP TypeScript SDK, as
# tests/clients/mcp-ts/package-lock.json pins it (`npm ci`, skipped while the lockfile is unchanged).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$REPO/.venv-test-clients
MARKER=$VENV/.installed-requirements
PYTHON=${PYTHON:-python3}
OTEL_VERSION=1.45.2
AGNO_VERSION=3.1.10
MCP_VERSION=2.3.0
REQUIREMENTS=(
    "opentelemetry-sdk==$OTEL_VERSION"
    "opentelemetry-exporter-otlp-proto-http==$OTEL_VERSION"
    "opentelemetry-exporter-otlp-proto-grpc==$OTEL_VERSION"
    # Agno: AgentOS (FastAPI, served in-process by its test client, which needs httpx), tracing
    # (OpenInference's Agno instrumentation), PostgresDb (SQLAlchemy over psycopg 3), and the OpenAI
    # client its OpenAIChat model uses against the tests' stub server.
    "agno==$AGNO_VERSION"
    "fastapi==0.165.0"
    "httpx==0.28.1"
    "python-multipart==0.0.34"
    "jsonschema==4.26.0"
    "PyJWT==2.15.1"
    "croniter==7.0.0"
    "sqlalchemy[asyncio]==2.1.9"
    "psycopg[binary]==3.3.9"
    "openai==3.57.0"
    "openinference-instrumentation-agno==1.0.15"
    # The MCP client of ingest/tests/mcp.rs (tests/clients/mcp_python.py).
    "mcp==$MCP_VERSION"
)

log() { printf '==> %s\n' "$*"; }

# The MCP TypeScript SDK in tests/clients/mcp-ts/node_modules, exactly as its lockfile pins it; a
# stamp with the lockfile's hash skips `npm ci` while the lockfile is unchanged.
install_mcp_ts() {
    local dir=$REPO/tests/clients/mcp-ts
    if ! command -v npm >/dev/null; then
        # As scripts/install-viewer-deps.sh: Node.js and npm are usually there; else Debian's.
        [ "$(id -u)" -eq 0 ] || { echo "npm is missing: install Node.js and npm (the MCP TypeScript client needs them)" >&2; exit 1; }
        log "installing Debian packages nodejs npm"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
    fi
    local stamp=$dir/node_modules/.installed-from-lockfile
    local wanted_lock
    wanted_lock=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted_lock" ]; then
        log "installing the MCP TypeScript SDK from tests/clients/mcp-ts/package-lock.json"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
        echo "$wanted_lock" >"$stamp"
    fi
    log "MCP TypeScript SDK ready: $(cd "$dir" && node -p 'require("./node_modules/@modelcontextprotocol/sdk/package.json").version' 2>/dev/null || echo '?') with node $(node --version)"
}

command -v "$PYTHON" >/dev/null || { echo "$PYTHON not found; the client tests need Python 3" >&2; exit 1; }

# What the marker must say: the requirements and the interpreter they were installed for.
wanted=$(printf '%s\n' "${REQUIREMENTS[@]}" "python $("$PYTHON" -c 'import sys; print(sys.version.split()[0])')")

if [ -x "$VENV/bin/python" ] && [ "$(cat "$MARKER" 2>/dev/null)" = "$wanted" ] \
    && "$VENV/bin/python" -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.exporter.otlp.proto.grpc, agno.os, agno.db.postgres, openinference.instrumentation.agno, mcp.client.streamable_http' 2>/dev/null; then
    log "test clients ready: opentelemetry-python $OTEL_VERSION, agno $AGNO_VERSION, mcp $MCP_VERSION in ${VENV#"$REPO"/}"
    install_mcp_ts
    exit 0
fi

make_venv() { "$PYTHON" -m venv --clear "$VENV" >/dev/null 2>&1; }

log "creating ${VENV#"$REPO"/} with $("$PYTHON" --version 2>&1)"
if ! make_venv; then
    # Debian ships venv's ensurepip separately, in python3-venv.
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null || {
        echo "'$PYTHON -m venv' failed; install python3-venv (as root: apt-get install python3-venv)" >&2
        exit 1
    }
    log "installing Debian package python3-venv"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    make_venv || { "$PYTHON" -m venv --clear "$VENV"; exit 1; }
fi

log "installing ${REQUIREMENTS[*]}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${REQUIREMENTS[@]}"
printf '%s\n' "$wanted" >"$MARKER"
log "test clients ready: opentelemetry-python $OTEL_VERSION, agno $AGNO_VERSION, mcp $MCP_VERSION in ${VENV#"$REPO"/}"
install_mcp_ts
