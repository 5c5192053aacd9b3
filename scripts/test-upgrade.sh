#!/usr/bin/env bash
# Schema upgrades. tests/upgrade/ keeps the install script of every released version, frozen, and
# each release is tagged in git (vX.Y.Z).
#  1. A released install script never changes: each frozen copy must equal the one its release tag
#     holds, and the current version, once released, must generate its frozen copy. Changing the
#     schema therefore means bumping the version and writing extension/sql/agent_trace--OLD--NEW.sql.
#     Only comments may differ (scripts/sql-code.py compares what PostgreSQL runs), so a stale
#     comment can be mended without a version.
#  2. For every earlier release R: CREATE EXTENSION agent_trace VERSION 'R', then ALTER EXTENSION
#     UPDATE along the upgrade scripts, must give exactly the schema a fresh CREATE EXTENSION gives
#     (compared with tests/schema_fingerprint.sql: columns, positions, defaults, indexes, function
#     bodies, comments, privileges).
#     Only releases built for $PG_CONFIG's major are upgraded from: 15 from the first release on,
#     17 and 18 from 0.5.0, the first release tested on them (scripts/test-pg-version.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

version=$(extension_version)
ext_dir="$("$PG_CONFIG" --sharedir)/extension"
generated="$ext_dir/agent_trace--$version.sql"
[ -f "$generated" ] || { echo "missing $generated: run scripts/install-extension.sh first" >&2; exit 1; }

sql_code() { python3 scripts/sql-code.py "$1"; }

# Whether release $1 was made for this PostgreSQL major (upgrades from it are tested here).
case $PG_MAJOR in
    15) first_release=0.1.0 ;;
    *) first_release=0.5.0 ;;
esac
made_for_this_major() { [ "$(printf '%s\n%s\n' "$first_release" "$1" | sort -V | head -1)" = "$first_release" ]; }

failures=0
frozen="tests/upgrade/agent_trace--$version.sql"
if [ -f "$frozen" ]; then
    if diff -u <(sql_code "$frozen") <(sql_code "$generated") >/dev/null; then
        log "released $version: generated install script runs what the frozen one runs"
    else
        echo "FAIL: the install script of released version $version changed:" >&2
        diff -u <(sql_code "$frozen") <(sql_code "$generated") | head -40 >&2
        echo "Bump the version in Cargo.toml and put the change in extension/sql/agent_trace--$version--NEW.sql." >&2
        failures=$((failures + 1))
    fi
else
    log "version $version is not released yet (no $frozen)"
fi

