-- The turns of a trace: the first-level steps under its root, each addressable on its own.
SELECT u.turn, u.turn_span_id, u.name, u.span_type, u.status, u.start_time, u.duration_ms,
       u.span_count, u.input_tokens, u.output_tokens, u.cost_usd, u.computed_cost_usd, u.error_count
  FROM agent_trace.agent_turns AS u
 WHERE u.trace_id = $1::text::agent_trace.trace_id
 ORDER BY u.turn
