-- agent_trace 0.4.0 -> 0.5.0: scaling out on Citus (agent_trace.distribute() and what it needs,
-- citus.sql: a table of its own, distributed_maintenance, and functions); uuid and macaddr8
-- values convert to trace and span ids on assignment (so Citus routes a query on a trace id to
-- its node); on a distributed install retention, erasure and maintain() recompute the traces
-- they change themselves, and AgentOS compatibility works there too (the copy kept by the
-- recompute, the spans view through a function); revoke_project and
-- revoke_ingest_token are PL/pgSQL (Citus plans no SQL function's parameters); a trace whose
-- root span has no service name has none; built-in model prices (CREATE EXTENSION and this
-- upgrade load them), edits of them kept by pg_dump as the user's, and agent_trace.has_prices.
-- Drafted by scripts/draft-upgrade-script.py from the 0.5.0 install script (every function that
-- is new or whose text changed, taken whole); scripts/test-upgrade.sh checks that upgrading
-- gives exactly a fresh 0.5.0 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.5.0'" to load this file. \quit

-- ids.sql: the casts from uuid and macaddr8 become assignment casts.
DROP CAST (uuid AS agent_trace.trace_id);
DROP CAST (macaddr8 AS agent_trace.span_id);
CREATE CAST (uuid AS agent_trace.trace_id) WITHOUT FUNCTION AS ASSIGNMENT;
CREATE CAST (macaddr8 AS agent_trace.span_id) WITHOUT FUNCTION AS ASSIGNMENT;

-- Functions new in 0.5.0 outside citus.sql, with their comments and privileges.
CREATE FUNCTION agent_trace._price_is_yours() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.source := 'manual';
    -- An edited built-in row whose key has a row of the user's already would be refused as a
    -- duplicate: say which, and why.
    IF TG_OP = 'UPDATE' AND OLD.source = 'agent_trace built-in' AND EXISTS (
        SELECT FROM agent_trace.model_prices AS p
         WHERE p.model_pattern = NEW.model_pattern AND p.provider = NEW.provider
           AND p.effective_from = NEW.effective_from AND p.source <> 'agent_trace built-in') THEN
        RAISE EXCEPTION 'model_prices has a row of yours for % (%) from % already', NEW.model_pattern,
                        NEW.provider, NEW.effective_from
              USING ERRCODE = 'unique_violation',
                    HINT = 'That row prices the calls, not the built-in one: change that row, or leave the built-in rows out of this UPDATE (WHERE source <> ''agent_trace built-in'').';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._price_is_yours() IS
    'Trigger of model_prices: a row inserted or updated with source ''agent_trace built-in'' (an edited built-in row) becomes the user''s, source ''manual'', so pg_dump keeps it. Internal.';
REVOKE ALL ON FUNCTION agent_trace._price_is_yours() FROM PUBLIC;
CREATE FUNCTION agent_trace.has_prices() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM agent_trace.model_prices)
$$;
COMMENT ON FUNCTION agent_trace.has_prices() IS
    'true when agent_trace.model_prices holds a price (false: no call gets a computed cost). Runs with the owner''s rights, so the writer role, which cannot read model_prices, can ask: `agent-trace serve` does at start.';
