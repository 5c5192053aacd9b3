# PostgreSQL 15 with the agent_trace extension, built the way `make install-extension` builds it
# natively (scripts/install-deps.sh, scripts/install-extension.sh). Build from the repository root:
#   docker build -f docker/postgres.Dockerfile -t agent-trace-postgres .
# Not built in CI (the CI machines run no Docker engine); scripts/lint-docker.sh lints it and
# ingest/tests/docker.rs checks it against the native steps. Keep it in step with the scripts.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 postgresql-server-dev-15 libclang-dev clang pkg-config \
 && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-pgrx --version 0.18.0 --locked \
 && cargo pgrx init --pg15 /usr/lib/postgresql/15/bin/pg_config
WORKDIR /src
COPY . .
# `cargo pgrx package` lays out the same files `cargo pgrx install` copies into the system.
WORKDIR /src/extension
RUN cargo pgrx package --pg-config /usr/lib/postgresql/15/bin/pg_config --out-dir /out

FROM postgres:15-bookworm
COPY --from=build /out/ /
# Run once, on the first start of an empty data directory: the extension, then the ingest's login
# with the SQL `agent-trace up` runs for it.
COPY docker/initdb/ /docker-entrypoint-initdb.d/
COPY sql/ingest/ingest_role.sql /usr/local/share/agent-trace/ingest_role.sql
