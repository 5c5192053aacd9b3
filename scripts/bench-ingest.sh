#!/usr/bin/env bash
# Ingest throughput (BENCHMARKS.md quotes it): agent-trace end to end (OTLP/HTTP protobuf; a 200 means
# committed) against raw binary COPY of the same rows into the same table, on a scratch PostgreSQL 15
# cluster under /tmp with default settings (fsync and synchronous_commit on), removed afterwards.
# Prints every round and the medians; then group commit: request shapes side by side, with and
# without it (BENCH_SHAPES). Takes about eight minutes on 2 cores.
#
# Settings, as environment variables or KEY=VALUE arguments (see ingest/benches/ingest.rs):
#   BENCH_CONFIGS=200000:500:4,20000:10:4   SPANS:SPANS_PER_REQUEST:CLIENTS, one per configuration
#   BENCH_SHAPES=100000:500:4,20000:10:16,20000:10:64   request shapes side by side, group commit
#                                           against a transaction per request (empty: skip)
#   BENCH_ROUNDS=5                          rounds; each runs every phase once, order alternating
#   BENCH_PHASES=ingest,raw                 add writer,staged,staged-plain for the diagnostics
#   BENCH_SERVER_BIN=path                   benchmark another agent-trace build (A/B)
#   BENCH_BASE=REV                          (environment only) also build agent-trace at git revision
#                                           REV (into target/bench-base) and run it as the candidate
#                                           phase, alternating with this build: before and after
# e.g. scripts/bench-ingest.sh BENCH_ROUNDS=3 BENCH_PHASES=ingest,raw,writer
#      BENCH_BASE=74e2464 scripts/bench-ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
. scripts/lib.sh

# The extension the cluster creates is the installed one: (re)install it when it is missing or
# older than the sources.
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
installed="$("$PG_CONFIG" --sharedir)/extension/agent_trace--$version.sql"
if [ ! -f "$installed" ] || [ -n "$(find extension -type f -newer "$installed" -print -quit)" ]; then
    bash scripts/install-extension.sh
fi

extra=()
if [ -n "${BENCH_BASE:-}" ]; then
    repo=$PWD
    base_src=$(mktemp -d)
    trap 'rm -rf "$base_src"' EXIT
    git archive "$BENCH_BASE" | tar -x -C "$base_src"
    log "building agent-trace at $BENCH_BASE into target/bench-base"
    (cd "$base_src" && CARGO_TARGET_DIR="$repo/target/bench-base" \
        cargo build --release -p ingest --bin agent-trace)
    extra=(BENCH_CANDIDATE_BIN="$PWD/target/bench-base/release/agent-trace"
        BENCH_PHASES="${BENCH_PHASES:-ingest,raw},candidate")
fi

log "ingest benchmark: cargo bench -p ingest --bench ingest ${extra[*]} $*"
cargo bench -p ingest --bench ingest -- "${extra[@]}" "$@"
