-- Scaling out on Citus (docs/scaling-out.md). `SELECT * FROM agent_trace.distribute()` on the
-- coordinator of a Citus cluster (every node with `CREATE EXTENSION agent_trace`) distributes:
--   agent_traces, agent_spans, agent_span_costs, by trace_id, colocated: a trace's spans, costs,
--   agent_scores                                 scores and summary row live on one node, and one
--                                                trace's functions run there (a router query);
--   agent_logs                                   by record_key (many records carry no trace);
--   agent_metrics                                by series_key (points carry no trace);
--   projects, project_grants, ingest_tokens,     as reference tables (a copy on every node, which
--   model_prices, retention                      the policies and the pricing read locally).
--   agent_scores_pending stays a table of the coordinator: a score waiting for the span of the
--   response it names has no trace to be distributed by, and only the coordinator (the ingest's
--   link_written_scores, maintain()) reads and writes it (scores.sql).
-- The daily partitions are distributed with their tables (and those maintain() makes later too).
--
-- What changes with it, because Citus cannot run it on distributed tables:
--   * agent_spans' statement triggers (they read transition tables): the ingest recomputes the
--     traces of every batch it stores, right after the batch commits (refresh_written_traces, by
--     trace_id: routed to each trace's node); maintain() recomputes the traces of spans stored by
--     anything else since its last run; retention, erase and recompute_costs recompute what they
--     change.
--   * the policies' subquery: the same rule, with the granted projects asked once per statement
--     through a function the policy calls per row (_projects_granted_cached).
--   * AgentOS compatibility: its copy triggers on agent_traces go too; _refresh_traces keeps the
--     copies (_agno_copy_traces), AgentOS's span inserts recompute their trace, and its spans views
--     read each trace's spans through _agno_trace_spans (agno.sql says why).

CREATE FUNCTION agent_trace.distributed() RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT FROM pg_catalog.pg_dist_partition AS p
                    WHERE p.logicalrelid = 'agent_trace.agent_spans'::regclass);
END
$$;
COMMENT ON FUNCTION agent_trace.distributed() IS
    'true once agent_trace.distribute() has distributed the tables over a Citus cluster.';

-- The policies on distributed tables. Citus takes no subquery in them, so the policy calls a
-- function for every row: _projects_granted_cached (Rust, extension/src/grants.rs) keeps the
-- answer of _projects_granted_here for the rest of the statement. _projects_granted_here runs
-- _projects_granted's own query against this node's copy of the reference tables (their one shard,
-- named alike on every node) when it holds one: inside a query Citus runs on a shard of this node
-- (agent_turns calling trace_tree per trace), a read through Citus would see the coordinator's
-- empty table and grant nothing.
CREATE FUNCTION agent_trace._projects_granted_here(access text, role name) RETURNS integer[]
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    query text;
    reference text;
    placement text;
    granted integer[];
BEGIN
    SELECT p.prosrc INTO query FROM pg_catalog.pg_proc AS p
     WHERE p.oid = 'agent_trace._projects_granted(text, name)'::regprocedure;
    query := regexp_replace(regexp_replace(query, '_projects_granted\.access\M', '$1', 'g'),
                            '_projects_granted\.role\M', '$2', 'g');
    FOREACH reference IN ARRAY ARRAY['project_grants', 'projects'] LOOP
        SELECT shard_name(s.logicalrelid, s.shardid) INTO placement
          FROM pg_dist_shard AS s WHERE s.logicalrelid = format('agent_trace.%I', reference)::regclass;
        IF to_regclass(placement) IS NOT NULL THEN
            query := regexp_replace(query, format('agent_trace\.%s\M', reference), placement, 'g');
        END IF;
    END LOOP;
    EXECUTE query INTO granted USING access, role;
    RETURN granted;
END
$$;
COMMENT ON FUNCTION agent_trace._projects_granted_here(text, name) IS
    'agent_trace._projects_granted, read from this node''s copy of the grants. Internal: on a distributed install, the policies ask it through _projects_granted_cached.';

CREATE FUNCTION agent_trace._projects_granted_cached(access text, role name) RETURNS integer[]
    LANGUAGE c STABLE STRICT
    AS 'MODULE_PATHNAME', 'agent_trace_projects_granted_cached';
COMMENT ON FUNCTION agent_trace._projects_granted_cached(text, name) IS
    'agent_trace._projects_granted_here, asked once per statement. Internal: the row-level security policies of a distributed install call it for every row.';

