#!/usr/bin/env bash
# pg_upgrade from PostgreSQL 15 to 17 of a database with agent_trace (docs/install.md): every row
# kept, the functions answer as before, new spans fold into their traces, costs still computed.
# pg_upgrade needs both majors' programs on one system: this runs in the trixie root of 17
# (scripts/pg-root.sh) with Debian 12's PostgreSQL 15 copied in from the bookworm root, with the two
# libraries whose versions trixie no longer ships (ICU 72, OpenLDAP 2.5) beside it, and the
# extension for both from their packages (scripts/package.sh). Prints how long pg_upgrade took.
#
#   scripts/test-pg-upgrade.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh  # PG_CONFIG: the host's outside the root, 17's inside

if [ "${1:-}" != --inside ]; then
    root15=$(bash scripts/pg-root.sh 15)
    root17=$(bash scripts/pg-root.sh 17)
    version=$(extension_version)
    # Debian 12's PostgreSQL 15 into the trixie root, once; the extension for both majors from
    # their packages (whatever else ran in the root before).
    if [ ! -x "$root17/usr/lib/postgresql/15/bin/postgres" ]; then
        mkdir -p "$root17/usr/lib/postgresql" "$root17/usr/share/postgresql"
        cp -a "$root15/usr/lib/postgresql/15" "$root17/usr/lib/postgresql/"
        cp -a "$root15/usr/share/postgresql/15" "$root17/usr/share/postgresql/"
        mkdir -p "$root17/usr/lib/postgresql/15/compat"
        for lib in libicuuc.so.72 libicui18n.so.72 libicudata.so.72 libldap-2.5.so.0 liblber-2.5.so.0; do
            cp -aL "$root15/usr/lib/x86_64-linux-gnu/$lib" "$root17/usr/lib/postgresql/15/compat/"
        done
    fi
    for major in 15 17; do
        deb=target/packages/postgresql-$major-agent-trace_${version}_$(dpkg --print-architecture).deb
        [ -f "$deb" ] || { echo "scripts/test-pg-upgrade.sh: no $deb: run scripts/package.sh first" >&2; exit 1; }
        dpkg-deb -x "$deb" "$root17"
    done
    exec bash scripts/pg-root.sh 17 run bash scripts/test-pg-upgrade.sh --inside
fi

old=/usr/lib/postgresql/15/bin
new=/usr/lib/postgresql/17/bin
export LD_LIBRARY_PATH=/usr/lib/postgresql/15/compat
work=$(mktemp -d /tmp/agent-trace-pg-upgrade.XXXXXX)
chown postgres "$work"
cleanup() {
    for cluster in old new; do
        [ -f "$work/$cluster/postmaster.pid" ] && runuser -u postgres -- "${!cluster}/pg_ctl" -D "$work/$cluster" -m fast -w stop >/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
as_pg() { runuser -u postgres -- env LD_LIBRARY_PATH="$LD_LIBRARY_PATH" "$@"; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -U postgres -d app "$@"; }

as_pg "$old/initdb" -D "$work/old" -U postgres --auth=trust --no-sync >/dev/null
as_pg "$old/pg_ctl" -D "$work/old" -l "$work/old.log" -w -o "-c listen_addresses='' -k $work" start >/dev/null
psql -X -q -h "$work" -U postgres -d postgres -c "CREATE DATABASE app"
sql -c "CREATE EXTENSION agent_trace" \
    -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, source)
        VALUES ('upgrade-model', '*', 1, 2, 'manual')" \
    -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, input_tokens, output_tokens, start_time, end_time)
        SELECT lpad(to_hex(t), 32, '0')::agent_trace.trace_id, lpad(to_hex(t * 16 + s), 16, '0')::agent_trace.span_id,
               CASE WHEN s > 1 THEN lpad(to_hex(t * 16 + 1), 16, '0')::agent_trace.span_id END,
               CASE WHEN s = 1 THEN 'run' ELSE 'chat' END, CASE WHEN s = 1 THEN 'agent' ELSE 'llm' END,
               CASE WHEN s > 1 THEN 'upgrade-model' END, CASE WHEN s > 1 THEN 1000 END, CASE WHEN s > 1 THEN 500 END,
               now() - interval '1 hour' + t * interval '1 second', now() - interval '1 hour' + t * interval '1 second' + interval '1 second'
          FROM generate_series(1, 1000) AS t, generate_series(1, 5) AS s"
facts="SELECT (SELECT count(*) FROM agent_trace.agent_spans) || ' ' || (SELECT count(*) FROM agent_trace.agent_traces)
           || ' ' || (SELECT sum(span_count) FROM agent_trace.agent_traces) || ' ' || (SELECT sum(computed_cost_usd) FROM agent_trace.agent_traces)
           || ' ' || (SELECT count(*) FROM agent_trace.trace_tree(lpad(to_hex(7), 32, '0')::agent_trace.trace_id))
           || ' ' || (SELECT count(*) FROM agent_trace.model_prices)"
before=$(sql -c "$facts")
as_pg "$old/pg_ctl" -D "$work/old" -m fast -w stop >/dev/null

as_pg "$new/initdb" -D "$work/new" -U postgres --auth=trust --no-sync >/dev/null
start=$(date +%s%N)
as_pg "$new/pg_upgrade" --old-bindir "$old" --new-bindir "$new" --old-datadir "$work/old" --new-datadir "$work/new" \
    --socketdir "$work" --username postgres >"$work/pg_upgrade.log" 2>&1 \
    || { cat "$work/pg_upgrade.log" "$work"/new/pg_upgrade_output.d/*/log/*.log 2>/dev/null | tail -40 >&2; exit 1; }
ms=$(( ($(date +%s%N) - start) / 1000000 ))
took=$((ms / 1000)).$(( ms % 1000 / 100 ))
as_pg "$new/pg_ctl" -D "$work/new" -l "$work/new.log" -w -o "-c listen_addresses='' -k $work" start >/dev/null
after=$(sql -c "$facts")
# One more span of a trace from before, after the upgrade: it folds into that trace and is priced.
sql -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, input_tokens, output_tokens, start_time, end_time)
        VALUES (lpad(to_hex(7), 32, '0')::agent_trace.trace_id, 'ffffffffffffff07', lpad(to_hex(7 * 16 + 1), 16, '0')::agent_trace.span_id,
                'chat', 'llm', 'upgrade-model', 1000, 500, now() - interval '30 minutes', now() - interval '29 minutes')"
later=$(sql -c "SELECT span_count || ' ' || llm_call_count || ' ' || computed_cost_usd FROM agent_trace.agent_traces WHERE trace_id = lpad(to_hex(7), 32, '0')::agent_trace.trace_id")
version=$(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'agent_trace'")
want_later="6 5 0.010"
if [ "$before" = "$after" ] && [ "$later" = "$want_later" ]; then
    printf '==> pg_upgrade 15 -> 17 of a database with agent_trace %s in %s s keeps every row and answer (spans, traces, their spans, computed cost, a trace tree, prices: %s); a span added after folds into its trace and is priced (%s)\n' \
        "$version" "$took" "$after" "$later"
else
    echo "FAIL: pg_upgrade 15 -> 17: before '$before', after '$after'; one more span: '$later' (want '$want_later')" >&2
    exit 1
fi