# Each frozen script is the one its release shipped. The tags come with a clone; without them
# (an export of the tree) this check cannot run, and says so.
for released in tests/upgrade/agent_trace--*.sql; do
    release=$(basename "$released" .sql); release=${release#agent_trace--}
    if ! git rev-parse -q --verify "refs/tags/v$release" >/dev/null 2>&1; then
        echo "WARNING: no git tag v$release here: cannot check that $released is what $release shipped" >&2
        continue
    fi
    if ! git cat-file -e "v$release:$released" 2>/dev/null; then
        echo "FAIL: release tag v$release has no $released" >&2
        failures=$((failures + 1))
    elif diff -u <(git show "v$release:$released" | python3 scripts/sql-code.py /dev/stdin) <(sql_code "$released") >/dev/null; then
        log "released $release: $released runs what tag v$release shipped"
    else
        echo "FAIL: $released changed after release v$release (make the change the next version):" >&2
        diff -u <(git show "v$release:$released" | python3 scripts/sql-code.py /dev/stdin) <(sql_code "$released") | head -40 >&2
        failures=$((failures + 1))
    fi
done

cluster=$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-upgrade.XXXXXX")
copied=()
cleanup() {
    stop_scratch_cluster "$cluster"
    for f in "${copied[@]}"; do rm -f "$f"; done
}
trap cleanup EXIT
start_scratch_cluster "$cluster"
sql() { psql -X -q -v ON_ERROR_STOP=1 -h "$cluster" -U postgres "$@"; }

sql -d postgres -c "CREATE DATABASE fresh"
sql -d fresh -c "CREATE EXTENSION agent_trace"
sql -d fresh -At -f tests/schema_fingerprint.sql > "$cluster/fresh.txt"
# The built-in prices (data, so not in the fingerprint): an upgrade loads the same rows.
builtin_prices="SELECT count(*) || ' ' || md5(string_agg((to_jsonb(p) - 'created_at')::text, ',' ORDER BY p.model_pattern, p.provider, p.effective_from))
                  FROM agent_trace.model_prices AS p WHERE p.source = 'agent_trace built-in'"
fresh_prices=$(sql -d fresh -At -c "$builtin_prices")

upgrades=0
for released in tests/upgrade/agent_trace--*.sql; do
    [ -e "$released" ] || continue
    from=$(basename "$released" .sql); from=${from#agent_trace--}
    [ "$from" = "$version" ] && continue
    made_for_this_major "$from" || continue
    target="$ext_dir/agent_trace--$from.sql"
    # Always the frozen copy: a file left in the extension directory (e.g. by `cargo pgrx test`,
    # which installs a build with test functions) is not the release.
    [ -f "$target" ] || copied+=("$target")
    cp "$released" "$target"
    db="from_${from//[^0-9a-zA-Z]/_}"
    sql -d postgres -c "CREATE DATABASE $db"
    sql -d "$db" -c "CREATE EXTENSION agent_trace VERSION '$from'" -c "ALTER EXTENSION agent_trace UPDATE"
    sql -d "$db" -At -f tests/schema_fingerprint.sql > "$cluster/$db.txt"
    if diff -u "$cluster/fresh.txt" "$cluster/$db.txt" > "$cluster/$db.diff"; then
        log "upgrade $from -> $version gives the same schema as a fresh install"
    else
        echo "FAIL: upgrading $from -> $version differs from a fresh install (- fresh, + upgraded):" >&2
        cat "$cluster/$db.diff" >&2
        failures=$((failures + 1))
    fi
    upgraded_prices=$(sql -d "$db" -At -c "$builtin_prices")
    if [ "$upgraded_prices" = "$fresh_prices" ]; then
        log "upgrade $from -> $version loads the built-in prices a fresh install has (${fresh_prices%% *} rows)"
    else
        echo "FAIL: built-in prices after upgrading $from -> $version: '$upgraded_prices' (a fresh install: '$fresh_prices')" >&2
        failures=$((failures + 1))
    fi
    upgrades=$((upgrades + 1))
done
log "upgrade paths checked: $upgrades (releases from $first_release on, for PostgreSQL $PG_MAJOR); schema facts compared: $(wc -l < "$cluster/fresh.txt")"

# An AgentOS schema enabled under 0.3.0 gets, on upgrade, the indexes enable_agno_compat makes now:
# AgentOS then opens a span by its id alone through them (extension/sql/agno.sql).
if [ -f tests/upgrade/agent_trace--0.3.0.sql ] && [ "$version" != 0.3.0 ] && made_for_this_major 0.3.0; then
    sql -d postgres -c "CREATE DATABASE agno_from_0_3_0"
    sql -d agno_from_0_3_0 -c "CREATE EXTENSION agent_trace VERSION '0.3.0'" -c "SELECT agent_trace.enable_agno_compat('ai')" \
        -c "ALTER EXTENSION agent_trace UPDATE" >/dev/null
    # agent_spans is partitioned: each partition's share of the index is <partition>_span_id_idx.
    plan=$(sql -d agno_from_0_3_0 -At -c "SET enable_seqscan = off" \
        -c "EXPLAIN SELECT * FROM ai.agno_spans WHERE span_id = 'd2d2d2d2d2d2d2d2'" \
        | grep -o 'Index Scan using agent_spans_[a-z0-9_]*_span_id_idx\|agno_traces_trace_id_idx\|Seq Scan on agent_spans[a-z0-9_]*' \
        | sed 's/using agent_spans_[a-z0-9_]*_span_id_idx/on a partition by span id/' | sort -u | tr '\n' ' ')
    if [ "$plan" = "Index Scan on a partition by span id agno_traces_trace_id_idx " ]; then
        log "upgrade 0.3.0 -> $version indexes an enabled AgentOS schema: a span by its id uses $plan"
    else
        echo "FAIL: after upgrading an AgentOS schema from 0.3.0, a span by its id uses '$plan' (want both indexes)" >&2
        failures=$((failures + 1))
    fi
fi

# docs/operations.md's recipe: a custom-format dump, restored without the partitions' own indexes
# and keys (attaching a partition makes them again; restoring them too would fail on each).
restore_into() { # database dumped, database to create
    "$PG_BINDIR/pg_dump" -h "$cluster" -U postgres -Fc -f "$cluster/$1.dump" "$1"
    "$PG_BINDIR/pg_restore" -l "$cluster/$1.dump" | grep -v -E '(CONSTRAINT|INDEX|INDEX ATTACH) agent_trace_partitions ' > "$cluster/$1.list"
    sql -d postgres -c "CREATE DATABASE $2"
    "$PG_BINDIR/pg_restore" -h "$cluster" -U postgres -d "$2" --exit-on-error -L "$cluster/$1.list" "$cluster/$1.dump"
}
# Upgrading from 0.3.1 keeps the data: spans (one with a negative token count and one that ends
# before it starts, which 0.4.0 refuses: mended), a priced LLM span, log records, metric points, the
# traces, an AgentOS schema. The tables become the partitions of their successors; rows inserted
# after the upgrade fold into the same traces; maintain() makes daily partitions after them.
if [ -f tests/upgrade/agent_trace--0.3.1.sql ] && [ "$version" != 0.3.1 ] && made_for_this_major 0.3.1; then
    sql -d postgres -c "CREATE DATABASE data_from_0_3_1"
    sql -d data_from_0_3_1 -c "CREATE EXTENSION agent_trace VERSION '0.3.1'" \
        -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok) VALUES ('up-model', '*', 1, 2)" \
        -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, input_tokens, output_tokens, start_time, end_time)
            VALUES ('e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', 'e0e0e0e0e0e0e0e0', NULL, 'run', 'agent', NULL, NULL, NULL, '2026-05-01 10:00+00', '2026-05-01 10:05+00'),
                   ('e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', 'e0e0e0e0e0e0e0e1', 'e0e0e0e0e0e0e0e0', 'chat', 'llm', 'up-model', 1000000, 1000000, '2026-05-01 10:01+00', '2026-05-01 10:02+00'),
                   ('e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', 'e0e0e0e0e0e0e0e2', 'e0e0e0e0e0e0e0e0', 'odd', 'llm', NULL, -5, 7, '2026-05-01 10:03+00', '2026-05-01 10:02+00')" \
        -c "INSERT INTO agent_trace.agent_logs (record_key, time, body, session_id) VALUES ('00000000-0000-0000-0000-0000000000e1', '2026-05-01 10:00+00', 'a log', 's-up')" \
        -c "INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value) VALUES ('00000000-0000-0000-0000-0000000000e2', 'm', 'gauge', '2026-05-01 10:00+00', 1)" \
        -c "SELECT agent_trace.enable_agno_compat('ai')" >/dev/null
    upgrade_state="SELECT concat_ws(' ', (SELECT count(*) FROM agent_trace.agent_spans), (SELECT count(*) FROM agent_trace.agent_logs),
                   (SELECT count(*) FROM agent_trace.agent_metrics), (SELECT span_count || '/' || computed_cost_usd FROM agent_trace.agent_traces),
                   (SELECT count(*) FROM ai.agno_traces))"
    before=$(sql -d data_from_0_3_1 -At -c "$upgrade_state")
    started=$(date +%s%N)
    sql -d data_from_0_3_1 -c "ALTER EXTENSION agent_trace UPDATE" >/dev/null
    took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    after=$(sql -d data_from_0_3_1 -At -c "$upgrade_state")
    mended=$(sql -d data_from_0_3_1 -At -c "SELECT coalesce(input_tokens::text, 'null') || ' ' || (end_time = start_time) FROM agent_trace.agent_spans WHERE name = 'odd'")
    partitions=$(sql -d data_from_0_3_1 -At -c "SELECT string_agg(DISTINCT tableoid::regclass::text, ' ') FROM agent_trace.agent_spans" | sed 's/_until_[0-9]*/_until_DAY/g')
    sql -d data_from_0_3_1 -c "SELECT count(*) FROM agent_trace.maintain()" \
        -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, input_tokens, output_tokens, start_time, end_time)
            VALUES ('e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0', 'e0e0e0e0e0e0e0e3', 'e0e0e0e0e0e0e0e0', 'later', 'llm', 'up-model', 1000000, 0, '2026-05-01 10:04+00', '2026-05-01 10:04+00')" \
        -c "DELETE FROM agent_trace.agent_spans WHERE name = 'odd'" >/dev/null
    later=$(sql -d data_from_0_3_1 -At -c "SELECT span_count || '/' || computed_cost_usd FROM agent_trace.agent_traces")
    # Nothing outside the extension's schemas belongs to it (the AgentOS schema is the user's).
    foreign=$(sql -d data_from_0_3_1 -At -c "SELECT string_agg(pg_describe_object(classid, objid, objsubid), ', ') FROM pg_depend
        WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e' AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agent_trace')
          AND pg_describe_object(classid, objid, objsubid) LIKE '% ai.%'")
    [ -z "$foreign" ] || { echo "FAIL: after the upgrade, the extension owns: $foreign" >&2; failures=$((failures + 1)); }
    restore_into data_from_0_3_1 restored_from_0_3_1
    restored=$(sql -d restored_from_0_3_1 -At -c "$upgrade_state")
    want_before="3 1 1 3/3 1"
    if [ "$before" = "$want_before" ] && [ "$after" = "$before" ] && [ "$mended" = "null true" ] \
        && [ "$partitions" = "agent_trace_partitions.agent_spans_until_DAY" ] && [ "$later" = "3/4" ] \
        && [ "$restored" = "3 1 1 3/4 1" ]; then
        log "upgrade 0.3.1 -> $version keeps the data in place ($after; mended: $mended; in $partitions; took ${took_ms} ms), folds new spans into its traces ($later), and dumps and restores ($restored)"
    else
        echo "FAIL: upgrading 0.3.1 with data: before '$before' (want '$want_before'), after '$after', mended '$mended' (want 'null true')," \
             "partitions '$partitions', after one more span and a delete '$later' (want '3/4'), restored '$restored' (want '3 1 1 3/4 1')" >&2
        failures=$((failures + 1))
    fi
    # A view of yours on agent_trace's tables would read the old tables after the upgrade: it refuses.
    sql -d postgres -c "CREATE DATABASE view_from_0_3_1"
    sql -d view_from_0_3_1 -c "CREATE EXTENSION agent_trace VERSION '0.3.1'" \
        -c "CREATE VIEW public.my_llm_calls AS SELECT trace_id, model FROM agent_trace.agent_spans WHERE span_type = 'llm'"
    refusal=$(sql -d view_from_0_3_1 -c "ALTER EXTENSION agent_trace UPDATE" 2>&1 || true)
    if echo "$refusal" | grep -q 'rebuilds what these depend on: view my_llm_calls'; then
        log "upgrade 0.3.1 -> $version refuses while a view of yours reads agent_trace's tables, and names it"
    else
        echo "FAIL: upgrading 0.3.1 under a user's view: '$refusal'" >&2
        failures=$((failures + 1))
    fi
