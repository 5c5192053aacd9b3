# shellcheck shell=bash disable=SC2034 # sourced: what it sets is used by the scripts that source it
# Shared by the scripts in this folder: where PostgreSQL is (15 unless $PG_CONFIG says otherwise),
# and how to run its server programs.
# PostgreSQL refuses to run as root; when we are root, server programs run as the `postgres` user
# (created by Debian's postgresql-15 package) and the directories they write are given to it.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)
# Its major version, which names the extension crate's feature (pg15, pg17, pg18).
pg_major() { "$1" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/'; }
PG_MAJOR=$(pg_major "$PG_CONFIG")

if [ "$(id -u)" -eq 0 ]; then
    PG_USER=postgres
    as_pg_user() { runuser -u "$PG_USER" -- "$@"; }
    give_to_pg_user() { chown -R "$PG_USER" "$@"; }
else
    PG_USER=$(id -un)
    as_pg_user() { "$@"; }
    give_to_pg_user() { :; }
fi

log() { printf '==> %s\n' "$*"; }

# The extension's version: the agent_trace crate's (Cargo.toml), which names its install script.
extension_version() {
    cargo metadata --no-deps --format-version 1 \
        | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "agent_trace"))'
}

# A loopback TCP port no one listens on now.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# A throwaway cluster reachable only through a Unix socket in its own directory (no TCP port to
# collide with). Usage: start_scratch_cluster DIR; psql -h DIR ...; stop_scratch_cluster DIR.
start_scratch_cluster() {
    local dir=$1
    mkdir -p "$dir"
    give_to_pg_user "$dir"
    as_pg_user "$PG_BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    as_pg_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-c listen_addresses='' -k $dir -c fsync=off" start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
}

stop_scratch_cluster() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] && as_pg_user "$PG_BINDIR/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    rm -rf "$dir"
}

# cargo pgrx builds only for a major its $PGRX_HOME/config.toml names: $1's, added when missing.
ensure_pgrx_knows() {
    local pg_config=$1 major
    major=$(pg_major "$pg_config")
    if ! grep -qs "^pg$major *=" "${PGRX_HOME:-$HOME/.pgrx}/config.toml"; then
        cargo pgrx init "--pg$major" "$pg_config" >/dev/null
    fi
}
