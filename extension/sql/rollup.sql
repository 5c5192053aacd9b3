-- agent_traces is maintained by the database, not by whoever writes spans, and always equals an
-- aggregation of the spans stored now (docs/rollups.md compares the ways to do that, measured).
--
-- Inserts fold in. An AFTER INSERT statement trigger on agent_spans folds the rows that statement
-- actually inserted (its transition table) into agent_traces. Rows that `INSERT ... ON CONFLICT DO
-- NOTHING` skipped are not in the transition table, so a re-sent span never counts twice. Every fold
-- is order-free (sums, counts, least/greatest, "the earliest root wins"), so spans arriving in any
-- order and in any batches give the same agent_traces row. Folding costs a batch's own rows, not its
-- traces' earlier spans: a long trace that grows batch by batch costs no more per span.
--
-- Deletes and updates recompute. A sum can take a span away, but a least() or "the earliest root"
-- cannot: after a delete, the trace's row is recomputed from the spans that remain
-- (_refresh_traces), by AFTER DELETE and AFTER UPDATE statement triggers, by retention when it
-- drops partitions, and by agent_trace.refresh_traces on request. TRUNCATE empties agent_traces and
-- agent_span_costs with it.
--
-- Token and cost totals add up only LLM and embedding spans: agent and chain spans often repeat the
-- usage of the LLM calls beneath them, and summing those too would count it twice.
--
-- Token totals are bigint, like the span columns they add up, and saturate: a total past bigint's
-- range stays at its end (9223372036854775807) instead of failing the insert. Only spans reporting
-- absurd counts get there, and refusing every later span of their trace would lose real data.
-- Costs are numeric and cannot overflow.
--
-- A trace is a (trace_id, project_id): spans of two projects never fold into one row.
--
-- Concurrency. Every writer of agent_traces takes its rows in (trace_id, project_id) order, in one
-- statement (the fold's upsert, the recompute's insert-or-lock), so concurrent writers cannot
-- deadlock on them. The recompute reads the spans only after it holds the rows it rewrites: a fold
-- that committed first is in what it reads, and one still waiting adds its spans on top afterwards.
--
-- The same statement prices the new LLM and embedding spans that report tokens and a model but no
-- cost (prices.sql): one agent_trace.price_for lookup and one _costs_at_price call per (model,
-- provider, UTC day) of the batch, not per span; one narrow agent_span_costs row per span it could
-- price; their sum folded into agent_traces.computed_cost_usd in the same upsert. agent_spans gets no
-- row trigger, so COPY keeps inserting in batches. price_for, _costs_at_price and agent_span_costs
-- are created by prices.sql, after this file; PL/pgSQL resolves them when the trigger first runs.
--
-- Privileges: the trigger functions are SECURITY DEFINER, so they write agent_traces and
-- agent_span_costs (and read model_prices) with the rights of the extension's owner, and the
-- inserting role needs none of them: agent_trace_writer may insert spans and nothing else, and
-- cannot rewrite a trace's totals. It is safe to run with those rights because their search_path is
-- pinned (pg_temp last: a caller's temporary objects can shadow nothing), they run no dynamic SQL,
-- nobody else may EXECUTE them (so no one can attach them to a table of their own and feed them
-- made-up rows), and they refuse to run as anything but this table's statement triggers.

-- Inlined into the queries that call it (a plain SQL expression: no STRICT, no SET clause), so it
-- costs what the expression costs: called as a function it took more time than the rest of the
-- fold. Nothing in it depends on search_path.
CREATE FUNCTION agent_trace._saturate_bigint(value numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN value IS NULL THEN NULL
                ELSE least(greatest(value, -9223372036854775808), 9223372036854775807) END::bigint
$$;
COMMENT ON FUNCTION agent_trace._saturate_bigint(numeric) IS
    'The bigint nearest to value: value itself, or bigint''s least or greatest value when it lies outside; NULL for NULL. How agent_traces keeps token totals that would overflow. Internal.';
REVOKE ALL ON FUNCTION agent_trace._saturate_bigint(numeric) FROM PUBLIC;

CREATE FUNCTION agent_trace._fold_inserted_spans() RETURNS trigger
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
COMMENT ON FUNCTION agent_trace._fold_inserted_spans() IS
    'Trigger function: folds the spans an INSERT statement stored into their agent_traces rows, and prices those without a provided cost into agent_span_costs, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs no privilege on either table. Internal.';

CREATE TRIGGER agent_spans_fold_into_traces
    AFTER INSERT ON agent_trace.agent_spans
    REFERENCING NEW TABLE AS new_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._fold_inserted_spans();

------------------------------------------------------------------------------------------------------
-- Recomputing traces after spans were deleted or changed
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._refresh_traces(
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
COMMENT ON FUNCTION agent_trace._refresh_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) IS
    'Recomputes the agent_traces rows and computed span costs of these traces (trace_ids[i], project_ids[i]) from the spans stored now: rewrites the rows that differ, removes the rows of traces without spans, removes the costs of spans that are gone and prices spans without one. spans_from/spans_to (optional) widen where their spans are looked for beyond the stored rows'' times. Returns how many traces changed. Internal: the triggers that follow agent_spans, retention and agent_trace.refresh_traces call it.';
REVOKE ALL ON FUNCTION agent_trace._refresh_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) FROM PUBLIC;

CREATE FUNCTION agent_trace._follow_span_changes() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_spans'::regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT'
       OR TG_OP NOT IN ('DELETE', 'UPDATE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'agent_trace._follow_span_changes runs only as the AFTER DELETE, UPDATE or TRUNCATE statement trigger of agent_trace.agent_spans'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        -- A TRUNCATE that names these too has emptied them already, and holds them: it cannot
        -- truncate them again (55006), but has nothing left to delete.
        BEGIN
            TRUNCATE agent_trace.agent_span_costs;
        EXCEPTION WHEN object_in_use THEN
            DELETE FROM agent_trace.agent_span_costs;
        END;
        BEGIN
            TRUNCATE agent_trace.agent_traces;
        EXCEPTION WHEN object_in_use THEN
            DELETE FROM agent_trace.agent_traces;
        END;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM agent_trace._refresh_traces(array_agg(o.trace_id), array_agg(o.project_id))
           FROM (SELECT DISTINCT o.trace_id, o.project_id FROM old_spans AS o) AS o;
    ELSE
        -- An updated span is priced again as it is now: its old cost goes first.
        DELETE FROM agent_trace.agent_span_costs AS c
         USING old_spans AS o
         WHERE c.trace_id = o.trace_id AND c.span_id = o.span_id AND c.start_time = o.start_time
           AND c.project_id = o.project_id;
        PERFORM agent_trace._refresh_traces(array_agg(k.trace_id), array_agg(k.project_id),
                                            array_agg(k.spans_from), array_agg(k.spans_to))
           FROM (SELECT u.trace_id, u.project_id, min(u.start_time) AS spans_from, max(u.start_time) AS spans_to
                   FROM (SELECT o.trace_id, o.project_id, o.start_time FROM old_spans AS o
                         UNION ALL
                         SELECT n.trace_id, n.project_id, n.start_time FROM new_spans AS n) AS u
                  GROUP BY u.trace_id, u.project_id) AS k;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._follow_span_changes() IS
    'Trigger function: after a DELETE or UPDATE of agent_spans, recomputes the traces of the spans it changed (agent_trace._refresh_traces); after a TRUNCATE, empties agent_traces and agent_span_costs. Runs with the rights of the extension''s owner (SECURITY DEFINER). Internal.';
REVOKE ALL ON FUNCTION agent_trace._follow_span_changes() FROM PUBLIC;

CREATE TRIGGER agent_spans_refresh_traces_after_delete
    AFTER DELETE ON agent_trace.agent_spans
    REFERENCING OLD TABLE AS old_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();
CREATE TRIGGER agent_spans_refresh_traces_after_update
    AFTER UPDATE ON agent_trace.agent_spans
    REFERENCING OLD TABLE AS old_spans NEW TABLE AS new_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();
CREATE TRIGGER agent_spans_empty_traces_after_truncate
    AFTER TRUNCATE ON agent_trace.agent_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();

CREATE FUNCTION agent_trace.refresh_traces(from_time timestamptz, to_time timestamptz) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk_trace agent_trace.trace_id[];
    chunk_project integer[];
    chunk_from timestamptz[];
    chunk_to timestamptz[];
    changed bigint := 0;
BEGIN
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'agent_trace.refresh_traces needs a time range: from_time and to_time'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Every trace: SELECT agent_trace.refresh_traces(''-infinity'', ''infinity'');';
    END IF;
    -- The traces with spans in the range (and where those spans are: a span loaded behind the
    -- triggers' back may lie outside its trace's row), and the rows that claim to be there; 10,000
    -- at a time, so the arrays stay small.
    FOR chunk_trace, chunk_project, chunk_from, chunk_to IN
        SELECT array_agg(k.trace_id), array_agg(k.project_id), array_agg(k.spans_from), array_agg(k.spans_to)
          FROM (SELECT k.trace_id, k.project_id, min(k.spans_from) AS spans_from, max(k.spans_to) AS spans_to,
                       (row_number() OVER (ORDER BY k.trace_id, k.project_id) - 1) / 10000 AS chunk
                  FROM (SELECT s.trace_id, s.project_id, min(s.start_time) AS spans_from, max(s.start_time) AS spans_to
                          FROM agent_trace.agent_spans AS s
                         WHERE s.start_time >= from_time AND s.start_time < to_time
                         GROUP BY s.trace_id, s.project_id
                        UNION ALL
                        SELECT t.trace_id, t.project_id, NULL, NULL FROM agent_trace.agent_traces AS t
                         WHERE t.start_time < to_time AND t.end_time >= from_time) AS k
                 GROUP BY k.trace_id, k.project_id) AS k
         GROUP BY k.chunk
         ORDER BY k.chunk
    LOOP
        changed := changed + agent_trace._refresh_traces(chunk_trace, chunk_project, chunk_from, chunk_to);
    END LOOP;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION agent_trace.refresh_traces(timestamptz, timestamptz) IS
    'Recomputes every trace with spans that started in [from_time, to_time), or whose agent_traces row says so, from its spans (and prices its spans that have no computed cost yet): a repair after spans were changed around the triggers (rows loaded into a partition directly, a restore with --load-via-partition-root or --disable-triggers). Returns how many traces changed: 0 when agent_traces was right. Example: SELECT agent_trace.refresh_traces(''-infinity'', ''infinity'');';
REVOKE ALL ON FUNCTION agent_trace.refresh_traces(timestamptz, timestamptz) FROM PUBLIC;