fi

# Upgrading 0.4.0 with prices of its own (as `agent-trace prices import` of the same snapshot wrote
# them, and one edited): no row is changed, the built-in rows come beside them, and calls are priced
# with the user's rows still.
if [ -f tests/upgrade/agent_trace--0.4.0.sql ] && [ "$version" != 0.4.0 ] && made_for_this_major 0.4.0; then
    sql -d postgres -c "CREATE DATABASE prices_from_0_4_0"
    sql -d prices_from_0_4_0 -c "CREATE EXTENSION agent_trace VERSION '0.4.0'" \
        -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok, source, source_date)
            VALUES ('gpt-4o-mini', 'openai', 0.15, 0.6, 'litellm 1.106.2 model_prices_and_context_window_backup.json', '2026-10-21'),
                   ('gpt-4o', 'openai', 9, 9, 'litellm 1.106.2 model_prices_and_context_window_backup.json', '2026-10-21')"
    own="SELECT string_agg(concat_ws(':', xmin, ctid, model_pattern, input_usd_per_mtok, source), ' ' ORDER BY model_pattern)
           FROM agent_trace.model_prices WHERE source <> 'agent_trace built-in'"
    before=$(sql -d prices_from_0_4_0 -At -c "$own")
    sql -d prices_from_0_4_0 -c "ALTER EXTENSION agent_trace UPDATE" >/dev/null
    after=$(sql -d prices_from_0_4_0 -At -c "$own")
    loaded=$(sql -d prices_from_0_4_0 -At -c "$builtin_prices")
    priced=$(sql -d prices_from_0_4_0 -At -c "SELECT input_usd_per_mtok || ' ' || source FROM agent_trace.price_for('gpt-4o', 'openai', now())")
    if [ "$after" = "$before" ] && [ "$loaded" = "$fresh_prices" ] && [ "$priced" = "9 litellm 1.106.2 model_prices_and_context_window_backup.json" ]; then
        log "upgrade 0.4.0 -> $version leaves the prices it had untouched (same xmin and ctid), loads the built-in ones beside them, and prices with the user's"
    else
        echo "FAIL: upgrading 0.4.0 with prices: own rows before '$before', after '$after'; built-in '$loaded' (want '$fresh_prices'); gpt-4o priced at '$priced' (want the user's 9)" >&2
        failures=$((failures + 1))
    fi
