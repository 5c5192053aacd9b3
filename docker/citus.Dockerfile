# The citusdata/citus image (PostgreSQL 15, Citus preloaded) with the agent_trace extension, for
# docker/compose.citus.yaml (docs/scaling-out.md). The extension is built as in postgres.Dockerfile.
# Build from the repository root:
#   docker build -f docker/citus.Dockerfile -t agent-trace-citus .
# Not built in CI (the CI machines run no Docker engine); scripts/lint-docker.sh lints it;
# ingest/tests/citus.rs runs the same steps on a native Citus cluster.

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

FROM citusdata/citus:13.2.0-pg15
COPY --from=build /out/ /
# Run once, on the first start of an empty data directory, after the image's own script (which
# creates citus): agent_trace on every node; on the coordinator, the workers, distribute() and the
# ingest's login.
COPY docker/citus-initdb/ /docker-entrypoint-initdb.d/
COPY sql/ingest/ingest_role.sql /usr/local/share/agent-trace/ingest_role.sql