REVOKE ALL ON FUNCTION agent_trace._projects_granted_here(text, name),
    agent_trace._projects_granted_cached(text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._projects_granted_here(text, name),
    agent_trace._projects_granted_cached(text, name)
    TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;

-- Runs command on every worker, failing as it fails there (run_command_on_workers only reports).
CREATE FUNCTION agent_trace._on_workers(command text) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    failed record;
BEGIN
    FOR failed IN SELECT r.nodename, r.result FROM run_command_on_workers(command) AS r WHERE NOT r.success LOOP
        RAISE EXCEPTION 'on worker %: %', failed.nodename, failed.result
            USING DETAIL = format('Command: %s', left(command, 200));
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._on_workers(text) IS
    'Runs command on every Citus worker; an error if it fails on one. Internal: distribute().';
REVOKE ALL ON FUNCTION agent_trace._on_workers(text) FROM PUBLIC;

-- What every node needs, made again by each distribute() (run it after adding a node, and after
-- ALTER EXTENSION agent_trace UPDATE, which puts back the functions' installed settings): these
-- functions query the tables from inside a query Citus runs on a shard (agent_turns calls
-- trace_tree per trace, which reads that trace's spans on the node of its colocated shards; the
-- policies ask _projects_granted_here there), which Citus allows only when asked.
CREATE FUNCTION agent_trace._prepare_nodes() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nested text;
BEGIN
    FOREACH nested IN ARRAY ARRAY[
        'agent_trace._projects_granted_here(text, name)',
        'agent_trace.trace_start(agent_trace.trace_id)',
        'agent_trace.trace_end(agent_trace.trace_id)',
        'agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.replay(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id)',
        'agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)',
        'agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)']
    LOOP
        EXECUTE format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', nested);
        PERFORM agent_trace._on_workers(
            format('ALTER FUNCTION %s SET citus.allow_nested_distributed_execution = on', nested));
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._prepare_nodes() IS
    'On a distributed install: lets the trace functions and the policies'' function query the tables inside a query on a shard, on every node. distribute() runs it. Internal.';
REVOKE ALL ON FUNCTION agent_trace._prepare_nodes() FROM PUBLIC;

CREATE FUNCTION agent_trace.distribute(shard_count integer DEFAULT NULL)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    policy_tables text[] := ARRAY['agent_spans', 'agent_traces', 'agent_span_costs', 'agent_logs', 'agent_metrics', 'agent_scores'];
    fk record;
    policy text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'agent_trace.distribute() needs Citus: this database has no citus extension'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On every node: shared_preload_libraries = ''citus'', CREATE EXTENSION citus, CREATE EXTENSION agent_trace; then add the workers on the coordinator (docs/scaling-out.md).';
    END IF;
    IF NOT (SELECT citus_is_coordinator()) THEN
        RAISE EXCEPTION 'agent_trace.distribute() runs on the coordinator'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    -- Before any change the transaction makes on the workers (their locks would stop it).
    PERFORM agent_trace._prepare_nodes();
    IF agent_trace.distributed() THEN
        action := 'skipped'; table_name := NULL; detail := 'distributed already; every node prepared';
        RETURN NEXT;
        RETURN;
    END IF;
    IF shard_count IS NOT NULL THEN
        PERFORM set_config('citus.shard_count', shard_count::text, true);
    END IF;
    -- maintain() finds the spans stored since its last run by this (small, as rows arrive in order).
    CREATE INDEX agent_spans_created_at_idx ON agent_trace.agent_spans USING brin (created_at);
    INSERT INTO agent_trace.distributed_maintenance (traces_refreshed_at) VALUES (now())
        ON CONFLICT (one_row) DO UPDATE SET traces_refreshed_at = excluded.traces_refreshed_at;
    -- The statement triggers read transition tables, which Citus does not have for distributed
    -- tables; their work moves to the ingest, maintain(), retention and erase (see the top).
    FOR t IN SELECT tg.tgname, tg.tgrelid::regclass AS rel
               FROM pg_catalog.pg_trigger AS tg
              WHERE tg.tgrelid IN ('agent_trace.agent_spans'::regclass, 'agent_trace.agent_traces'::regclass)
                AND NOT tg.tgisinternal AND tg.tgtype & 1 = 0  -- statement triggers
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        PERFORM agent_trace._on_workers(format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.rel));
        action := 'dropped'; table_name := t.rel::text; detail := format('trigger %s', t.tgname);
        RETURN NEXT;
    END LOOP;
    -- Policies without a subquery (Citus refuses one in a policy of a distributed table), alike on
    -- every node: a worker plans a query on its own through its copy of the table (its policies
    -- apply then), and Citus does not make that copy again where CREATE EXTENSION made it.
    FOREACH table_name IN ARRAY policy_tables LOOP
        FOR t IN SELECT p.polname, p.polcmd FROM pg_catalog.pg_policy AS p
                  WHERE p.polrelid = format('agent_trace.%I', table_name)::regclass LOOP
            policy := format('DROP POLICY IF EXISTS %1$I ON agent_trace.%2$I; CREATE POLICY %1$I ON agent_trace.%2$I ', t.polname, table_name)
                || CASE WHEN t.polcmd = 'r'
                        THEN 'FOR SELECT USING (project_id = ANY (agent_trace._projects_granted_cached(''read'', current_user)))'
                        ELSE 'FOR INSERT WITH CHECK (project_id = ANY (agent_trace._projects_granted_cached(''write'', current_user)))' END;
            EXECUTE policy;
            PERFORM agent_trace._on_workers(policy);
        END LOOP;
    END LOOP;
    -- Reference tables: a copy on every node. Citus makes them one at a time, so the foreign keys
    -- between them go first and come back after.
    CREATE TEMPORARY TABLE agent_trace_distribute_fks ON COMMIT DROP AS
    SELECT c.conrelid::regclass AS rel, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS definition
      FROM pg_catalog.pg_constraint AS c
     WHERE c.contype = 'f' AND c.confrelid = 'agent_trace.projects'::regclass;
    FOR fk IN SELECT * FROM agent_trace_distribute_fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.rel, fk.conname);
        PERFORM agent_trace._on_workers(format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.rel, fk.conname));
    END LOOP;
    -- Row triggers run on each shard: model_prices' (an edited built-in price becomes the user's,
    -- prices.sql) and, below, agent_logs' (pricing, from the reference table model_prices). Citus
    -- takes a table with row triggers only with this set.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    FOREACH table_name IN ARRAY ARRAY['projects', 'project_grants', 'ingest_tokens', 'model_prices', 'retention'] LOOP
        PERFORM create_reference_table(format('agent_trace.%I', table_name));
        -- The rows are on every node now; the coordinator's own copy goes.
        PERFORM truncate_local_data_after_distributing_table(format('agent_trace.%I', table_name));
        action := 'reference'; detail := 'a copy on every node';
        RETURN NEXT;
    END LOOP;
    FOR fk IN SELECT * FROM agent_trace_distribute_fks LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.rel, fk.conname, fk.definition);
    END LOOP;
    -- AgentOS's spans views read agent_spans through a function on Citus (agno.sql): made again
    -- below; the index on the span id as text, which they no longer use, goes.
    FOR t IN SELECT c.compat_table, c.project_id, n.nspname FROM agent_trace._agno_compat_tables() AS c
               JOIN pg_catalog.pg_class AS r ON r.oid = c.compat_table
               JOIN pg_catalog.pg_namespace AS n ON n.oid = r.relnamespace LOOP
        EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', t.nspname);
    END LOOP;
    DROP INDEX IF EXISTS agent_trace.agent_spans_agno_span_id_idx;
    -- The traces, by trace id; their spans and costs with them.
    PERFORM create_distributed_table('agent_trace.agent_traces', 'trace_id');
    PERFORM create_distributed_table('agent_trace.agent_spans', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    PERFORM create_distributed_table('agent_trace.agent_span_costs', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    -- A trace's scores beside its spans (scores.sql).
    PERFORM create_distributed_table('agent_trace.agent_scores', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    -- Log records by their key, metric points by their series: many carry no trace.
    PERFORM create_distributed_table('agent_trace.agent_logs', 'record_key');
    PERFORM create_distributed_table('agent_trace.agent_metrics', 'series_key');
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs', 'agent_scores', 'agent_logs', 'agent_metrics'] LOOP
        PERFORM truncate_local_data_after_distributing_table(format('agent_trace.%I', table_name));
    END LOOP;
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs', 'agent_scores'] LOOP
        action := 'distributed'; detail := 'by trace_id, colocated';
        RETURN NEXT;
    END LOOP;
    table_name := 'agent_logs'; detail := 'by record_key'; RETURN NEXT;
    table_name := 'agent_metrics'; detail := 'by series_key'; RETURN NEXT;
    action := 'kept'; table_name := 'agent_scores_pending';
    detail := 'on the coordinator: a score waiting for its span has no trace to distribute by'; RETURN NEXT;
    FOR t IN SELECT c.compat_table, c.project_id, n.nspname FROM agent_trace._agno_compat_tables() AS c
               JOIN pg_catalog.pg_class AS r ON r.oid = c.compat_table
               JOIN pg_catalog.pg_namespace AS n ON n.oid = r.relnamespace LOOP
        PERFORM agent_trace._agno_create_spans_view(t.nspname, t.project_id);
        action := 'remade'; table_name := format('%I.agno_spans', t.nspname);
        detail := 'AgentOS''s spans view, one query per trace';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace.distribute(integer) IS
    'Distributes agent_trace over the Citus cluster this database coordinates (docs/scaling-out.md): traces, spans, computed costs and scores by trace_id, colocated; log records by record_key; metric points by series_key; projects, grants, tokens, prices and retention as reference tables; scores waiting for their span (agent_scores_pending) stay on the coordinator; the daily partitions with their tables. Takes the statement triggers off agent_spans and agent_traces (Citus has no transition tables): the ingest, maintain(), retention and erase keep agent_traces exact instead. Rows already stored move to the workers. Run again, it does nothing. shard_count: citus.shard_count for the distributed tables (default: Citus''s, 32).';
REVOKE ALL ON FUNCTION agent_trace.distribute(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.distributed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.distributed() TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;

-- What maintain() on a distributed install has recomputed: the traces of spans stored until then.
-- A table of the coordinator alone (maintain() runs there).
CREATE TABLE agent_trace.distributed_maintenance (
    one_row             boolean PRIMARY KEY DEFAULT true CHECK (one_row),
    traces_refreshed_at timestamptz NOT NULL
);
COMMENT ON TABLE agent_trace.distributed_maintenance IS
    'On a distributed install (agent_trace.distribute()): until when maintain() has recomputed the traces of stored spans. Empty otherwise.';
COMMENT ON COLUMN agent_trace.distributed_maintenance.one_row IS 'Always true: the table has one row.';
COMMENT ON COLUMN agent_trace.distributed_maintenance.traces_refreshed_at IS 'The start of the last maintain() that recomputed the traces of the spans stored since the one before.';
REVOKE ALL ON agent_trace.distributed_maintenance FROM PUBLIC;  -- the owner's alone (access.sql)

-- Spans stored by anything but the ingest (a plain INSERT or COPY), or by an ingest whose recompute
-- after the batch failed, change no trace on Citus until this runs from maintain(): it recomputes
-- the traces of every span stored since its last run began, less a margin for the transactions
-- still open then (one open longer than that is left to refresh_traces(from, to)).
CREATE FUNCTION agent_trace._refresh_stored_traces(margin interval DEFAULT interval '15 minutes')
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    since timestamptz;
    ids agent_trace.trace_id[];
    projects integer[];
    spans_from timestamptz[];
    spans_to timestamptz[];
BEGIN
    IF NOT agent_trace.distributed() THEN
        RETURN;
    END IF;
    SELECT m.traces_refreshed_at - margin INTO since FROM agent_trace.distributed_maintenance AS m;
    -- With where the new spans start: the recompute reads the stored row's time range, widened by it.
    SELECT array_agg(s.trace_id), array_agg(s.project_id), array_agg(s.spans_from), array_agg(s.spans_to)
      INTO ids, projects, spans_from, spans_to
      FROM (SELECT sp.trace_id, sp.project_id, min(sp.start_time) AS spans_from, max(sp.start_time) AS spans_to
              FROM agent_trace.agent_spans AS sp
             WHERE since IS NULL OR sp.created_at >= since
             GROUP BY sp.trace_id, sp.project_id) AS s;
    PERFORM agent_trace._refresh_traces(ids, projects, spans_from, spans_to);
    INSERT INTO agent_trace.distributed_maintenance (traces_refreshed_at) VALUES (now())
        ON CONFLICT (one_row) DO UPDATE SET traces_refreshed_at = excluded.traces_refreshed_at;
    IF cardinality(ids) > 0 THEN
        action := 'refreshed'; table_name := 'agent_traces';
        detail := format('%s traces of spans stored since %s', cardinality(ids),
                         coalesce(to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' (UTC)', 'ever'));
        RETURN NEXT;
    END IF;
END
$$;
COMMENT ON FUNCTION agent_trace._refresh_stored_traces(interval) IS
    'On a distributed install: recomputes the traces of the spans stored since the last run began, less margin. maintain() runs it. Internal.';
REVOKE ALL ON FUNCTION agent_trace._refresh_stored_traces(interval) FROM PUBLIC;

-- The ingest's recompute of the traces a batch of spans touched (sql/ingest/refresh_traces.sql),
-- granted to the writer, which otherwise changes no trace: a recompute gives every trace its true
-- totals, so calling it for any trace, any number of times, changes nothing that is right.
CREATE FUNCTION agent_trace.refresh_written_traces(trace_ids agent_trace.trace_id[], project_ids integer[],
                                                   spans_from timestamptz[], spans_to timestamptz[])
    RETURNS void
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT FROM agent_trace._refresh_traces(trace_ids, project_ids, spans_from, spans_to)
$$;
COMMENT ON FUNCTION agent_trace.refresh_written_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) IS
    'Recomputes these traces (trace_ids[i], project_ids[i], whose new spans start between spans_from[i] and spans_to[i]) from their stored spans. What the ingest runs after each batch of spans on a distributed install, where agent_spans has no insert trigger; idempotent. Internal.';
REVOKE ALL ON FUNCTION agent_trace.refresh_written_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.refresh_written_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) TO agent_trace_writer;