REVOKE ALL ON FUNCTION agent_trace.has_prices() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.has_prices() TO agent_trace_writer, agent_trace_reader, agent_trace_usage_reader;
CREATE FUNCTION agent_trace._delete_before(table_name text, time_column text, cutoff timestamptz,
                                           only_project integer DEFAULT NULL, other_projects integer[] DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    condition text := format('%I < $1', time_column)
        || CASE WHEN only_project IS NOT NULL THEN ' AND project_id = $2' ELSE '' END
        || CASE WHEN other_projects IS NOT NULL THEN ' AND project_id <> ALL ($3)' ELSE '' END;
    removed bigint;
    gone_trace agent_trace.trace_id[];
    gone_project integer[];
BEGIN
    IF table_name = 'agent_spans' AND agent_trace.distributed() THEN
        EXECUTE format('WITH gone AS (DELETE FROM agent_trace.agent_spans WHERE %s RETURNING trace_id, project_id),
                             traces AS (SELECT DISTINCT g.trace_id, g.project_id FROM gone AS g)
                        SELECT (SELECT count(*) FROM gone), (SELECT array_agg(t.trace_id) FROM traces AS t),
                               (SELECT array_agg(t.project_id) FROM traces AS t)', condition)
            INTO removed, gone_trace, gone_project
            USING cutoff, only_project, other_projects;
        PERFORM agent_trace._refresh_traces(gone_trace, gone_project);
    ELSE
        EXECUTE format('DELETE FROM agent_trace.%I WHERE %s', table_name, condition)
            USING cutoff, only_project, other_projects;
        GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION agent_trace._delete_before(text, text, timestamptz, integer, integer[]) IS
    'Deletes the rows of a partitioned table older than cutoff (of one project, or of all but some), fixing the traces of deleted spans; returns how many rows went. Internal: retention.';
REVOKE ALL ON FUNCTION agent_trace._delete_before(text, text, timestamptz, integer, integer[]) FROM PUBLIC;
CREATE FUNCTION agent_trace._agno_copy_traces(trace_ids agent_trace.trace_id[], project_ids integer[])
    RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
    project integer;
    wanted agent_trace.trace_id[];
BEGIN
    FOR target, project IN SELECT * FROM agent_trace._agno_compat_tables() LOOP
        wanted := ARRAY(SELECT k.trace_id FROM unnest(trace_ids, project_ids) AS k(trace_id, project_id)
                         WHERE k.project_id = project ORDER BY k.trace_id);
        CONTINUE WHEN cardinality(wanted) = 0;
        -- As _agno_sync_traces: a compatible schema never costs a span.
        BEGIN
            PERFORM set_config('agent_trace_agno.copying', 'on', true);
            EXECUTE format('DELETE FROM %s WHERE trace_id = ANY ($1)', target)
              USING wanted::text[];
            -- The traces read first, from the workers (_agno_trace takes the coordinator's row type).
            EXECUTE format(
                'WITH t AS MATERIALIZED (SELECT * FROM agent_trace.agent_traces AS a
                                          WHERE a.trace_id = ANY ($1) AND a.project_id = $2)
                 INSERT INTO %s SELECT r.* FROM t, agent_trace._agno_trace(ROW(t.*)::agent_trace.agent_traces) AS r
                  ORDER BY r.trace_id', target)
              USING wanted, project;
            PERFORM set_config('agent_trace_agno.copying', 'off', true);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'agent_trace: AgentOS table % not updated: %', target, SQLERRM
                USING HINT = 'agent_trace.enable_agno_compat(schema) rebuilds it.';
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_copy_traces(agent_trace.trace_id[], integer[]) IS
    'On a distributed install: makes the rows of these traces (trace_ids[i] in project_ids[i]) again from agent_traces in the agno_traces table of every schema prepared by enable_agno_compat for their project, with the rights of the extension''s owner. _refresh_traces calls it. Internal.';
REVOKE ALL ON FUNCTION agent_trace._agno_copy_traces(agent_trace.trace_id[], integer[]) FROM PUBLIC;
CREATE FUNCTION agent_trace._agno_trace_spans(trace text, project integer)
    RETURNS TABLE (span agent_trace.agent_spans, parent_stored boolean)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT s, s.parent_span_id IN (SELECT p.span_id FROM agent_trace.agent_spans AS p
                                        WHERE p.trace_id = trace::agent_trace.trace_id AND p.project_id = project)
          FROM agent_trace.agent_spans AS s
         WHERE s.trace_id = trace::agent_trace.trace_id AND s.project_id = project;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_trace_spans(text, integer) IS
    'Internal: the spans of one trace in one project, each with whether its parent is stored, read with the caller''s rights (row-level security applies). The agno_spans view of a compatible schema on Citus reads through it.';
REVOKE ALL ON FUNCTION agent_trace._agno_trace_spans(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._agno_trace_spans(text, integer) TO agent_trace_reader;
CREATE FUNCTION agent_trace._agno_create_spans_view(schema_name text, project_id integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    distributed boolean := agent_trace.distributed();
    propagation text;
BEGIN
    IF distributed THEN
        -- The view reads a table of the coordinator's own: it stays there.
        propagation := current_setting('citus.enable_ddl_propagation');
        PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
    END IF;
    EXECUTE format($ddl$
        CREATE VIEW %1$I.agno_spans WITH (security_invoker = true) AS
        SELECT s.span_id::text COLLATE "C" AS span_id,
               t.trace_id,
               CASE WHEN s.span_id::text = t.root_span_id THEN NULL
                    WHEN %3$s THEN s.parent_span_id::text
                    ELSE t.root_span_id END COLLATE "C" AS parent_span_id,
               s.name,
               s.span_kind,
               s.status_code,
               s.status_message,
               agent_trace._agno_time(s.start_time) AS start_time,
               agent_trace._agno_time(s.end_time) AS end_time,
               trunc(s.duration_ms)::bigint AS duration_ms,
               agent_trace._agno_attributes(%4$s) AS attributes,
               agent_trace._agno_time(s.created_at) AS created_at
          FROM %1$I.agno_traces AS t
          %5$s;
        COMMENT ON VIEW %1$I.agno_spans IS
            'AgentOS''s spans table, as agent_trace.enable_agno_compat made it: agent_trace.agent_spans with text ids and times and OpenInference attributes from the typed columns. INSERTs are stored in agent_trace.agent_spans.';
        CREATE TRIGGER agno_spans_into_agent_spans
            INSTEAD OF INSERT ON %1$I.agno_spans
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_insert_span(%2$s);
        GRANT SELECT ON %1$I.agno_spans TO agent_trace_reader;
        GRANT INSERT ON %1$I.agno_spans TO agent_trace_writer;
    $ddl$, schema_name, project_id,
        CASE WHEN distributed THEN 'x.parent_stored'
             ELSE 's.parent_span_id IS NOT NULL
                         AND EXISTS (SELECT FROM agent_trace.agent_spans AS p
                                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
                                        AND p.project_id = s.project_id)' END,
        CASE WHEN distributed THEN 'x.span' ELSE 's' END,
        CASE WHEN distributed
             THEN format('CROSS JOIN LATERAL agent_trace._agno_trace_spans(t.trace_id, %s) AS x
          CROSS JOIN LATERAL (SELECT (x.span).*) AS s', project_id)
             ELSE format('JOIN agent_trace.agent_spans AS s
            ON s.trace_id = t.trace_id::agent_trace.trace_id AND s.project_id = %s', project_id) END);
    IF distributed THEN
        PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_create_spans_view(text, integer) IS
    'Internal: creates the agno_spans view of a compatible schema showing one project, over agent_spans (on Citus, through _agno_trace_spans), with its INSTEAD OF INSERT trigger and grants.';
REVOKE ALL ON FUNCTION agent_trace._agno_create_spans_view(text, integer) FROM PUBLIC;

-- Functions whose body changed.
CREATE OR REPLACE FUNCTION agent_trace.revoke_project(project text, grantee regrole, access text DEFAULT 'read')
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE  -- (Citus plans no SQL-language function's parameters)
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM agent_trace.project_grants AS g
     WHERE g.project_id = agent_trace._project_id(project) AND g.grantee = revoke_project.grantee
       AND g.access = revoke_project.access;
    RETURN FOUND;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.revoke_ingest_token(token_id integer) RETURNS boolean
    LANGUAGE plpgsql VOLATILE  -- (Citus plans no SQL-language function's parameters)
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE agent_trace.ingest_tokens AS t SET revoked_at = now()
     WHERE t.token_id = revoke_ingest_token.token_id AND t.revoked_at IS NULL;
    RETURN FOUND;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._fold_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_spans'::regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._fold_inserted_spans runs only as the AFTER INSERT statement trigger of agent_trace.agent_spans'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH batches AS (
        -- The new LLM and embedding spans to price, one row per (model, provider, UTC day): one
        -- price lookup and one cost computation each. The array_aggs of one group see the same rows
        -- in the same order, so their elements line up.
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM new_spans AS s
         WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), costed AS (
        -- ON CONFLICT: a row left behind by a span that was deleted and is now stored again.
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
               computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
        SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
               p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, project_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
         ORDER BY u.trace_id, u.span_id, u.start_time, u.project_id
            ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = now()
        RETURNING c.trace_id, c.project_id, c.computed_cost_usd
    ), computed_per_trace AS (
        SELECT c.trace_id, c.project_id, sum(c.computed_cost_usd) AS computed_cost_usd
          FROM costed AS c
         GROUP BY c.trace_id, c.project_id
    ), per_trace AS (
        SELECT s.trace_id, s.project_id,
               min(s.start_time) AS start_time,
               max(s.end_time) AS end_time,
               count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm') AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool') AS tool_call_count,
               agent_trace._saturate_bigint(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS input_tokens,
               agent_trace._saturate_bigint(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS output_tokens,
               agent_trace._saturate_bigint(sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_read_tokens,
               agent_trace._saturate_bigint(sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_write_tokens,
               agent_trace._saturate_bigint(sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS reasoning_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               min(s.service_name) AS service_name,
               min(s.session_id) AS session_id,
               min(s.user_id) AS user_id,
               min(s.agent_name) AS agent_name,
               min(s.agent_id) AS agent_id,
               min(s.run_id) AS run_id,
               min(s.team_id) AS team_id,
               min(s.workflow_id) AS workflow_id,
               min(s.correlation_id) AS correlation_id
          FROM new_spans AS s
         GROUP BY s.trace_id, s.project_id
    ), root_candidates AS (
        -- The earliest parentless span of this batch, per trace.
        SELECT DISTINCT ON (s.trace_id, s.project_id) s.trace_id, s.project_id, s.span_id, s.start_time,
               s.name, s.service_name, s.input, s.output
          FROM new_spans AS s
         WHERE s.parent_span_id IS NULL
         ORDER BY s.trace_id, s.project_id, s.start_time, s.span_id
    )
    INSERT INTO agent_trace.agent_traces AS t (
        trace_id, project_id, name, start_time, end_time, span_count, error_count, llm_call_count, tool_call_count,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        service_name, session_id, user_id, agent_name, agent_id, run_id, team_id, workflow_id,
        correlation_id, input, output, root_span_id, root_start_time, computed_cost_usd)
    SELECT p.trace_id, p.project_id, r.name, p.start_time, p.end_time, p.span_count, p.error_count, p.llm_call_count,
           p.tool_call_count, p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens,
           p.reasoning_tokens, p.cost_usd,
           -- The root's service, even none; until the root arrives, the least of the spans'.
           CASE WHEN r.span_id IS NOT NULL THEN r.service_name ELSE p.service_name END, p.session_id,
           p.user_id, p.agent_name, p.agent_id, p.run_id, p.team_id, p.workflow_id, p.correlation_id,
           left(r.input, 500), left(r.output, 500), r.span_id, r.start_time, cc.computed_cost_usd
      FROM per_trace AS p
      LEFT JOIN root_candidates AS r ON r.trace_id = p.trace_id AND r.project_id = p.project_id
      LEFT JOIN computed_per_trace AS cc ON cc.trace_id = p.trace_id AND cc.project_id = p.project_id
     ORDER BY p.trace_id, p.project_id
        ON CONFLICT (trace_id, project_id) DO UPDATE SET
           start_time = least(t.start_time, excluded.start_time),
           end_time = greatest(t.end_time, excluded.end_time),
           span_count = t.span_count + excluded.span_count,
           error_count = t.error_count + excluded.error_count,
           llm_call_count = t.llm_call_count + excluded.llm_call_count,
           tool_call_count = t.tool_call_count + excluded.tool_call_count,
           -- NULL + n is NULL, so: the sum when both are known, else whichever is known. Token
           -- sums in numeric, saturated to bigint (see the top of this file).
           input_tokens = coalesce(agent_trace._saturate_bigint(t.input_tokens::numeric + excluded.input_tokens), t.input_tokens, excluded.input_tokens),
           output_tokens = coalesce(agent_trace._saturate_bigint(t.output_tokens::numeric + excluded.output_tokens), t.output_tokens, excluded.output_tokens),
           cache_read_tokens = coalesce(agent_trace._saturate_bigint(t.cache_read_tokens::numeric + excluded.cache_read_tokens), t.cache_read_tokens, excluded.cache_read_tokens),
           cache_write_tokens = coalesce(agent_trace._saturate_bigint(t.cache_write_tokens::numeric + excluded.cache_write_tokens), t.cache_write_tokens, excluded.cache_write_tokens),
           reasoning_tokens = coalesce(agent_trace._saturate_bigint(t.reasoning_tokens::numeric + excluded.reasoning_tokens), t.reasoning_tokens, excluded.reasoning_tokens),
           cost_usd = coalesce(t.cost_usd + excluded.cost_usd, t.cost_usd, excluded.cost_usd),
           computed_cost_usd = coalesce(t.computed_cost_usd + excluded.computed_cost_usd,
                                        t.computed_cost_usd, excluded.computed_cost_usd),
           -- least() skips NULLs: the smallest value seen, whatever order the spans came in.
           session_id = least(t.session_id, excluded.session_id),
           user_id = least(t.user_id, excluded.user_id),
           agent_name = least(t.agent_name, excluded.agent_name),
           agent_id = least(t.agent_id, excluded.agent_id),
           run_id = least(t.run_id, excluded.run_id),
           team_id = least(t.team_id, excluded.team_id),
           workflow_id = least(t.workflow_id, excluded.workflow_id),
           correlation_id = least(t.correlation_id, excluded.correlation_id),
           -- The root-derived columns change only when this batch brings an earlier root than the
           -- one stored (a missing stored root counts as infinitely late; a missing new one is
           -- never earlier, since the comparison is then NULL).
           service_name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.service_name
               WHEN t.root_span_id IS NULL THEN least(t.service_name, excluded.service_name)
               ELSE t.service_name END,
           name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.name ELSE t.name END,
           input = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.input ELSE t.input END,
           output = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.output ELSE t.output END,
           root_span_id = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_span_id ELSE t.root_span_id END,
           root_start_time = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_start_time ELSE t.root_start_time END,
           updated_at = now();
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._refresh_traces(
    trace_ids agent_trace.trace_id[], project_ids integer[],
    spans_from timestamptz[] DEFAULT NULL, spans_to timestamptz[] DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- Planned for the arrays at hand each time: a plan kept for the session guesses ten keys, and
    -- with ten thousand its nested loops take seconds per trace.
    SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    -- One time for every row this call writes; a value, not now() in the statements, so the same
    -- statements run where a function call in ON CONFLICT or UPDATE is refused (Citus).
    stamp timestamptz := now();
    keys_trace agent_trace.trace_id[];
    keys_project integer[];
    keys_from timestamptz[];
    keys_to timestamptz[];
    changed bigint;
BEGIN
    -- 0. On Citus each of the statements below locks the shards it writes, in order within the
    --    statement but not across them, so two recomputes at once can deadlock on the workers
    --    (the ingest's, after two batches): one at a time, queued on the coordinator.
    IF agent_trace.distributed() THEN
        PERFORM pg_advisory_xact_lock(hashtext('agent_trace._refresh_traces'));
    END IF;

    -- 1. Hold every trace's row, in key order: its stored row, or a placeholder (no spans) inserted
    --    for a trace without one. Rows another transaction is inserting are waited for; the WHERE
    --    false updates nothing but locks the row it found.
    INSERT INTO agent_trace.agent_traces AS t (trace_id, project_id, start_time, end_time, span_count,
                                               error_count, llm_call_count, tool_call_count)
    SELECT DISTINCT k.trace_id, k.project_id, to_timestamp(0), to_timestamp(0), 0, 0, 0, 0
      FROM unnest(trace_ids, project_ids) AS k(trace_id, project_id)
     WHERE k.trace_id IS NOT NULL AND k.project_id IS NOT NULL
     ORDER BY 1, 2
        ON CONFLICT (trace_id, project_id) DO UPDATE SET span_count = t.span_count WHERE false;

    -- 2. Where the spans can be, to read only those partitions: within the stored row's times
    --    (which held every span the trace had, those just deleted too), widened by what the caller
    --    knows (the new times of updated spans); anywhere for a placeholder.
    SELECT array_agg(t.trace_id ORDER BY t.trace_id, t.project_id),
           array_agg(t.project_id ORDER BY t.trace_id, t.project_id),
           array_agg(CASE WHEN t.span_count > 0 THEN least(t.start_time, b.spans_from) ELSE '-infinity' END
                     ORDER BY t.trace_id, t.project_id),
           array_agg(CASE WHEN t.span_count > 0 THEN greatest(t.end_time, b.spans_to) ELSE 'infinity' END
                     ORDER BY t.trace_id, t.project_id)
      INTO keys_trace, keys_project, keys_from, keys_to
      FROM (SELECT k.trace_id, k.project_id, min(k.spans_from) AS spans_from, max(k.spans_to) AS spans_to
              FROM unnest(trace_ids, project_ids, spans_from, spans_to) AS k(trace_id, project_id, spans_from, spans_to)
             GROUP BY k.trace_id, k.project_id) AS b
      JOIN agent_trace.agent_traces AS t ON t.trace_id = b.trace_id AND t.project_id = b.project_id;
    IF keys_trace IS NULL THEN
        RETURN 0;
    END IF;

    -- 3. Computed costs: none for a span that is gone; one for a span that has none and can be
    --    priced (stored again after a delete, or updated).
    DELETE FROM agent_trace.agent_span_costs AS c
     USING unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
     WHERE c.trace_id = k.trace_id AND c.project_id = k.project_id
       AND c.start_time >= k.spans_from AND c.start_time <= k.spans_to
       AND NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                        WHERE s.trace_id = c.trace_id AND s.span_id = c.span_id
                          AND s.start_time = c.start_time AND s.project_id = c.project_id);
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = k.trace_id AND s.project_id = k.project_id
           AND s.start_time >= k.spans_from AND s.start_time <= k.spans_to
         WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
           AND NOT EXISTS (SELECT FROM agent_trace.agent_span_costs AS c
                            WHERE c.trace_id = s.trace_id AND c.span_id = s.span_id
                              AND c.start_time = s.start_time AND c.project_id = s.project_id)
         GROUP BY 1, 2, 3
    )
    INSERT INTO agent_trace.agent_span_costs (trace_id, project_id, span_id, start_time, computed_cost_usd,
           price_model_pattern, price_provider, price_effective_from, computed_at)
    SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
           p.effective_from, stamp
      FROM batches AS b
     CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
     CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                            b.cache_write_tokens, b.reasoning_tokens))
                AS u(trace_id, project_id, span_id, start_time, cost)
     WHERE u.cost IS NOT NULL
     ORDER BY u.trace_id, u.span_id, u.start_time, u.project_id;

    -- 4. Each trace from its spans as they are now (this statement sees every transaction that
    --    committed before step 1 got its row): rewrite what differs, remove traces without spans.
    WITH keys AS (
        SELECT * FROM unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
    ), spans AS (
        SELECT s.*
          FROM keys AS k
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = k.trace_id AND s.project_id = k.project_id
           AND s.start_time >= k.spans_from AND s.start_time <= k.spans_to
    ), per_trace AS (
        SELECT s.trace_id, s.project_id,
               min(s.start_time) AS start_time,
               max(s.end_time) AS end_time,
               count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm') AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool') AS tool_call_count,
               agent_trace._saturate_bigint(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS input_tokens,
               agent_trace._saturate_bigint(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS output_tokens,
               agent_trace._saturate_bigint(sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_read_tokens,
               agent_trace._saturate_bigint(sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_write_tokens,
               agent_trace._saturate_bigint(sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS reasoning_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               min(s.service_name) AS service_name,
               min(s.session_id) AS session_id,
               min(s.user_id) AS user_id,
               min(s.agent_name) AS agent_name,
               min(s.agent_id) AS agent_id,
               min(s.run_id) AS run_id,
               min(s.team_id) AS team_id,
               min(s.workflow_id) AS workflow_id,
               min(s.correlation_id) AS correlation_id,
               min(s.created_at) AS created_at
          FROM spans AS s
         GROUP BY s.trace_id, s.project_id
    ), roots AS (
        SELECT DISTINCT ON (s.trace_id, s.project_id) s.trace_id, s.project_id, s.span_id, s.start_time,
               s.name, s.service_name, s.input, s.output
          FROM spans AS s
         WHERE s.parent_span_id IS NULL
         ORDER BY s.trace_id, s.project_id, s.start_time, s.span_id
    ), costs AS (
        SELECT c.trace_id, c.project_id, sum(c.computed_cost_usd) AS computed_cost_usd
          FROM keys AS k
          JOIN agent_trace.agent_span_costs AS c
            ON c.trace_id = k.trace_id AND c.project_id = k.project_id
           AND c.start_time >= k.spans_from AND c.start_time <= k.spans_to
         GROUP BY c.trace_id, c.project_id
    ), fresh AS (
        SELECT p.trace_id, p.project_id, r.name, p.start_time, p.end_time, p.span_count, p.error_count,
               p.llm_call_count, p.tool_call_count, p.input_tokens, p.output_tokens, p.cache_read_tokens,
               p.cache_write_tokens, p.reasoning_tokens, p.cost_usd,
               CASE WHEN r.span_id IS NOT NULL THEN r.service_name ELSE p.service_name END AS service_name,
               p.session_id, p.user_id,
               p.agent_name, p.agent_id, p.run_id, p.team_id, p.workflow_id, p.correlation_id,
               left(r.input, 500) AS input, left(r.output, 500) AS output, r.span_id AS root_span_id,
               r.start_time AS root_start_time, c.computed_cost_usd, p.created_at
          FROM per_trace AS p
          LEFT JOIN roots AS r ON r.trace_id = p.trace_id AND r.project_id = p.project_id
          LEFT JOIN costs AS c ON c.trace_id = p.trace_id AND c.project_id = p.project_id
    ), rewritten AS (
        UPDATE agent_trace.agent_traces AS t
           SET name = f.name, start_time = f.start_time, end_time = f.end_time, span_count = f.span_count,
               error_count = f.error_count, llm_call_count = f.llm_call_count,
               tool_call_count = f.tool_call_count, input_tokens = f.input_tokens,
               output_tokens = f.output_tokens, cache_read_tokens = f.cache_read_tokens,
               cache_write_tokens = f.cache_write_tokens, reasoning_tokens = f.reasoning_tokens,
               cost_usd = f.cost_usd, service_name = f.service_name, session_id = f.session_id,
               user_id = f.user_id, agent_name = f.agent_name, agent_id = f.agent_id, run_id = f.run_id,
               team_id = f.team_id, workflow_id = f.workflow_id, correlation_id = f.correlation_id,
               input = f.input, output = f.output, root_span_id = f.root_span_id,
               root_start_time = f.root_start_time, computed_cost_usd = f.computed_cost_usd,
               -- A placeholder's trace was first stored when its first span was.
               created_at = CASE WHEN t.span_count = 0 THEN f.created_at ELSE t.created_at END,
               updated_at = stamp
          FROM fresh AS f
         WHERE t.trace_id = f.trace_id AND t.project_id = f.project_id
           AND (t.name, t.start_time, t.end_time, t.span_count, t.error_count, t.llm_call_count,
                t.tool_call_count, t.input_tokens, t.output_tokens, t.cache_read_tokens,
                t.cache_write_tokens, t.reasoning_tokens, t.cost_usd, t.service_name, t.session_id,
                t.user_id, t.agent_name, t.agent_id, t.run_id, t.team_id, t.workflow_id,
                t.correlation_id, t.input, t.output, t.root_span_id, t.root_start_time,
                t.computed_cost_usd)
               IS DISTINCT FROM
               (f.name, f.start_time, f.end_time, f.span_count, f.error_count, f.llm_call_count,
                f.tool_call_count, f.input_tokens, f.output_tokens, f.cache_read_tokens,
                f.cache_write_tokens, f.reasoning_tokens, f.cost_usd, f.service_name, f.session_id,
                f.user_id, f.agent_name, f.agent_id, f.run_id, f.team_id, f.workflow_id,
                f.correlation_id, f.input, f.output, f.root_span_id, f.root_start_time,
                f.computed_cost_usd)
        RETURNING 1
    ), removed AS (
        DELETE FROM agent_trace.agent_traces AS t
         USING keys AS k
         WHERE t.trace_id = k.trace_id AND t.project_id = k.project_id
           AND NOT EXISTS (SELECT FROM fresh AS f WHERE f.trace_id = t.trace_id AND f.project_id = t.project_id)
        RETURNING t.span_count
    )
    SELECT (SELECT count(*) FROM rewritten) + (SELECT count(*) FILTER (WHERE r.span_count > 0) FROM removed AS r)
      INTO changed;
    -- On Citus no trigger on agent_traces keeps AgentOS's copies (agno.sql): they follow here.
    IF agent_trace.distributed() THEN
        PERFORM agent_trace._agno_copy_traces(keys_trace, keys_project);
    END IF;
    RETURN changed;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.price_for(model text, provider text, at timestamptz)
    RETURNS SETOF agent_trace.model_prices
    LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
    SET search_path = pg_catalog, pg_temp
    -- The lookup runs once per (model, provider, day) of every insert, one span at a time when
    -- AgentOS writes: planned once per session, it costs an execution only (a custom plan per call,
    -- PostgreSQL's choice here, cost more than the lookup itself).
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    -- The call's names and providers, worked out once: the lookup compares every price row with
    -- them (written inside the query, the regular expressions ran again for every row).
    full_name text := lower(btrim(price_for.model));
    base_name text := regexp_replace(lower(btrim(price_for.model)), '^.*/', '');
    undated_name text := regexp_replace(regexp_replace(lower(btrim(price_for.model)), '^.*/', ''),
                                        '(-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$', '');
    prefix_provider text := CASE WHEN strpos(price_for.model, '/') > 0
                                 THEN agent_trace.normalize_provider(split_part(lower(btrim(price_for.model)), '/', 1)) END;
    full_provider text := agent_trace.normalize_provider(price_for.provider);
    base_provider text;
    call_day date := (price_for.at AT TIME ZONE 'UTC')::date;
BEGIN
    IF full_name IS NULL OR full_name = '' THEN
        RETURN;
    END IF;
    -- "vendor/model": the vendor is the provider when some price row names it.
    base_provider := coalesce(CASE WHEN EXISTS (SELECT FROM agent_trace.model_prices AS k
                                                 WHERE k.provider = prefix_provider)
                                   THEN prefix_provider END,
                              full_provider);
    RETURN QUERY
    SELECT (c.p).*
      FROM (SELECT p, m.step,
                   CASE WHEN p.provider = m.call_provider THEN 0 WHEN p.provider = '*' THEN 1 ELSE 2 END AS provider_rank
              FROM agent_trace.model_prices AS p
             CROSS JOIN LATERAL (
                   SELECT CASE
                              WHEN p.model_pattern = full_name THEN 1
                              WHEN p.model_pattern = base_name THEN 2
                              WHEN p.model_pattern = undated_name THEN 3
                              WHEN strpos(p.model_pattern, '%') > 0
                                   AND base_name LIKE replace(replace(p.model_pattern, '\', '\\'), '_', '\_') THEN 4
                          END AS step,
                          CASE WHEN p.model_pattern = full_name THEN full_provider ELSE base_provider END AS call_provider
                   ) AS m
             WHERE p.effective_from <= call_day
               AND m.step IS NOT NULL
               AND (p.provider = m.call_provider OR p.provider = '*' OR m.call_provider IS NULL)) AS c
     -- Last, of two rows that differ only in that: the user's before the built-in one.
     ORDER BY c.step, c.provider_rank, length((c.p).model_pattern) DESC, (c.p).model_pattern,
              (c.p).provider, (c.p).effective_from DESC, (c.p).source = 'agent_trace built-in'
     LIMIT 1;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._cost_inserted_log() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- TG_RELID is the partition the row goes to: its root must be agent_logs (on Citus, a shard of
    -- it, agent_logs_<shard id>, in the same schema).
    IF NOT EXISTS (SELECT FROM pg_class AS c
                    WHERE c.oid = pg_partition_root(TG_RELID)
                      AND c.relnamespace = 'agent_trace'::regnamespace
                      AND c.relname ~ '^agent_logs(_[0-9]+)?$')
       OR TG_WHEN <> 'BEFORE' OR TG_LEVEL <> 'ROW'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._cost_inserted_log runs only as the BEFORE INSERT row trigger of agent_trace.agent_logs'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.computed_cost_usd := agent_trace.compute_cost(
        NEW.model, agent_trace._log_provider(NEW.attributes), NEW.time, NEW.input_tokens,
        NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens);
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.recompute_costs(
    from_time timestamptz, to_time timestamptz,
    OUT span_costs_added bigint, OUT span_costs_changed bigint, OUT span_costs_removed bigint,
    OUT traces_updated bigint, OUT log_costs_changed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    affected_traces agent_trace.trace_id[];
    affected_projects integer[];
BEGIN
    -- 1. Spans that started in [from_time, to_time): what their computed cost is now, against what
    --    agent_span_costs holds; write only the differences.
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_spans AS s
         WHERE s.start_time >= from_time AND s.start_time < to_time
           AND s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
               p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, project_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
    ), stored AS (
        SELECT c.* FROM agent_trace.agent_span_costs AS c
         WHERE c.start_time >= from_time AND c.start_time < to_time
    ), changes AS MATERIALIZED (
        SELECT coalesce(w.trace_id, s.trace_id) AS trace_id, coalesce(w.project_id, s.project_id) AS project_id,
               coalesce(w.span_id, s.span_id) AS span_id,
               coalesce(w.start_time, s.start_time) AS start_time, w.cost, w.model_pattern, w.provider,
               w.effective_from, s.trace_id IS NULL AS added
          FROM wanted AS w
          FULL JOIN stored AS s
            ON s.trace_id = w.trace_id AND s.span_id = w.span_id AND s.start_time = w.start_time
           AND s.project_id = w.project_id
         WHERE (w.cost, w.model_pattern, w.provider, w.effective_from)
               IS DISTINCT FROM (s.computed_cost_usd, s.price_model_pattern, s.price_provider, s.price_effective_from)
    ), written AS (
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
               computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
        SELECT ch.trace_id, ch.project_id, ch.span_id, ch.start_time, ch.cost, ch.model_pattern, ch.provider,
               ch.effective_from
          FROM changes AS ch
         WHERE ch.cost IS NOT NULL
         ORDER BY ch.trace_id, ch.span_id, ch.start_time, ch.project_id
            ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = excluded.computed_at  -- (its default, now(): Citus takes no function here)
    ), removed AS (
        DELETE FROM agent_trace.agent_span_costs AS c
         USING changes AS ch
         WHERE ch.cost IS NULL
           AND c.trace_id = ch.trace_id AND c.span_id = ch.span_id AND c.start_time = ch.start_time
           AND c.project_id = ch.project_id
    ), affected AS (
        SELECT DISTINCT ch.trace_id, ch.project_id FROM changes AS ch
    )
    SELECT count(*) FILTER (WHERE ch.cost IS NOT NULL AND ch.added),
           count(*) FILTER (WHERE ch.cost IS NOT NULL AND NOT ch.added),
           count(*) FILTER (WHERE ch.cost IS NULL),
           (SELECT array_agg(a.trace_id ORDER BY a.trace_id, a.project_id) FROM affected AS a),
           (SELECT array_agg(a.project_id ORDER BY a.trace_id, a.project_id) FROM affected AS a)
      INTO span_costs_added, span_costs_changed, span_costs_removed, affected_traces, affected_projects
      FROM changes AS ch;

    -- 2. Their traces' totals, from agent_span_costs. Lock the trace rows first (in trace_id order, as
    --    the insert trigger does): a concurrent insert that already added to a total has then
    --    committed and its cost rows are seen by the sum below (a new statement, a new snapshot); one
    --    that has not reached the trace row yet adds its own spans on top afterwards.
    --    On Citus (no insert trigger to race, and no row lock across shards) the traces are
    --    recomputed whole, each on its node.
    IF agent_trace.distributed() THEN
        traces_updated := agent_trace._refresh_traces(affected_traces, affected_projects);
    ELSE
        PERFORM FROM agent_trace.agent_traces AS t
          JOIN unnest(affected_traces, affected_projects) AS a(trace_id, project_id)
            ON t.trace_id = a.trace_id AND t.project_id = a.project_id
          ORDER BY t.trace_id, t.project_id
            FOR UPDATE OF t;
        UPDATE agent_trace.agent_traces AS t
           SET computed_cost_usd = x.total
          FROM (SELECT a.trace_id, a.project_id,
                       (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c
                         WHERE c.trace_id = a.trace_id AND c.project_id = a.project_id) AS total
                  FROM unnest(affected_traces, affected_projects) AS a(trace_id, project_id)) AS x
         WHERE t.trace_id = x.trace_id AND t.project_id = x.project_id
           AND t.computed_cost_usd IS DISTINCT FROM x.total;
        GET DIAGNOSTICS traces_updated = ROW_COUNT;
    END IF;

    -- 3. Log records of [from_time, to_time) (few: one per model call).
    WITH batches AS (
        SELECT l.model, agent_trace._log_provider(l.attributes) AS provider,
               (l.time AT TIME ZONE 'UTC')::date AS day, array_agg(l.record_key) AS record_keys,
               array_agg(l.time) AS times, array_agg(l.input_tokens) AS input_tokens,
               array_agg(l.output_tokens) AS output_tokens, array_agg(l.cache_read_tokens) AS cache_read_tokens,
               array_agg(l.cache_write_tokens) AS cache_write_tokens, array_agg(l.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_logs AS l
         WHERE l.time >= from_time AND l.time < to_time
           AND l.cost_usd IS NULL AND l.model IS NOT NULL
           AND (l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.record_key, u.time, u.cost
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.record_keys, b.times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(record_key, time, cost)
    ), target AS (
        -- Records that get a cost now, and records that had one (it may go).
        SELECT l.record_key, l.time, l.computed_cost_usd AS stored_cost, w.cost
          FROM agent_trace.agent_logs AS l
          LEFT JOIN wanted AS w ON w.record_key = l.record_key AND w.time = l.time
         WHERE l.time >= from_time AND l.time < to_time
           AND (w.cost IS NOT NULL OR l.computed_cost_usd IS NOT NULL)
    )
    UPDATE agent_trace.agent_logs AS l
       SET computed_cost_usd = t.cost
      FROM target AS t
     WHERE l.record_key = t.record_key AND l.time = t.time AND t.cost IS DISTINCT FROM t.stored_cost;
    GET DIAGNOSTICS log_costs_changed = ROW_COUNT;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.set_retention(signal text, keep interval, project text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target integer := CASE WHEN project IS NOT NULL THEN agent_trace._project_id(project) END;
BEGIN
    IF signal IS NULL OR signal NOT IN ('spans', 'logs', 'metrics') THEN
        RAISE EXCEPTION 'unknown signal %: retention is set for spans, logs or metrics', coalesce(quote_literal(signal), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Traces go with their spans: SELECT agent_trace.set_retention(''spans'', ''30 days'');';
    END IF;
    IF keep IS NULL THEN
        DELETE FROM agent_trace.retention AS r
         WHERE r.signal = set_retention.signal AND r.project_id IS NOT DISTINCT FROM target;
        RETURN;
    END IF;
    IF keep < interval '1 day' THEN
        RAISE EXCEPTION 'retention of % is shorter than a day', keep
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Rows expire a whole UTC day (one partition) at a time.';
    END IF;
    INSERT INTO agent_trace.retention AS r (signal, project_id, keep)
    VALUES (set_retention.signal, target, keep)
        ON CONFLICT ON CONSTRAINT retention_key DO UPDATE SET keep = excluded.keep, set_at = excluded.set_at;  -- (its default, now(): Citus takes no function here)
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._create_day_partition(table_name text, time_column text, day date)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    partition_name text := format('%s_p%s', table_name, to_char(day, 'YYYYMMDD'));
    default_name text := table_name || '_default';
    day_start timestamptz := day::timestamp AT TIME ZONE 'UTC';
    day_end timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    columns text;
    moved bigint;
    waiting boolean;
BEGIN
    -- A partition of the day, or one that covers part of it (the one an upgrade made of a table's
    -- earlier rows): nothing to do.
    IF EXISTS (SELECT FROM agent_trace.agent_partitions AS p
                WHERE p.table_name = _create_day_partition.table_name
                  AND p.from_time < day_end AND p.to_time > day_start) THEN
        RETURN NULL;
    END IF;
    -- On Citus (citus.sql) a partition is made as one, which Citus distributes in one step (made
    -- apart and attached, Citus's connections back to this node wait on this transaction's locks).
    -- A day some rows of which wait in the default partition keeps them there.
    IF agent_trace.distributed() THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM agent_trace_partitions.%I WHERE %I >= $1 AND %I < $2)',
                       default_name, time_column, time_column)
            INTO waiting USING day_start, day_end;
        IF waiting THEN
            RETURN NULL;
        END IF;
        EXECUTE format('CREATE TABLE agent_trace_partitions.%I PARTITION OF agent_trace.%I FOR VALUES FROM (%L) TO (%L)',
                       partition_name, table_name, day_start, day_end);
        RETURN 0;
    END IF;
    -- The default partition first, so that no writer adds a row of this day to it meanwhile.
    EXECUTE format('LOCK TABLE agent_trace_partitions.%I IN ACCESS EXCLUSIVE MODE', default_name);
    -- Made apart and attached (SHARE UPDATE EXCLUSIVE on the parent), not made as a partition
    -- (ACCESS EXCLUSIVE on the parent: it would stop every reader).
    EXECUTE format('CREATE TABLE agent_trace_partitions.%I (LIKE agent_trace.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)',
                   partition_name, table_name);
    -- The day's rows in the default partition move in (every column but generated ones).
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO columns
      FROM pg_attribute AS a
     WHERE a.attrelid = format('agent_trace.%I', table_name)::regclass AND a.attnum > 0
       AND NOT a.attisdropped AND a.attgenerated = '';
    EXECUTE format('WITH moved AS (DELETE FROM agent_trace_partitions.%1$I WHERE %2$I >= $1 AND %2$I < $2 RETURNING %3$s) '
                   'INSERT INTO agent_trace_partitions.%4$I (%3$s) SELECT %3$s FROM moved',
                   default_name, time_column, columns, partition_name)
        USING day_start, day_end;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE agent_trace.%I ATTACH PARTITION agent_trace_partitions.%I FOR VALUES FROM (%L) TO (%L)',
                   table_name, partition_name, day_start, day_end);
    RETURN moved;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._expire(signal text, at timestamptz)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Partitions of both span tables go at once; rows are deleted through agent_spans alone (its
    -- trigger removes their costs and fixes their traces). In the order writers take them.
    drop_tables text[] := CASE _expire.signal WHEN 'spans' THEN ARRAY['agent_spans', 'agent_span_costs']
                                              ELSE ARRAY['agent_' || _expire.signal] END;
    delete_table text := CASE _expire.signal WHEN 'spans' THEN 'agent_spans' ELSE 'agent_' || _expire.signal END;
    time_column text := CASE _expire.signal WHEN 'spans' THEN 'start_time' ELSE 'time' END;
    everyone interval;
    longest interval;
    own_projects integer[];
    cutoff timestamptz;
    doomed record;
    setting record;
    i integer;
    n bigint;
    locked boolean := false;
    done text[][];
BEGIN
    SELECT r.keep INTO everyone FROM agent_trace.retention AS r
     WHERE r.signal = _expire.signal AND r.project_id IS NULL;
    SELECT max(r.keep), array_agg(r.project_id) FILTER (WHERE r.project_id IS NOT NULL)
      INTO longest, own_projects
      FROM agent_trace.retention AS r WHERE r.signal = _expire.signal;

    -- 1. Days that every project has let go (only when every project has a retention): drop their
    --    partitions, delete what is left of them elsewhere (the default partition, a partition an
    --    upgrade made of older rows), fix the traces.
    IF everyone IS NOT NULL THEN
        cutoff := date_trunc('day', at - longest, 'UTC');
        -- What was done, told once it is done (a lock not granted undoes all of it).
        done := '{}';
        BEGIN
            FOR doomed IN
                SELECT array_agg(p.partition_name ORDER BY p.from_time) AS partitions, p.table_name
                  FROM agent_trace.agent_partitions AS p
                 WHERE p.table_name = ANY (drop_tables) AND p.to_time <= cutoff
                 GROUP BY p.table_name
                 ORDER BY array_position(drop_tables, p.table_name)
            LOOP
                IF NOT locked THEN
                    -- Every parent first, in writers' order, before changing anything: nothing waits
                    -- on this transaction while it waits for a lock.
                    FOR i IN 1 .. cardinality(drop_tables) LOOP
                        EXECUTE format('LOCK TABLE agent_trace.%I IN ACCESS EXCLUSIVE MODE', drop_tables[i]);
                    END LOOP;
                    locked := true;
                END IF;
                FOR i IN 1 .. cardinality(doomed.partitions) LOOP
                    EXECUTE format('DROP TABLE agent_trace_partitions.%I', doomed.partitions[i]);
                    done := done || ARRAY[['dropped', doomed.table_name, format('partition %s', doomed.partitions[i])]];
                END LOOP;
            END LOOP;
            n := agent_trace._delete_before(delete_table, time_column, cutoff);
            IF n > 0 THEN
                done := done || ARRAY[['deleted', delete_table, format('%s rows before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
            END IF;
            IF _expire.signal = 'spans' AND locked THEN
                n := agent_trace._fix_traces_before(cutoff);
                done := done || ARRAY[['refreshed', 'agent_traces', format('%s traces with spans before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            done := ARRAY[['skipped', delete_table,
                           format('expiry before %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
        END;
        FOR i IN 1 .. coalesce(array_length(done, 1), 0) LOOP
            action := done[i][1]; table_name := done[i][2]; detail := done[i][3];
            RETURN NEXT;
        END LOOP;
    END IF;

    -- 2. Projects kept shorter than the partitions are: their rows go by DELETE (the trigger fixes
    --    their traces).
    FOR setting IN
        SELECT r.project_id, r.keep FROM agent_trace.retention AS r
         WHERE r.signal = _expire.signal AND (everyone IS NULL OR r.keep < longest)
         ORDER BY r.project_id NULLS LAST
    LOOP
        cutoff := date_trunc('day', at - setting.keep, 'UTC');
        BEGIN
            IF setting.project_id IS NOT NULL THEN
                n := agent_trace._delete_before(delete_table, time_column, cutoff, only_project => setting.project_id);
            ELSE
                n := agent_trace._delete_before(delete_table, time_column, cutoff, other_projects => coalesce(own_projects, '{}'));
            END IF;
            IF n > 0 THEN
                action := 'deleted'; table_name := delete_table;
                detail := format('%s rows before %s (UTC) of %s', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                 coalesce((SELECT 'project ' || p.name FROM agent_trace.projects AS p
                                            WHERE p.project_id = setting.project_id),
                                          'the projects without a retention of their own'));
                RETURN NEXT;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            action := 'skipped'; table_name := delete_table;
            detail := format('expiry before %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
            RETURN NEXT;
        END;
    END LOOP;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._maintain(at timestamptz)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- Wait this long for any one lock, then leave that step to the next run: a long query holding
    -- a table must not stop its writers behind a waiting maintenance.
    SET lock_timeout = '2s'
AS $$
DECLARE
    today date := (at AT TIME ZONE 'UTC')::date;
    day date;
    t record;
    moved bigint;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'agent_trace.maintain needs a time' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- One at a time (the ingest's replicas and pg_cron may all call it): the others return at once.
    IF NOT pg_try_advisory_xact_lock(hashtext('agent_trace.maintain')) THEN
        action := 'skipped'; table_name := NULL; detail := 'another agent_trace.maintain() is running';
        RETURN NEXT;
        RETURN;
    END IF;

    -- 1. The partitions of yesterday (late arrivals) to three days ahead.
    FOR day IN SELECT generate_series(today - 1, today + 3, interval '1 day')::date LOOP
        FOR t IN SELECT * FROM agent_trace._partitioned_tables() LOOP
            BEGIN
                moved := agent_trace._create_day_partition(t.table_name, t.time_column, day);
                IF moved IS NOT NULL THEN
                    action := 'created'; table_name := t.table_name;
                    detail := format('partition %s_p%s', t.table_name, to_char(day, 'YYYYMMDD'))
                              || CASE WHEN moved > 0 THEN format(' (%s rows moved in from the default partition)', moved) ELSE '' END;
                    RETURN NEXT;
                END IF;
            EXCEPTION WHEN lock_not_available THEN
                action := 'skipped'; table_name := t.table_name;
                detail := format('partition of %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(day, 'YYYY-MM-DD'));
                RETURN NEXT;
            END;
        END LOOP;
    END LOOP;

    -- 2. On Citus: the traces of spans stored around the ingest (citus.sql).
    RETURN QUERY SELECT r.* FROM agent_trace._refresh_stored_traces() AS r;

    -- 3. Retention.
    RETURN QUERY SELECT e.* FROM agent_trace._expire('spans', at) AS e;
    RETURN QUERY SELECT e.* FROM agent_trace._expire('logs', at) AS e;
    RETURN QUERY SELECT e.* FROM agent_trace._expire('metrics', at) AS e;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._agno_traces_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- agent_trace's own writes come from _agno_sync_traces, a trigger that runs as its owner
    -- (SECURITY DEFINER), or on Citus from _agno_copy_traces (as its owner, saying so): those pass.
    -- Anything else (AgentOS's upsert of its trace summary, which agent_trace derives from the spans
    -- itself, or a writer forging a row) is skipped.
    IF (pg_trigger_depth() > 1 OR current_setting('agent_trace_agno.copying', true) = 'on')
       AND current_user = (SELECT proowner::regrole::name FROM pg_proc
                            WHERE oid = 'agent_trace._agno_sync_traces()'::regprocedure) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._agno_insert_span() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := NEW.start_time::timestamptz;
    m agent_trace.mapped_span := agent_trace._span_columns(NEW.name, NEW.attributes);
    project integer := TG_ARGV[0]::integer;
BEGIN
    -- A span stored already (re-sent, or received over OTLP too) is skipped: its ids identify it, and
    -- times written by AgentOS (microseconds of a double) may differ from the OTLP ones by a microsecond.
    -- The minute around its start reads one or two days' partitions, not all.
    IF NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                    WHERE s.trace_id = NEW.trace_id::agent_trace.trace_id
                      AND s.span_id = NEW.span_id::agent_trace.span_id AND s.project_id = project
                      AND s.start_time BETWEEN started - interval '1 minute' AND started + interval '1 minute') THEN
        INSERT INTO agent_trace.agent_spans (
            trace_id, project_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
            status_message, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
            workflow_id, correlation_id, input, output, attributes)
        VALUES (
            NEW.trace_id::agent_trace.trace_id, project, NEW.span_id::agent_trace.span_id,
            NEW.parent_span_id::agent_trace.span_id, started, greatest(NEW.end_time::timestamptz, started),
            NEW.name, coalesce(NEW.span_kind, 'INTERNAL'), m.span_type, coalesce(NEW.status_code, 'UNSET'),
            nullif(NEW.status_message, ''), m.model, m.provider, m.input_tokens, m.output_tokens,
            m.cache_read_tokens, m.cache_write_tokens, m.reasoning_tokens, m.cost_usd, m.tool_name,
            m.agent_name, m.agent_id, m.session_id, m.user_id, m.run_id, m.team_id, m.workflow_id,
            m.correlation_id, m.input, m.output, coalesce(NEW.attributes, '{}'))
        ON CONFLICT DO NOTHING;
        -- On Citus no trigger folds the span into its trace: it is recomputed here.
        IF agent_trace.distributed() THEN
            PERFORM agent_trace._refresh_traces(ARRAY[NEW.trace_id::agent_trace.trace_id], ARRAY[project],
                                                ARRAY[started], ARRAY[started]);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.enable_agno_compat(schema_name text DEFAULT 'ai', project text DEFAULT 'default')
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass;
    spans regclass;
    copied bigint;
    project_id integer := agent_trace._project_id(project);
    citus boolean := EXISTS (SELECT FROM pg_extension WHERE extname = 'citus');
    propagation text;
BEGIN
    IF schema_name IS NULL OR schema_name = '' THEN
        RAISE EXCEPTION 'schema_name must name a schema (AgentOS''s db_schema, by default ai)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- On Citus all this makes stays on the coordinator, the schema too: Citus would make a schema
    -- it knows again on the workers at AgentOS's `CREATE SCHEMA IF NOT EXISTS`, which only the
    -- schema's owner may do there.
    IF citus THEN
        propagation := current_setting('citus.enable_ddl_propagation');
        PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
    END IF;
    IF to_regnamespace(quote_ident(schema_name)) IS NULL THEN
        EXECUTE format('CREATE SCHEMA %I', schema_name);
    END IF;
    traces := to_regclass(format('%I.agno_traces', schema_name));
    spans := to_regclass(format('%I.agno_spans', schema_name));
    IF traces IS NOT NULL AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = traces
            AND tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure)
       OR spans IS NOT NULL AND traces IS NULL THEN
        RAISE EXCEPTION 'schema % already has AgentOS''s own trace tables', quote_ident(schema_name)
            USING ERRCODE = 'duplicate_table',
                  DETAIL = 'AgentOS created agno_traces and agno_spans there before; agent_trace does not replace them.',
                  HINT = 'Use another schema (AgentOS''s db_schema), or rename or drop those two tables first.';
    END IF;

    -- Writers wait while the table is filled, so that no trace changes between the copy and the
    -- guard trigger that makes the schema visible to agent_trace's triggers. agent_spans first, as
    -- writers take them (a span insert folds into agent_traces): the span id index below needs it,
    -- and taking it after agent_traces could deadlock with an insert in between.
    LOCK TABLE agent_trace.agent_spans, agent_trace.agent_traces IN SHARE MODE;
    IF traces IS NOT NULL THEN
        -- Enabled already: rebuild the copy.
        EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
        EXECUTE format('DROP TABLE %s', traces);
    END IF;
    EXECUTE format($ddl$
        CREATE TABLE %1$I.agno_traces OF agent_trace.agno_trace (
            trace_id PRIMARY KEY, name WITH OPTIONS NOT NULL, status WITH OPTIONS NOT NULL,
            start_time WITH OPTIONS NOT NULL, end_time WITH OPTIONS NOT NULL,
            duration_ms WITH OPTIONS NOT NULL, created_at WITH OPTIONS NOT NULL);
        COMMENT ON TABLE %1$I.agno_traces IS
            'AgentOS''s traces table, as agent_trace.enable_agno_compat made it: one row per trace of agent_trace.agent_traces, kept current by agent_trace. Writes from elsewhere (AgentOS''s own trace upserts) are skipped.';
        -- The traces read first (on Citus, from the workers), then made into AgentOS's rows.
        WITH t AS MATERIALIZED (SELECT * FROM agent_trace.agent_traces AS a WHERE a.project_id = %2$s)
        INSERT INTO %1$I.agno_traces
        SELECT r.* FROM t, agent_trace._agno_trace(ROW(t.*)::agent_trace.agent_traces) AS r;
        -- What AgentOS filters and sorts by: the latest first, in a time range, by status, and by
        -- its ids. The ids are any length, so they get hash indexes (a btree refuses long entries).
        CREATE INDEX ON %1$I.agno_traces (start_time DESC);
        CREATE INDEX ON %1$I.agno_traces (created_at);
        CREATE INDEX ON %1$I.agno_traces (status, start_time DESC);
        CREATE INDEX ON %1$I.agno_traces USING hash (session_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (user_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (agent_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (run_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (team_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (workflow_id);
        CREATE TRIGGER agno_traces_written_by_agent_trace
            BEFORE INSERT OR UPDATE OR DELETE ON %1$I.agno_traces
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_traces_guard(%2$s);

        -- Readers read both (the spans' attributes are content: not for usage readers). Writers, as
        -- an AgentOS app's role, insert spans (stored by the view's trigger with the owner's rights)
        -- and may send AgentOS's trace upsert, which PostgreSQL checks against INSERT and UPDATE
        -- before the guard skips it. The copy is kept by triggers with the owner's rights.
        GRANT USAGE ON SCHEMA %1$I TO agent_trace_reader, agent_trace_writer;
        GRANT SELECT ON %1$I.agno_traces TO agent_trace_reader;
        GRANT INSERT, UPDATE ON %1$I.agno_traces TO agent_trace_writer;

        -- AgentOS opens a span by its id alone (GET /traces/{id}?span_id=, `WHERE span_id = '...'` on
        -- the view): this index finds the span's trace row once the one below has found the span.
        CREATE INDEX agno_traces_trace_id_idx ON %1$I.agno_traces USING hash ((trace_id::agent_trace.trace_id));
    $ddl$, schema_name, project_id);
    PERFORM agent_trace._agno_create_spans_view(schema_name, project_id);
    -- The span by its text id, as the view shows it (agent_spans' key starts with the trace). One for
    -- all compatible schemas; only they pay for it on every span stored. Not part of the extension,
    -- so pg_dump leaves it out: enabling again after a restore makes it again.
    IF to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NULL AND NOT agent_trace.distributed() THEN
        CREATE INDEX agent_spans_agno_span_id_idx ON agent_trace.agent_spans
            USING hash (((span_id::text) COLLATE "C"));
    END IF;
    IF citus THEN
        PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.agno_traces', schema_name) INTO copied;
    RETURN copied;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.erase(user_id text DEFAULT NULL, session_id text DEFAULT NULL,
                                  trace_id agent_trace.trace_id DEFAULT NULL, project text DEFAULT NULL)
    RETURNS TABLE (table_name text, rows_removed bigint)
    LANGUAGE plpgsql
    -- As the owner: row-level security would otherwise hide rows from the caller's DELETE, and an
    -- erasure that reports success while rows stay is the one failure it must not have.
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    only_project integer := CASE WHEN project IS NOT NULL THEN agent_trace._project_id(project) END;
    erased_trace agent_trace.trace_id[];
    erased_project integer[];
    compat record;
    n bigint;
BEGIN
    IF erase.user_id IS NULL AND erase.session_id IS NULL AND erase.trace_id IS NULL THEN
        RAISE EXCEPTION 'agent_trace.erase needs a user_id, a session_id or a trace_id'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'SELECT * FROM agent_trace.erase(user_id => ''alice@example.com'');';
    END IF;

    -- The traces to erase: those with a matching span, and those a matching log record was emitted in.
    SELECT array_agg(k.trace_id ORDER BY k.trace_id, k.project_id), array_agg(k.project_id ORDER BY k.trace_id, k.project_id)
      INTO erased_trace, erased_project
      FROM (SELECT s.trace_id, s.project_id FROM agent_trace.agent_spans AS s
             WHERE (s.user_id = erase.user_id OR s.session_id = erase.session_id OR s.trace_id = erase.trace_id)
               AND (only_project IS NULL OR s.project_id = only_project)
            UNION
            SELECT l.trace_id, l.project_id FROM agent_trace.agent_logs AS l
             WHERE l.trace_id IS NOT NULL
               AND (l.user_id = erase.user_id OR l.session_id = erase.session_id OR l.trace_id = erase.trace_id)
               AND (only_project IS NULL OR l.project_id = only_project)) AS k;
    erased_trace := coalesce(erased_trace, '{}');
    erased_project := coalesce(erased_project, '{}');

    -- What the triggers will remove with the spans, counted before they go.
    table_name := 'agent_traces';
    SELECT count(*) INTO rows_removed
      FROM agent_trace.agent_traces AS t
      JOIN unnest(erased_trace, erased_project) AS k(trace_id, project_id)
        ON t.trace_id = k.trace_id AND t.project_id = k.project_id;
    RETURN NEXT;
    table_name := 'agent_span_costs';
    SELECT count(*) INTO rows_removed
      FROM agent_trace.agent_span_costs AS c
      JOIN unnest(erased_trace, erased_project) AS k(trace_id, project_id)
        ON c.trace_id = k.trace_id AND c.project_id = k.project_id;
    RETURN NEXT;
    FOR compat IN SELECT a.compat_table, a.project_id FROM agent_trace._agno_compat_tables() AS a ORDER BY 1 LOOP
        EXECUTE format('SELECT count(*) FROM %s AS c WHERE c.trace_id = ANY ($1)', compat.compat_table)
            INTO n
            USING (SELECT array_agg(k.trace_id::text) FROM unnest(erased_trace, erased_project) AS k(trace_id, project_id)
                    WHERE k.project_id = compat.project_id);
        table_name := compat.compat_table::text; rows_removed := n;
        RETURN NEXT;
    END LOOP;

    table_name := 'agent_spans';
    DELETE FROM agent_trace.agent_spans AS s
     USING unnest(erased_trace, erased_project) AS k(trace_id, project_id)
     WHERE s.trace_id = k.trace_id AND s.project_id = k.project_id;
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;
    -- On Citus agent_spans has no delete trigger (citus.sql): the traces go here.
    IF agent_trace.distributed() THEN
        PERFORM agent_trace._refresh_traces(erased_trace, erased_project);
    END IF;

    table_name := 'agent_logs';
    DELETE FROM agent_trace.agent_logs AS l
     WHERE (only_project IS NULL OR l.project_id = only_project)
       AND (l.user_id = erase.user_id OR l.session_id = erase.session_id OR l.trace_id = erase.trace_id
            OR (l.trace_id, l.project_id) IN (SELECT k.trace_id, k.project_id
                                                FROM unnest(erased_trace, erased_project) AS k(trace_id, project_id)));
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;

    table_name := 'agent_metrics';
    DELETE FROM agent_trace.agent_metrics AS m
     WHERE (only_project IS NULL OR m.project_id = only_project)
       AND (m.session_id = erase.session_id
            OR m.attributes ->> 'user.id' = erase.user_id OR m.attributes ->> 'agno.user.id' = erase.user_id
            OR m.resource_attributes ->> 'user.id' = erase.user_id
            OR m.resource_attributes ->> 'agno.user.id' = erase.user_id);
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;
END
$$;

-- rollup.sql: a trace's service is its root span's, even none (as its COMMENT says); 0.4.0 took
-- another span's when the root had none. The rows stored so far, mended.
UPDATE agent_trace.agent_traces AS t SET service_name = NULL
 WHERE t.service_name IS NOT NULL AND t.root_span_id IS NOT NULL
   AND EXISTS (SELECT FROM agent_trace.agent_spans AS s
                WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id
                  AND s.span_id = t.root_span_id AND s.start_time = t.root_start_time
                  AND s.service_name IS NULL);

-- prices.sql: built-in prices. Their rows are counted apart in the key, a trigger makes rows
-- written with their mark the user's, pg_dump leaves them out, and the table's COMMENTs say so.
DROP INDEX agent_trace.model_prices_key;
CREATE UNIQUE INDEX model_prices_key ON agent_trace.model_prices
    (md5(model_pattern), md5(provider), effective_from, (source = 'agent_trace built-in'));
CREATE TRIGGER model_prices_yours BEFORE INSERT OR UPDATE ON agent_trace.model_prices
    FOR EACH ROW WHEN (NEW.source = 'agent_trace built-in') EXECUTE FUNCTION agent_trace._price_is_yours();
SELECT pg_catalog.pg_extension_config_dump('agent_trace.model_prices', $$WHERE source <> 'agent_trace built-in'$$);
COMMENT ON TABLE agent_trace.model_prices IS
    'Prices of models per million tokens, in US dollars, for computing the cost of calls that report tokens but no cost. CREATE EXTENSION loads the built-in prices (source ''agent_trace built-in''); edit with plain INSERT/UPDATE/DELETE (a built-in row you change becomes yours, source ''manual''); `agent-trace prices import` adds newer prices from LiteLLM''s list as dated rows. pg_dump keeps your rows, not the built-in ones, which CREATE EXTENSION loads again on restore. Which row applies to a call: agent_trace.price_for (most specific model match, own provider first, latest effective_from not after the call, yours before a built-in one). After changing prices, run agent_trace.recompute_costs(from, to) to re-cost stored calls.';
COMMENT ON COLUMN agent_trace.model_prices.model_pattern IS 'Model name in lower case, e.g. "gpt-4o", "claude-sonnet-4-5". Holding a % it is a LIKE pattern ("ft:gpt-4o-mini%"; _ is a plain character). Matched against the name of the call without a "vendor/" prefix; exact names beat patterns, longer patterns beat shorter ones. Any length: unique per provider and effective_from (one of yours, one built-in) through md5(model_pattern), and indexed by hash, so WHERE model_pattern = ''...'' uses an index.';
COMMENT ON COLUMN agent_trace.model_prices.provider IS 'Provider the price applies to, as agent_trace.normalize_provider names it: "openai", "anthropic", "gcp.gemini" (Gemini API), "gcp.vertex_ai", "aws.bedrock", "azure.ai.openai", ...; "*" for any provider. Calls of an unknown provider match rows of any provider. Any length: part of the key through md5(provider).';
COMMENT ON COLUMN agent_trace.model_prices.effective_from IS 'First day (UTC) this price applies, up to the next row of the same model_pattern and provider. -infinity: since always (the first price known for a model).';
COMMENT ON COLUMN agent_trace.model_prices.input_usd_per_mtok IS 'Price of one million input tokens that are neither read from nor written to the prompt cache. NULL: not priced (calls with such tokens get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.output_usd_per_mtok IS 'Price of one million output tokens (reasoning tokens too, unless reasoning_usd_per_mtok is set). NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.cache_read_usd_per_mtok IS 'Price of one million input tokens read from the prompt cache. NULL: not priced (calls that read the cache get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.cache_write_usd_per_mtok IS 'Price of one million input tokens written to the prompt cache (Anthropic: the 5-minute cache write). NULL: cache writes cost the input price (OpenAI and Gemini charge nothing extra for them).';
COMMENT ON COLUMN agent_trace.model_prices.reasoning_usd_per_mtok IS 'Price of one million reasoning tokens. NULL: they cost the output price.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_above_tokens IS 'Long-context tier: a call whose input_tokens exceed this many is priced entirely at the long_context_* prices (as Google, Anthropic and OpenAI bill long prompts). NULL: one price at any length.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_input_usd_per_mtok IS 'Input price above long_context_above_tokens. NULL: not priced (such calls get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.long_context_output_usd_per_mtok IS 'Output (and reasoning) price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_read_usd_per_mtok IS 'Cache-read price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_write_usd_per_mtok IS 'Cache-write price above long_context_above_tokens. NULL: cache writes cost the long-context input price.';
COMMENT ON COLUMN agent_trace.model_prices.source IS 'Where the price comes from: "agent_trace built-in" for the rows CREATE EXTENSION loads (left out of pg_dump, loaded again on restore; only the extension writes this source: a row inserted or updated with it becomes "manual"), e.g. "litellm 1.106.2 model_prices_and_context_window_backup.json" for `agent-trace prices import`, "manual" for rows entered by hand and edited built-in rows.';
COMMENT ON COLUMN agent_trace.model_prices.source_date IS 'Date of the source (the price list''s publication date for imports and built-in rows, kept when you edit a row). NULL when unknown.';
COMMENT ON COLUMN agent_trace.model_prices.created_at IS 'When this row was stored.';
COMMENT ON FUNCTION agent_trace._price_is_yours() IS
    'Trigger of model_prices: a row inserted or updated with source ''agent_trace built-in'' (an edited built-in row) becomes the user''s, source ''manual'', so pg_dump keeps it. Internal.';
COMMENT ON FUNCTION agent_trace.normalize_provider(text) IS
    'The provider name model_prices uses for a provider as clients send it: lower case, and the OpenTelemetry GenAI name (gen_ai.provider.name) for common older or vendor spellings: gcp.gen_ai, gemini, google -> gcp.gemini; vertex_ai, vertexai -> gcp.vertex_ai; azure -> azure.ai.openai; bedrock -> aws.bedrock. NULL for NULL or empty.';
COMMENT ON FUNCTION agent_trace.price_for(text, text, timestamptz) IS
    'The model_prices row that prices a call of this model and provider made at this time, or no row. Most specific model match first (exact name, name without "vendor/" prefix, name without date stamp, longest LIKE pattern), then the call''s own provider before "*", then the latest effective_from not after the call''s UTC date, then a row of yours before a built-in one. Example: SELECT * FROM agent_trace.price_for(''claude-sonnet-4-5-20250929'', ''anthropic'', now());';
COMMENT ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) IS
    'agent_trace.cost_at_price of many calls at one price: the i-th cost from the i-th element of each token array (arrays of equal length). Internal: the insert trigger and recompute_costs price a batch with one call.';
COMMENT ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call at this price row, from token counts with the meaning of the agent_spans columns: input_tokens includes cache_read_tokens and cache_write_tokens, output_tokens includes reasoning_tokens. Charges (input - cache_read - cache_write) at the input price, cache reads at the cache-read price, cache writes at the cache-write price (else the input price), (output - reasoning) at the output price and reasoning at the reasoning price (else the output price); above long_context_above_tokens input tokens, the long-context prices. A missing count is 0. NULL when price is NULL, when both input_tokens and output_tokens are NULL, or when tokens fall on an unpriced (NULL) price.';
COMMENT ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call of this model and provider at this time with these token counts (agent_spans meaning: input_tokens includes cache reads and writes, output_tokens includes reasoning): agent_trace.cost_at_price of the row agent_trace.price_for picks. NULL when no price applies, the tokens are missing, or tokens fall on an unpriced component. Example: SELECT agent_trace.compute_cost(''gpt-4o'', ''openai'', now(), 1200, 300, 1000, NULL, NULL);';
COMMENT ON TABLE agent_trace.agent_span_costs IS
    'Computed cost of each LLM or embedding span that reported tokens and a model but no cost_usd, and that a model_prices row prices: one row per such span, keyed like agent_spans (join on trace_id, span_id, start_time, project_id). Written by the database as spans are inserted, and removed with them; agent_trace.recompute_costs rewrites it after prices change. Spans without a row here have a provided cost_usd or could not be priced.';
COMMENT ON COLUMN agent_trace.agent_span_costs.trace_id IS 'trace_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.project_id IS 'project_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.span_id IS 'span_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.start_time IS 'start_time of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_cost_usd IS 'Cost of the span in US dollars computed from its tokens and the price row named by the price_* columns (agent_trace.cost_at_price).';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_model_pattern IS 'model_pattern of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_provider IS 'provider of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_effective_from IS 'effective_from of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_at IS 'When this cost was computed (at insert, or by the last recompute_costs that changed it).';
COMMENT ON FUNCTION agent_trace._log_provider(jsonb) IS
    'Provider of a log record for pricing: its gen_ai.provider.name, else gen_ai.system attribute. Internal.';
COMMENT ON FUNCTION agent_trace._cost_inserted_log() IS
    'Trigger function: sets computed_cost_usd of a log record that reports tokens but no cost_usd, reading model_prices with the rights of the extension''s owner (SECURITY DEFINER). Internal.';
COMMENT ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) IS
    'Re-computes the computed cost of the spans and log records whose start_time / time lies in [from_time, to_time) against model_prices as they are now, after you changed, added or deleted prices: adds, changes or removes agent_span_costs rows, updates the computed_cost_usd of their traces and of agent_logs rows. Changes only what differs, so a second run changes nothing. Returns how many span costs were added, changed and removed, traces updated and log costs changed. Example: SELECT * FROM agent_trace.recompute_costs(''2026-01-01'', now());';
COMMENT ON FUNCTION agent_trace.has_prices() IS
    'true when agent_trace.model_prices holds a price (false: no call gets a computed cost). Runs with the owner''s rights, so the writer role, which cannot read model_prices, can ask: `agent-trace serve` does at start.';

-- prices_snapshot.sql: the built-in rows, added beside what the table holds (no row of it is
-- changed), as a fresh install has them.
-- requires:
--   prices

-- agent_trace's built-in model prices: the rows CREATE EXTENSION loads into agent_trace.model_prices.
-- GENERATED by ingest/src/cli/prices.rs (builtin_prices_sql) from sql/prices/litellm-snapshot.json
-- (litellm 1.106.2 model_prices_and_context_window_backup.json, dated 2026-10-21):
-- the rows `agent-trace prices import` makes of that list, marked source 'agent_trace built-in'
-- (prices.sql says what the mark means for edits and pg_dump).
-- Do not edit. After changing the snapshot or the mapping, write it again with
--   AGENT_TRACE_WRITE_BUILTIN_PRICES=1 cargo test -p ingest --lib the_extension_loads_the_snapshot
-- (scripts/update-price-snapshot.sh does); `cargo test -p ingest` fails while it differs.
-- A row there already is left alone: an upgrade script loads this file too. The trigger that makes
-- rows written with the built-in mark the user's is off meanwhile.
ALTER TABLE agent_trace.model_prices DISABLE TRIGGER model_prices_yours;
INSERT INTO agent_trace.model_prices (model_pattern, provider, effective_from, input_usd_per_mtok,
    output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, reasoning_usd_per_mtok,
    long_context_above_tokens, long_context_input_usd_per_mtok, long_context_output_usd_per_mtok,
    long_context_cache_read_usd_per_mtok, long_context_cache_write_usd_per_mtok, source, source_date)
SELECT v.model_pattern, agent_trace.normalize_provider(v.provider), '-infinity', v.input::numeric,
       v.output::numeric, v.cache_read::numeric, v.cache_write::numeric, v.reasoning::numeric,
       v.long_context_above::bigint, v.long_context_input::numeric, v.long_context_output::numeric,
       v.long_context_cache_read::numeric, v.long_context_cache_write::numeric,
       'agent_trace built-in', '2026-10-21'
  FROM (VALUES
    ('claude-fable-5', 'anthropic', 10, 50, 1, 12.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-fable-5-1', 'anthropic', 10, 50, 0.25, 12.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-haiku-4-5', 'anthropic', 1, 5, 0.1, 1.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-haiku-4-5-20251001', 'anthropic', 1, 5, 0.1, 1.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-haiku-5-5', 'anthropic', 0.1, 0.5, 0.01, 0.125, NULL, 100000, 0.5, 2.5, 0.05, 0.625),
    ('claude-mythos-5', 'anthropic', 10, 50, 1, 12.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-mythos-5-1', 'anthropic', 10, 50, 0.25, 12.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-mythos-preview', 'anthropic', 10, 50, 1, 12.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-5', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-5-20251101', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-6', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-6-20260205', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-7', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-7-20260416', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-4-8', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-5', 'anthropic', 5, 25, 0.5, 6.25, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-opus-5-5', 'anthropic', 4, 20, 0.2, 5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-sonnet-4-5', 'anthropic', 3, 15, 0.3, 3.75, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-sonnet-4-5-20250929', 'anthropic', 3, 15, 0.3, 3.75, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-sonnet-4-6', 'anthropic', 3, 15, 0.3, 3.75, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-sonnet-5', 'anthropic', 2, 10, 0.2, 2.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('claude-sonnet-5-5', 'anthropic', 2, 10, 0.1, 2.5, NULL, NULL, NULL, NULL, NULL, NULL),
    ('deep-research-max-preview-04-2026', 'gcp.gemini', 2, 12, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('deep-research-preview-04-2026', 'gcp.gemini', 2, 12, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('deep-research-pro-preview-12-2025', 'gcp.gemini', 2, 12, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-2.5-computer-use-preview-10-2025', 'gcp.gemini', 1.25, 10, NULL, NULL, NULL, 200000, 2.5, 15, NULL, NULL),
    ('gemini-2.5-flash', 'gcp.gemini', 0.3, 2.5, 0.03, NULL, 2.5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-2.5-flash-lite', 'gcp.gemini', 0.1, 0.4, 0.01, NULL, 0.4, NULL, NULL, NULL, NULL, NULL),
    ('gemini-2.5-pro', 'gcp.gemini', 1.25, 10, 0.125, NULL, NULL, 200000, 2.5, 15, 0.25, NULL),
    ('gemini-2.5-pro-preview-tts', 'gcp.gemini', 1, 20, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3-flash-preview', 'gcp.gemini', 0.5, 3, 0.05, NULL, 3, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.1-flash-lite', 'gcp.gemini', 0.25, 1.5, 0.025, NULL, 1.5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.1-flash-lite-preview', 'gcp.gemini', 0.25, 1.5, 0.025, NULL, 1.5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.1-pro-preview', 'gcp.gemini', 2, 12, 0.2, NULL, NULL, 200000, 4, 18, 0.4, NULL),
    ('gemini-3.1-pro-preview-customtools', 'gcp.gemini', 2, 12, 0.2, NULL, NULL, 200000, 4, 18, 0.4, NULL),
    ('gemini-3.5-flash', 'gcp.gemini', 1.5, 9, 0.15, NULL, 9, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.5-flash-lite', 'gcp.gemini', 0.3, 2.5, 0.03, NULL, 2.5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.6-flash', 'gcp.gemini', 0.75, 3.75, 0.075, NULL, 3.75, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.7-flash', 'gcp.gemini', 0.75, 3.75, 0.075, NULL, 3.75, NULL, NULL, NULL, NULL, NULL),
    ('gemini-3.8-flash', 'gcp.gemini', 0.75, 3.75, 0.075, NULL, 3.75, NULL, NULL, NULL, NULL, NULL),
    ('gemini-4-argon', 'gcp.gemini', 2, 10, 0.1, NULL, 10, NULL, NULL, NULL, NULL, NULL),
    ('gemini-embedding-001', 'gcp.gemini', 0.15, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-embedding-2', 'gcp.gemini', 0.2, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-embedding-2-preview', 'gcp.gemini', 0.2, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-exp-1114', 'gcp.gemini', 0, 0, NULL, NULL, NULL, 128000, 0, 0, NULL, NULL),
    ('gemini-flash-latest', 'gcp.gemini', 0.75, 3.75, 0.075, NULL, 3.75, NULL, NULL, NULL, NULL, NULL),
    ('gemini-flash-lite-latest', 'gcp.gemini', 0.3, 2.5, 0.03, NULL, 2.5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-gemma-2-27b-it', 'gcp.gemini', 0.35, 1.05, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-gemma-2-9b-it', 'gcp.gemini', 0.35, 1.05, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemini-omni-1.1-flash', 'gcp.gemini', 1.5, 9, NULL, NULL, 9, NULL, NULL, NULL, NULL, NULL),
    ('gemini-omni-flash-preview', 'gcp.gemini', 1.5, 9, NULL, NULL, 9, NULL, NULL, NULL, NULL, NULL),
    ('gemini-pro-latest', 'gcp.gemini', 2, 12, 0.2, NULL, NULL, 200000, 4, 18, 0.4, NULL),
    ('gemini-robotics-er-2-preview', 'gcp.gemini', 1, 5, 0.1, NULL, 5, NULL, NULL, NULL, NULL, NULL),
    ('gemini-robotics-er-2-streaming-preview', 'gcp.gemini', 1, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemma-3-27b-it', 'gcp.gemini', 0, 0, NULL, NULL, NULL, 128000, 0, 0, NULL, NULL),
    ('gemma-4-26b-a4b-it', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gemma-4-31b-it', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('learnlm-1.5-pro-experimental', 'gcp.gemini', 0, 0, NULL, NULL, NULL, 128000, 0, 0, NULL, NULL),
    ('lyria-3-clip-preview', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('lyria-3-pro-preview', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('lyria-3.5', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('lyria-3.5-clip-preview', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('lyria-3.5-pro-preview', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('lyria-realtime-exp', 'gcp.gemini', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('chat-latest', 'openai', 5, 30, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('computer-use-preview', 'openai', 3, 12, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('computer-use-preview-2025-03-11', 'openai', 3, 12, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('daybreak-blue-latest', 'openai', 4, 20, 0.4, 5, NULL, 272000, 8, 30, 0.8, 10),
    ('daybreak-red-latest', 'openai', 12.5, 75, 1.25, 15.625, NULL, 272000, 25, 112.5, 2.5, 31.25),
    ('ft:gpt-3.5-turbo', 'openai', 3, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-3.5-turbo-0125', 'openai', 3, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-3.5-turbo-0613', 'openai', 3, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-3.5-turbo-1106', 'openai', 3, 6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4-0613', 'openai', 30, 60, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4.1-2025-04-14', 'openai', 3, 12, 0.75, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4.1-mini-2025-04-14', 'openai', 0.8, 3.2, 0.2, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4.1-nano-2025-04-14', 'openai', 0.2, 0.8, 0.05, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4o-2024-08-06', 'openai', 3.75, 15, 1.875, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4o-2024-11-20', 'openai', 3.75, 15, NULL, 1.875, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:gpt-4o-mini-2024-07-18', 'openai', 0.3, 1.2, 0.15, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('ft:o4-mini-2025-04-16', 'openai', 4, 16, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-3.5-turbo', 'openai', 0.5, 1.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-3.5-turbo-0125', 'openai', 0.5, 1.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-3.5-turbo-1106', 'openai', 1, 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-3.5-turbo-16k', 'openai', 3, 4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4', 'openai', 30, 60, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4-0613', 'openai', 30, 60, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4-1106-preview', 'openai', 10, 30, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4-turbo', 'openai', 10, 30, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4-turbo-2024-04-09', 'openai', 10, 30, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1-2025-04-14', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1-mini', 'openai', 0.4, 1.6, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1-mini-2025-04-14', 'openai', 0.4, 1.6, 0.1, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1-nano', 'openai', 0.1, 0.4, 0.025, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4.1-nano-2025-04-14', 'openai', 0.1, 0.4, 0.025, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o', 'openai', 2.5, 10, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-2024-05-13', 'openai', 5, 15, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-2024-08-06', 'openai', 2.5, 10, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-2024-11-20', 'openai', 2.5, 10, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-audio-preview-2024-12-17', 'openai', 2.5, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-audio-preview-2025-06-03', 'openai', 2.5, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-mini', 'openai', 0.15, 0.6, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-mini-2024-07-18', 'openai', 0.15, 0.6, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-mini-audio-preview-2024-12-17', 'openai', 0.15, 0.6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-mini-search-preview', 'openai', 0.15, 0.6, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-mini-search-preview-2025-03-11', 'openai', 0.15, 0.6, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-search-preview', 'openai', 2.5, 10, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-4o-search-preview-2025-03-11', 'openai', 2.5, 10, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-2025-08-07', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-chat', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-chat-latest', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-codex', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-mini', 'openai', 0.25, 2, 0.025, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-mini-2025-08-07', 'openai', 0.25, 2, 0.025, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-nano', 'openai', 0.05, 0.4, 0.005, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-nano-2025-08-07', 'openai', 0.05, 0.4, 0.005, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-pro', 'openai', 15, 120, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-pro-2025-10-06', 'openai', 15, 120, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-search-api', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5-search-api-2025-10-14', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1-2025-11-13', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1-chat-latest', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1-codex', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1-codex-max', 'openai', 1.25, 10, 0.125, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.1-codex-mini', 'openai', 0.25, 2, 0.025, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2-2025-12-11', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2-chat-latest', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2-codex', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2-pro', 'openai', 21, 168, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.2-pro-2025-12-11', 'openai', 21, 168, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.3-chat-latest', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.3-codex', 'openai', 1.75, 14, 0.175, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.4', 'openai', 2.5, 15, 0.25, NULL, NULL, 272000, 5, 22.5, 0.5, NULL),
    ('gpt-5.4-2026-03-05', 'openai', 2.5, 15, 0.25, NULL, NULL, 272000, 5, 22.5, 0.5, NULL),
    ('gpt-5.4-mini', 'openai', 0.75, 4.5, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.4-mini-2026-03-17', 'openai', 0.75, 4.5, 0.075, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.4-nano', 'openai', 0.2, 1.25, 0.02, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.4-nano-2026-03-17', 'openai', 0.2, 1.25, 0.02, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.4-pro', 'openai', 30, 180, NULL, NULL, NULL, 272000, 60, 270, NULL, NULL),
    ('gpt-5.4-pro-2026-03-05', 'openai', 30, 180, NULL, NULL, NULL, 272000, 60, 270, NULL, NULL),
    ('gpt-5.5', 'openai', 5, 30, 0.5, NULL, NULL, 272000, 10, 45, 1, NULL),
    ('gpt-5.5-2026-04-23', 'openai', 5, 30, 0.5, NULL, NULL, 272000, 10, 45, 1, NULL),
    ('gpt-5.5-cyber', 'openai', 12.5, 75, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.5-cyber-preview', 'openai', 12.5, 75, 1.25, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-5.5-pro', 'openai', 30, 180, NULL, NULL, NULL, 272000, 60, 270, NULL, NULL),
    ('gpt-5.5-pro-2026-04-23', 'openai', 30, 180, NULL, NULL, NULL, 272000, 60, 270, NULL, NULL),
    ('gpt-5.6', 'openai', 4, 20, 0.4, 5, NULL, 272000, 8, 30, 0.8, 10),
    ('gpt-5.6-cyber', 'openai', 12.5, 75, 1.25, 15.625, NULL, 272000, 25, 112.5, 2.5, 31.25),
    ('gpt-5.6-luna', 'openai', 0.2, 1.2, 0.02, 0.25, NULL, 272000, 0.4, 1.8, 0.04, 0.5),
    ('gpt-5.6-sol', 'openai', 4, 20, 0.4, 5, NULL, 272000, 8, 30, 0.8, 10),
    ('gpt-5.6-terra', 'openai', 2, 12, 0.2, 2.5, NULL, 272000, 4, 18, 0.4, 5),
    ('gpt-6-astra', 'openai', 10, 50, 1, 12.5, NULL, 272000, 20, 75, 2, 25),
    ('gpt-6-luna', 'openai', 0.1, 0.5, 0.01, 0.125, NULL, 272000, 0.2, 0.75, 0.02, 0.25),
    ('gpt-6-sol', 'openai', 2, 10, 0.2, 2.5, NULL, 272000, 4, 15, 0.4, 5),
    ('gpt-6.1-sol', 'openai', 2, 10, 0.1, 2.5, NULL, 272000, 4, 15, 0.2, 5),
    ('gpt-audio', 'openai', 2.5, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-audio-1.5', 'openai', 2.5, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-audio-2025-08-28', 'openai', 2.5, 10, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-audio-mini', 'openai', 0.6, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-audio-mini-2025-10-06', 'openai', 0.6, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-audio-mini-2025-12-15', 'openai', 0.6, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-daybreak-blue-latest', 'openai', 4, 20, 0.4, 5, NULL, 272000, 8, 30, 0.8, 10),
    ('gpt-daybreak-red-latest', 'openai', 12.5, 75, 1.25, 15.625, NULL, 272000, 25, 112.5, 2.5, 31.25),
    ('gpt-rosalind-discovery', 'openai', 5, 25, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('gpt-rosalind-research', 'openai', 5, 25, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o1', 'openai', 15, 60, 7.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o1-2024-12-17', 'openai', 15, 60, 7.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o1-pro', 'openai', 150, 600, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o1-pro-2025-03-19', 'openai', 150, 600, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-2025-04-16', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-deep-research', 'openai', 10, 40, 2.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-deep-research-2025-06-26', 'openai', 10, 40, 2.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-mini', 'openai', 1.1, 4.4, 0.55, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-mini-2025-01-31', 'openai', 1.1, 4.4, 0.55, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-pro', 'openai', 20, 80, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o3-pro-2025-06-10', 'openai', 20, 80, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o4-mini', 'openai', 1.1, 4.4, 0.275, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o4-mini-2025-04-16', 'openai', 1.1, 4.4, 0.275, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o4-mini-deep-research', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('o4-mini-deep-research-2025-06-26', 'openai', 2, 8, 0.5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('text-embedding-3-large', 'openai', 0.13, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('text-embedding-3-small', 'openai', 0.02, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('text-embedding-ada-002', 'openai', 0.1, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('text-embedding-ada-002-v2', 'openai', 0.1, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
       ) AS v(model_pattern, provider, input, output, cache_read, cache_write, reasoning,
              long_context_above, long_context_input, long_context_output, long_context_cache_read,
              long_context_cache_write)
    ON CONFLICT DO NOTHING;
ALTER TABLE agent_trace.model_prices ENABLE TRIGGER model_prices_yours;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   erase

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
    policy_tables text[] := ARRAY['agent_spans', 'agent_traces', 'agent_span_costs', 'agent_logs', 'agent_metrics'];
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
    -- Log records by their key, metric points by their series: many carry no trace.
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
    'Distributes agent_trace over the Citus cluster this database coordinates (docs/scaling-out.md): traces, spans and computed costs by trace_id, colocated; log records by record_key; metric points by series_key; projects, grants, tokens, prices and retention as reference tables; the daily partitions with their tables. Takes the statement triggers off agent_spans and agent_traces (Citus has no transition tables): the ingest, maintain(), retention and erase keep agent_traces exact instead. Rows already stored move to the workers. Run again, it does nothing. shard_count: citus.shard_count for the distributed tables (default: Citus''s, 32).';
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
/* </end connected objects> */

/* <begin connected objects> */
