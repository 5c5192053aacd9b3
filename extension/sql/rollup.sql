-- agent_traces is maintained by the database, not by whoever writes spans.
--
-- An AFTER INSERT statement trigger on agent_spans folds the rows that statement actually inserted
-- (its transition table) into agent_traces. Rows that `INSERT ... ON CONFLICT DO NOTHING` skipped are
-- not in the transition table, so a re-sent span never counts twice. Every fold is order-free (sums,
-- counts, least/greatest, "the earliest root wins"), so spans arriving in any order and in any
-- batches give the same agent_traces row.
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
-- Rows are upserted in trace_id order, so concurrent writers lock agent_traces rows in the same
-- order and cannot deadlock on them.
--
-- The same statement prices the new LLM and embedding spans that report tokens and a model but no
-- cost (prices.sql): one agent_trace.price_for lookup and one _costs_at_price call per (model,
-- provider, UTC day) of the batch, not per span; one narrow agent_span_costs row per span it could
-- price; their sum folded into agent_traces.computed_cost_usd in the same upsert. agent_spans itself
-- is never updated and gets no row trigger, so COPY keeps inserting in batches. price_for,
-- _costs_at_price and agent_span_costs are created by prices.sql, after this file; PL/pgSQL resolves
-- them when the trigger first runs.
--
-- Privileges: the trigger function is SECURITY DEFINER, so it writes agent_traces and
-- agent_span_costs (and reads model_prices) with the rights of the extension's owner, and the
-- inserting role needs none of them: agent_trace_writer may insert spans and nothing else, and
-- cannot rewrite a trace's totals. It is safe to run with those rights because its search_path is
-- pinned (pg_temp last: a caller's temporary objects can shadow nothing), it runs no dynamic SQL,
-- nobody else may EXECUTE it (so no one can attach it to a table of their own and feed it made-up
-- rows), and it refuses to run as anything but this table's statement trigger.

CREATE FUNCTION agent_trace._saturate_bigint(value numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(greatest(value, -9223372036854775808), 9223372036854775807)::bigint
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
           p.reasoning_tokens, p.cost_usd, coalesce(r.service_name, p.service_name), p.session_id,
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
