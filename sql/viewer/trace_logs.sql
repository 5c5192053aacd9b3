-- The log records and events of a trace, in time order (the first 1,000). A record emitted in a
-- trace is stamped while the trace runs: the hour either side of its spans allows for skewed
-- clocks, and keeps the read to the partitions of those days.
SELECT l.time, l.span_id, l.event_name, l.severity_text, l.severity_number, l.body, l.service_name,
       l.model, l.input_tokens, l.output_tokens, l.cost_usd, l.computed_cost_usd, l.tool_name,
       l.duration_ms, l.attributes
  FROM agent_trace.agent_logs AS l
 WHERE l.trace_id = $1::text::agent_trace.trace_id
   AND l.time BETWEEN agent_trace.trace_start($1::text::agent_trace.trace_id) - interval '1 hour'
                  AND agent_trace.trace_end($1::text::agent_trace.trace_id) + interval '1 hour'
 ORDER BY l.time, l.record_key  -- one order for records of the same time, on one node or many
 LIMIT 1000
