-- The session tool: session $1 as agent_sessions sums it up (one row per project that holds it).
SELECT s.session_id, s.tool, s.user_id, s.first_activity, s.last_activity, s.prompts, s.traces,
       s.model_calls, s.tool_calls, s.errors, s.input_tokens, s.output_tokens, s.cache_read_tokens,
       s.cache_write_tokens, s.reasoning_tokens, s.cost_usd, s.computed_cost_usd
  FROM agent_trace.agent_sessions AS s
 WHERE s.session_id = $1::text
 ORDER BY s.last_activity DESC, s.project_id
