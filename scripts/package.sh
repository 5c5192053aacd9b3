#!/usr/bin/env bash
# Debian packages, into target/packages/:
#   postgresql-MAJOR-agent-trace_VERSION_amd64.deb  the extension for Debian's PostgreSQL MAJOR
#                                                   (15, 17, 18), installed where that package puts
#                                                   extensions (/usr/lib/postgresql/MAJOR/lib,
#                                                   /usr/share/postgresql/MAJOR/extension)
#   agent-trace_VERSION_amd64.deb                   the agent-trace binary, /usr/bin/agent-trace
# Each is made with Debian's own tools: `cargo pgrx package` lays out the extension's files,
# dpkg-shlibdeps finds what the shared objects need, dpkg-deb builds. The extension for 15 is built
# on this Debian 12 host, 17 and 18 in their roots (scripts/pg-root.sh), so each links the C
# library of the suite that ships its PostgreSQL.
#
#   scripts/package.sh [MAJOR ...]          (default: 15 17 18, and the binary)
#   scripts/package.sh --extension MAJOR    one extension package, here (what the roots run)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

out=$PWD/target/packages
version=$(extension_version)
arch=$(dpkg --print-architecture)

ensure_dpkg_dev() {
    command -v dpkg-shlibdeps >/dev/null \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends dpkg-dev >/dev/null
}

# depends FILE...: the Depends of these shared objects, as dpkg-shlibdeps computes them.
depends() {
    local work
    work=$(mktemp -d)
    mkdir -p "$work/debian"
    printf 'Source: agent-trace\n\nPackage: agent-trace\nArchitecture: any\n' >"$work/debian/control"
    local files=()
    for f in "$@"; do files+=("$(realpath "$f")"); done
    (cd "$work" && dpkg-shlibdeps -O "${files[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
    rm -rf "$work"
}

# build_deb DIR NAME DEPENDS DESCRIPTION: DIR holds the files; the package goes to $out.
build_deb() {
    local dir=$1 name=$2 deps=$3 description=$4
    mkdir -p "$dir/DEBIAN" "$out"
    cat >"$dir/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: agent_trace <agent-trace@localhost>
Depends: $deps
Section: database
Priority: optional
Description: $description
EOF
    dpkg-deb --root-owner-group --build "$dir" "$out/${name}_${version}_${arch}.deb" >/dev/null
    log "built $out/${name}_${version}_${arch}.deb"
}

extension_package() {
    local major=$1
    local pg_config=/usr/lib/postgresql/$major/bin/pg_config  # Debian's layout, whatever $PG_CONFIG says
    [ -x "$pg_config" ] || { echo "scripts/package.sh: no PostgreSQL $major here ($pg_config)" >&2; exit 1; }
    ensure_dpkg_dev
    ensure_pgrx_knows "$pg_config"
    local stage
    stage=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-package.XXXXXX")
    (cd extension && cargo pgrx package --pg-config "$pg_config" --no-default-features --features "pg$major" \
        --out-dir "$stage/files" >"$stage/build.log" 2>&1) || { cat "$stage/build.log" >&2; exit 1; }
    build_deb "$stage/files" "postgresql-$major-agent-trace" \
        "postgresql-$major, $(depends "$stage/files/usr/lib/postgresql/$major/lib/agent_trace.so")" \
        "agent_trace for PostgreSQL $major: a trace store for AI agents
 CREATE EXTENSION agent_trace gives tables of spans, traces, logs and metrics of AI agents' runs
 (LLM calls, tool calls, tokens, cost, errors) and SQL functions for trace trees, run diffs and
 replay. The agent-trace package receives OpenTelemetry (OTLP) into them."
    rm -rf "$stage"
}

binary_package() {
    ensure_dpkg_dev
    cargo build --release -p ingest -q
    local stage
    stage=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-package.XXXXXX")
    install -D -m 0755 target/release/agent-trace "$stage/files/usr/bin/agent-trace"
    build_deb "$stage/files" agent-trace "$(depends "$stage/files/usr/bin/agent-trace")" \
        "agent-trace: OpenTelemetry (OTLP) into PostgreSQL for AI agents' traces
 Receives traces, logs and metrics over OTLP/HTTP and gRPC and stores them, committed, in a
 PostgreSQL database with the agent_trace extension (the postgresql-MAJOR-agent-trace package);
 serves a web viewer of them."
    rm -rf "$stage"
}

if [ "${1:-}" = --extension ]; then
    extension_package "${2:?usage: scripts/package.sh --extension MAJOR}"
    exit 0
fi
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(15 17 18)
for major in "${majors[@]}"; do
    if [ "$major" = 15 ]; then
        extension_package 15
    else
        bash scripts/pg-root.sh "$major" run bash scripts/package.sh --extension "$major"
    fi
done
binary_package
