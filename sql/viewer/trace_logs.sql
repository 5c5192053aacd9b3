-- The log records and events of a trace, in time order (the first 1,000).
SELECT l.time, l.span_id, l.event_name, l.severity_text, l.severity_number, l.body, l.service_name,
       l.model, l.input_tokens, l.output_tokens, l.cost_usd, l.computed_cost_usd, l.tool_name,
       l.duration_ms, l.attributes
  FROM agent_trace.agent_logs AS l
 WHERE l.trace_id = $1::text::agent_trace.trace_id
 ORDER BY l.time
 LIMIT 1000
