# The two commands the README promises: `make up` and `make test`. Both install what is missing first.
# Everything runs on the system's PostgreSQL 15 (Debian's postgresql-15), or on the installation
# whose pg_config $PG_CONFIG names (scripts/lib.sh), and test-pg-versions on 17 and 18 too; see
# scripts/ for the steps.

SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never

.PHONY: up test deps test-clients viewer-deps check-viewer install-extension install-citus fmt-check clippy lint-docker test-rust test-pgrx test-sql test-upgrade test-pg-versions test-pg-upgrade package test-packages bench bench-api bench-keys bench-viewer bench-agno bench-small-writes bench-retention bench-rollup bench-citus bench-scale

## Build, install the extension, start the private cluster under ./.agent-trace/ and print how to connect.
up: deps install-extension
	cargo build --release -p ingest
	./target/release/agent-trace up

## Every check CI runs, in order of cost.
test: deps test-clients viewer-deps fmt-check clippy lint-docker check-viewer install-extension install-citus test-rust test-sql test-upgrade test-pgrx test-pg-versions test-pg-upgrade test-packages

deps:
	bash scripts/install-deps.sh

## The real clients the tests drive: the OpenTelemetry Python SDK exporters and Agno (a venv in .venv-test-clients/).
test-clients:
	bash scripts/install-test-clients.sh

install-extension:
	bash scripts/install-extension.sh

## Citus for the multi-node test (ingest/tests/citus.rs), from the source tarball $$CITUS_TARBALL names
## (.ci/run sets it); without one the test is skipped, loudly.
install-citus:
	bash scripts/install-citus.sh

## Debian's chromium and the viewer's npm packages (viewer/package-lock.json), for its tests only:
## `make up` serves the committed build in viewer/dist/.
viewer-deps:
	bash scripts/install-viewer-deps.sh

## viewer/dist/ must be what viewer/src and the lockfile build (type-checked, rebuilt, compared).
check-viewer:
	bash scripts/check-viewer-bundle.sh

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

## hadolint, shellcheck and the Compose Specification's schema on docker/ (no Docker engine needed).
lint-docker:
	bash scripts/lint-docker.sh

## The ingest crate's tests (they use the installed extension).
test-rust:
	cargo test -p ingest

test-pgrx:
	bash scripts/test-pgrx.sh

test-sql:
	bash scripts/test-sql.sh

test-upgrade:
	bash scripts/test-upgrade.sh

## The same suites, and the ingest end to end, on PostgreSQL 17 and 18, each in a Debian root of its
## own suite (made once per machine in ~/.cache/agent-trace/roots/; scripts/pg-root.sh).
test-pg-versions:
	bash scripts/test-pg-version.sh 17
	bash scripts/test-pg-version.sh 18

## pg_upgrade 15 -> 17 of a database with agent_trace: every row and answer kept.
test-pg-upgrade: package
	bash scripts/test-pg-upgrade.sh

## Debian packages: the extension for PostgreSQL 15, 17 and 18, and agent-trace, into target/packages/.
package: deps
	bash scripts/package.sh

## Each package installed with apt into a clean root of its PostgreSQL's suite, then CREATE
## EXTENSION and one exported LLM span with a computed cost.
test-packages: package
	bash scripts/test-packages.sh

## End-to-end ingest throughput against raw COPY (BENCHMARKS.md quotes it).
bench: deps install-extension
	bash scripts/bench-ingest.sh

## trace_tree / diff_traces against a flat indexed fetch (BENCHMARKS.md quotes it).
bench-api: deps install-extension
	bash scripts/bench-trace-api.sh

## The viewer's API latency over 100,000 traces and a 10,000-span trace, and Chromium's render time
## (BENCHMARKS.md quotes it).
bench-viewer: deps install-extension viewer-deps
	bash scripts/bench-viewer.sh

## Measured sizes of the id representations (docs/key-design.md quotes this).
bench-keys: deps install-extension
	bash scripts/bench-keys.sh

## AgentOS on agent_trace's compat schema against AgentOS on its own tables (BENCHMARKS.md quotes it).
bench-agno: deps install-extension test-clients
	bash scripts/bench-agno.sh

## Small writes (AgentOS's span-at-a-time inserts, a 10-span priced insert): the previous release's
## extension against this one, side by side (BENCHMARKS.md quotes it).
bench-small-writes: deps install-extension
	bash scripts/bench-small-writes.sh

## Retention timed: expiring a day of a million spans (partition drop against DELETE), erasing a
## user, and the upgrade from 0.3.1, per million spans (BENCHMARKS.md).
bench-retention: deps install-extension
	bash scripts/bench-retention.sh

## The ways to keep agent_traces up to date as spans arrive (the shipped fold trigger, recomputing,
## a row trigger, a deferred queue, none), side by side in spans/s (docs/rollups.md quotes it).
bench-rollup: deps install-extension
	bash scripts/bench-rollup.sh

## 10 million spans over 30 daily partitions: bytes per span on disk, the first queries' times and
## plans, ingest against an empty database (BENCHMARKS.md and docs/sizing.md quote it). 10 million
## spans take about 30 GB; it keeps 15 GB free, loading fewer (and saying so) when the disk is short.
bench-scale: deps install-extension test-clients
	bash scripts/bench-scale.sh

## Durable spans/s on one node against a Citus coordinator with two workers (BENCHMARKS.md quotes it).
bench-citus: deps install-extension install-citus
	cargo bench -p ingest --bench citus
