# Shared by the scripts in this folder: where PostgreSQL 15 is, and how to run its server programs.
# PostgreSQL refuses to run as root; when we are root, server programs run as the `postgres` user
# (created by Debian's postgresql-15 package) and the directories they write are given to it.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir)

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
