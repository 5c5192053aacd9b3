-- Scaling out on Citus (docs/scaling-out.md). `SELECT * FROM agent_trace.distribute()` on the
-- coordinator of a Citus cluster (every node with `CREATE EXTENSION agent_trace`) distributes:
--   agent_traces, agent_spans, agent_span_costs  by trace_id, colocated: a trace's spans, costs and
--                                                summary row live on one node, and one trace's
--                                                functions run there (a router query);
--   agent_logs                                   by record_key (many records carry no trace);
--   agent_metrics                                by series_key (points carry no trace);
--   projects, project_grants, ingest_tokens,     as reference tables (a copy on every node, which
--   model_prices, retention                      the policies and the pricing read locally).
-- The daily partitions are distributed with their tables (and those maintain() makes later too).
--
-- What changes with it, because Citus cannot run it on distributed tables:
--   * agent_spans' statement triggers (they read transition tables): the ingest recomputes the
--     traces of every batch it stores, in the batch's transaction (_refresh_traces, by trace_id:
--     routed to each trace's node); maintain() recomputes the traces of spans stored by anything
--     else since its last run; retention and erase recompute what they change.
--   * the policies' subquery: the same rule, with the list of granted projects computed per row.
--   * AgentOS's copy triggers on agent_traces: an AgentOS schema is refreshed by maintain().

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

CREATE FUNCTION agent_trace.distribute(shard_count integer DEFAULT NULL)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    policy_tables text[] := ARRAY['agent_spans', 'agent_traces', 'agent_span_costs', 'agent_logs', 'agent_metrics'];
    fk record;
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
    -- Every node: the policies' function reads the grants (a reference table) from inside a query
    -- on a shard, which Citus allows only when asked (reading a reference table there is exact: every
    -- node holds all of it). Run again after adding a node.
    ALTER FUNCTION agent_trace._projects_granted(text, name) SET citus.allow_nested_distributed_execution = on;
    PERFORM run_command_on_workers(
        'ALTER FUNCTION agent_trace._projects_granted(text, name) SET citus.allow_nested_distributed_execution = on');
    IF agent_trace.distributed() THEN
        action := 'skipped'; table_name := NULL; detail := 'distributed already; every node prepared';
        RETURN NEXT;
        RETURN;
    END IF;
    IF shard_count IS NOT NULL THEN
        PERFORM set_config('citus.shard_count', shard_count::text, true);
    END IF;
    -- The statement triggers read transition tables, which Citus does not have for distributed
    -- tables; their work moves to the ingest, maintain(), retention and erase (see the top).
    FOR t IN SELECT tg.tgname, tg.tgrelid::regclass AS rel
               FROM pg_catalog.pg_trigger AS tg
              WHERE tg.tgrelid IN ('agent_trace.agent_spans'::regclass, 'agent_trace.agent_traces'::regclass)
                AND NOT tg.tgisinternal AND tg.tgtype & 1 = 0  -- statement triggers
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        PERFORM run_command_on_workers(format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.rel));
        action := 'dropped'; table_name := t.rel::text; detail := format('trigger %s', t.tgname);
        RETURN NEXT;
    END LOOP;
    -- Policies without a subquery (Citus refuses one in a policy of a distributed table).
    FOREACH table_name IN ARRAY policy_tables LOOP
        FOR t IN SELECT p.polname, p.polcmd FROM pg_catalog.pg_policy AS p
                  WHERE p.polrelid = format('agent_trace.%I', table_name)::regclass LOOP
            EXECUTE format('DROP POLICY %I ON agent_trace.%I', t.polname, table_name);
            PERFORM run_command_on_workers(format('DROP POLICY IF EXISTS %I ON agent_trace.%I', t.polname, table_name));
            IF t.polcmd = 'r' THEN
                EXECUTE format('CREATE POLICY %I ON agent_trace.%I FOR SELECT USING (project_id = ANY (agent_trace._projects_granted(''read'', current_user)))',
                               t.polname, table_name);
            ELSE
                EXECUTE format('CREATE POLICY %I ON agent_trace.%I FOR INSERT WITH CHECK (project_id = ANY (agent_trace._projects_granted(''write'', current_user)))',
                               t.polname, table_name);
            END IF;
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
        PERFORM run_command_on_workers(format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.rel, fk.conname));
    END LOOP;
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
    -- The traces, by trace id; their spans and costs with them.
    PERFORM create_distributed_table('agent_trace.agent_traces', 'trace_id');
    PERFORM create_distributed_table('agent_trace.agent_spans', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    PERFORM create_distributed_table('agent_trace.agent_span_costs', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    -- Log records by their key, metric points by their series: many carry no trace. agent_logs'
    -- row trigger (pricing, from the reference table model_prices) runs on each shard.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    PERFORM create_distributed_table('agent_trace.agent_logs', 'record_key');
    PERFORM create_distributed_table('agent_trace.agent_metrics', 'series_key');
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs', 'agent_logs', 'agent_metrics'] LOOP
        PERFORM truncate_local_data_after_distributing_table(format('agent_trace.%I', table_name));
    END LOOP;
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs'] LOOP
        action := 'distributed'; detail := 'by trace_id, colocated';
        RETURN NEXT;
    END LOOP;
    table_name := 'agent_logs'; detail := 'by record_key'; RETURN NEXT;
    table_name := 'agent_metrics'; detail := 'by series_key'; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agent_trace.distribute(integer) IS
    'Distributes agent_trace over the Citus cluster this database coordinates (docs/scaling-out.md): traces, spans and computed costs by trace_id, colocated; log records by record_key; metric points by series_key; projects, grants, tokens, prices and retention as reference tables; the daily partitions with their tables. Takes the statement triggers off agent_spans and agent_traces (Citus has no transition tables): the ingest, maintain(), retention and erase keep agent_traces exact instead. Rows already stored move to the workers. Run again, it does nothing. shard_count: citus.shard_count for the distributed tables (default: Citus''s, 32).';
REVOKE ALL ON FUNCTION agent_trace.distribute(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.distributed() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.distributed() TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;

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