fi

# A backup keeps the data: pg_dump of a database with a priced LLM span, restored into an empty one,
# has the span, the price, the trace row and the computed cost, once: each partition is restored
# directly (no trigger folds the span a second time), and agent_traces is dumped too. One span lies
# in a daily partition that maintain() made, one in the default partition. See
# extension/sql/access.sql.
sql -d fresh -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, effective_from, input_usd_per_mtok, output_usd_per_mtok, source) VALUES ('dump-model', 'openai', '2026-01-01', 1, 2, 'test')" \
    -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, model, provider, input_tokens, output_tokens, start_time, end_time) VALUES ('d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0', 'd0d0d0d0d0d0d0d0', 'chat dump-model', 'llm', 'dump-model', 'openai', 1000000, 1000000, '2026-06-01', '2026-06-01')" \
    -c "SELECT count(*) FROM agent_trace._maintain('2026-06-01 12:00+00')" \
    -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, provider, input_tokens, output_tokens, start_time, end_time) VALUES ('d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0', 'd0d0d0d0d0d0d0d1', 'd0d0d0d0d0d0d0d0', 'chat dump-model', 'llm', 'dump-model', 'openai', 1000000, 1000000, '2026-01-01', '2026-06-01')" \
    -c "SELECT agent_trace.enable_agno_compat('ai')"
