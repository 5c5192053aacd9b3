# The agent-trace binary (crate ingest/), built as `make up` builds it natively.
#   docker build -f docker/ingest.Dockerfile -t agent-trace .
# Not built in CI (the CI machines run no Docker engine); scripts/lint-docker.sh lints it and
# ingest/tests/docker.rs checks it against the native steps. Keep it in step with the Makefile.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# .dockerignore keeps target/, .agent-trace/ (a local cluster and its passwords) and venvs out.
COPY . .
RUN cargo build --release --locked -p ingest

FROM debian:bookworm-slim
# Not root: the server needs no privilege to listen on 4317 and 4318. (USER by number, which
# every runtime resolves without the image's /etc/passwd.)
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin agent-trace
COPY --from=build /src/target/release/agent-trace /usr/local/bin/agent-trace
USER 10001
EXPOSE 4317 4318
# Ready: the database answers and has the extension at this binary's version (GET /ready).
HEALTHCHECK --interval=10s --timeout=10s --start-period=10s --retries=3 CMD ["agent-trace", "probe"]
ENTRYPOINT ["agent-trace"]
CMD ["serve"]
