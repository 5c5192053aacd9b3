-- pg_temp.drift(): every way agent_traces and agent_span_costs differ from what the spans stored now
-- give, aggregated from scratch (every column, the computed costs priced again): no rows when the
-- rollups are exact. Included by the tests that change spans (\i :abs_srcdir/sql/include/drift.sql).
CREATE FUNCTION pg_temp.drift() RETURNS TABLE (problem text, trace_id agent_trace.trace_id)
LANGUAGE sql AS $$
    WITH costed AS (
        SELECT s.*, agent_trace.compute_cost(s.model, s.provider, s.start_time, s.input_tokens, s.output_tokens,
                                             s.cache_read_tokens, s.cache_write_tokens, s.reasoning_tokens) AS cost
          FROM agent_trace.agent_spans AS s
    ), scratch AS (
        SELECT s.trace_id, s.project_id, min(s.start_time) AS start_time, max(s.end_time) AS end_time,
               count(*)::int AS span_count, count(*) FILTER (WHERE s.status_code = 'ERROR')::int AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm')::int AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool')::int AS tool_call_count,
               sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))::bigint AS input_tokens,
               sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))::bigint AS output_tokens,
               sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))::bigint AS cache_read_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               sum(s.cost) FILTER (WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL) AS computed_cost_usd,
               min(s.session_id) AS session_id, min(s.user_id) AS user_id, min(s.agent_name) AS agent_name,
               (array_agg(s.span_id ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1] AS root_span_id,
               (array_agg(s.name ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1] AS name,
               (array_agg(left(s.input, 500) ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1] AS input
          FROM costed AS s
         GROUP BY s.trace_id, s.project_id
    )
    SELECT 'summary differs', t.trace_id
      FROM agent_trace.agent_traces AS t JOIN scratch AS x USING (trace_id, project_id)
     WHERE (t.start_time, t.end_time, t.span_count, t.error_count, t.llm_call_count, t.tool_call_count,
            t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cost_usd, t.computed_cost_usd,
            t.session_id, t.user_id, t.agent_name, t.root_span_id, t.name, t.input)
           IS DISTINCT FROM
           (x.start_time, x.end_time, x.span_count, x.error_count, x.llm_call_count, x.tool_call_count,
            x.input_tokens, x.output_tokens, x.cache_read_tokens, x.cost_usd, x.computed_cost_usd,
            x.session_id, x.user_id, x.agent_name, x.root_span_id, x.name, x.input)
    UNION ALL
    SELECT 'trace without spans', t.trace_id
      FROM agent_trace.agent_traces AS t WHERE NOT EXISTS (SELECT FROM scratch AS x WHERE (x.trace_id, x.project_id) = (t.trace_id, t.project_id))
    UNION ALL
    SELECT 'spans without trace', x.trace_id
      FROM scratch AS x WHERE NOT EXISTS (SELECT FROM agent_trace.agent_traces AS t WHERE (x.trace_id, x.project_id) = (t.trace_id, t.project_id))
    UNION ALL
    SELECT 'cost of a span that is gone', c.trace_id
      FROM agent_trace.agent_span_costs AS c
     WHERE NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                        WHERE (s.trace_id, s.span_id, s.start_time, s.project_id) = (c.trace_id, c.span_id, c.start_time, c.project_id))
$$;