# Prices: a built-in row edited (it becomes the user's), one deleted, a row of the user's beside a
# built-in one of the same key. The dump holds the user's rows only; the restore's CREATE EXTENSION
# loads the built-in ones again (the deleted one too), and the user's rows still price the calls.
sql -d fresh -c "UPDATE agent_trace.model_prices SET input_usd_per_mtok = 0.2 WHERE model_pattern = 'gpt-4o-mini' AND provider = 'openai'" \
    -c "DELETE FROM agent_trace.model_prices WHERE model_pattern = 'o3' AND provider = 'openai'" \
    -c "INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok) VALUES ('gpt-4o', 'openai', 1, 2)" >/dev/null
restore_into fresh restored
prices_state="SELECT concat_ws(' ', (SELECT count(*) FROM agent_trace.model_prices WHERE source = 'agent_trace built-in'),
                  (SELECT string_agg(concat_ws(':', model_pattern, input_usd_per_mtok, source, source_date), ',' ORDER BY model_pattern)
                     FROM agent_trace.model_prices WHERE source <> 'agent_trace built-in'),
                  (SELECT string_agg(input_usd_per_mtok || ':' || source, ',' ORDER BY model) FROM unnest(ARRAY['gpt-4o', 'gpt-4o-mini', 'o3']) AS model,
                          agent_trace.price_for(model, 'openai', '2026-06-01')))"
