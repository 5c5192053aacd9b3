# The agent-trace binary (crate ingest/), built as `make up` builds it natively.
#   docker build -f docker/ingest.Dockerfile -t agent-trace .
# Not built in CI (the CI machines run no Docker engine); keep it in step with the Makefile.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p ingest

FROM debian:bookworm-slim
COPY --from=build /src/target/release/agent-trace /usr/local/bin/agent-trace
ENTRYPOINT ["agent-trace"]
CMD ["serve"]
