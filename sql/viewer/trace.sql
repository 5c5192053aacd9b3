-- One trace's row of agent_traces, with its neighbours in time for prev/next: the trace that
-- started just before it (older) and just after it (newer), within session $2 when given.
-- The row first, then each neighbour by its own ordered LIMIT 1 against it: a form Citus runs too
-- (a subquery correlated to another row of a distributed table is a join it cannot route).
WITH t AS MATERIALIZED (
    SELECT t.trace_id, t.name, t.status, t.start_time, t.end_time, t.duration_ms, t.span_count,
           t.error_count, t.llm_call_count, t.tool_call_count, t.input_tokens, t.output_tokens,
           t.cache_read_tokens, t.cache_write_tokens, t.reasoning_tokens, t.cost_usd, t.computed_cost_usd,
           t.service_name, t.session_id, t.user_id, t.agent_name, t.agent_id, t.run_id, t.team_id,
           t.workflow_id, t.correlation_id, t.root_span_id, t.input, t.output
      FROM agent_trace.agent_traces AS t
     WHERE t.trace_id = $1::text::agent_trace.trace_id
), older AS (
    SELECT o.trace_id FROM agent_trace.agent_traces AS o, t
     WHERE o.start_time <= t.start_time AND (o.start_time < t.start_time OR o.trace_id < t.trace_id)
       AND ($2::text IS NULL OR o.session_id = $2::text)
     ORDER BY o.start_time DESC, o.trace_id DESC LIMIT 1
), newer AS (
    SELECT n.trace_id FROM agent_trace.agent_traces AS n, t
     WHERE n.start_time >= t.start_time AND (n.start_time > t.start_time OR n.trace_id > t.trace_id)
       AND ($2::text IS NULL OR n.session_id = $2::text)
     ORDER BY n.start_time, n.trace_id LIMIT 1
)
SELECT t.*, (SELECT older.trace_id FROM older) AS older_trace_id,
       (SELECT newer.trace_id FROM newer) AS newer_trace_id
  FROM t