prices_before=$(sql -d fresh -At -c "$prices_state"); prices_after=$(sql -d restored -At -c "$prices_state")
prices_want_before="187 dump-model:1:test,gpt-4o:1:manual,gpt-4o-mini:0.2:manual:2026-10-21 1:manual,0.2:manual"
prices_want_after="189 dump-model:1:test,gpt-4o:1:manual,gpt-4o-mini:0.2:manual:2026-10-21 1:manual,0.2:manual,2:agent_trace built-in"
if [ "$prices_before" = "$prices_want_before" ] && [ "$prices_after" = "$prices_want_after" ]; then
    log "pg_dump and restore keep the user's prices (an edited built-in row too) beside the built-in ones, which price_for passes over; a deleted built-in row comes back ($prices_after)"
else
    echo "FAIL: prices before dump '$prices_before' (want '$prices_want_before'), after restore '$prices_after' (want '$prices_want_after')" >&2
    failures=$((failures + 1))
fi
state="SELECT (SELECT string_agg(tableoid::regclass::text, ' ' ORDER BY span_id) FROM agent_trace.agent_spans) || ' ' || (SELECT count(*) FROM agent_trace.model_prices WHERE model_pattern = 'dump-model') || ' ' || (SELECT span_count || ' ' || computed_cost_usd FROM agent_trace.agent_traces) || ' ' || (SELECT count(*) FROM agent_trace.agent_span_costs)"
want="agent_trace_partitions.agent_spans_p20260601 agent_trace_partitions.agent_spans_default 1 2 6 2"
before=$(sql -d fresh -At -c "$state"); after=$(sql -d restored -At -c "$state")
if [ "$before" = "$after" ] && [ "$before" = "$want" ]; then
    log "pg_dump and restore keep spans (in their partitions), prices, the trace row and computed costs, once ($after)"
else
    echo "FAIL: spans' partitions, prices, trace spans, computed cost, cost rows: before dump '$before', after restore '$after' (want '$want')" >&2
    failures=$((failures + 1))
fi
# An AgentOS schema (extension/sql/agno.sql) is the user's, not the extension's: pg_dump keeps it with
# its copy of the traces, and after the restore agent_trace keeps that copy current again.
sql -d restored -c "INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time) VALUES ('d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1d1', 'd1d1d1d1d1d1d1d1', 'after restore', '2026-06-02', '2026-06-02')"
agno=$(sql -d restored -At -c "SELECT string_agg(name || ':' || (SELECT count(*) FROM ai.agno_spans s WHERE s.trace_id = t.trace_id), ' ' ORDER BY name) FROM ai.agno_traces t")
# The span id index on agent_spans (an extension table) is not dumped; enabling again makes it.
index="to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NOT NULL"
indexes=$(sql -d fresh -At -c "SELECT $index")$(sql -d restored -At -c "SELECT $index")
sql -d restored -c "SELECT agent_trace.enable_agno_compat('ai')" >/dev/null
indexes=$indexes$(sql -d restored -At -c "SELECT $index")
if [ "$indexes" = "tft" ]; then
    log "the span id index for AgentOS is not dumped, and enable_agno_compat after the restore makes it again"
else
    echo "FAIL: span id index before dump, after restore, after enabling again: '$indexes' (want 'tft')" >&2
    failures=$((failures + 1))
fi
if [ "$agno" = "after restore:1 chat dump-model:2" ]; then
    log "pg_dump and restore keep the AgentOS schema, and agent_trace keeps it current ($agno)"
else
    echo "FAIL: AgentOS traces after restore and one more span: '$agno' (want 'after restore:1 chat dump-model:2')" >&2
    failures=$((failures + 1))
fi
[ "$failures" -eq 0 ]
