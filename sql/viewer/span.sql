-- One span in full: its agent_spans row (input, output, attributes, events, resource attributes)
-- and its computed cost with the price it came from (agent_span_costs). A span id stored twice
-- gives both rows, earliest first. Bounded by the trace's times, so only its days' partitions are read.
SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_time, s.end_time, s.duration_ms, s.name,
       s.span_kind, s.span_type, s.status_code, s.status_message, s.service_name, s.scope_name,
       s.scope_version, s.model, s.provider, s.input_tokens, s.output_tokens, s.cache_read_tokens,
       s.cache_write_tokens, s.reasoning_tokens, s.cost_usd, c.computed_cost_usd,
       c.price_model_pattern, c.price_provider, c.price_effective_from, s.tool_name, s.agent_name,
       s.agent_id, s.session_id, s.user_id, s.run_id, s.team_id, s.workflow_id, s.correlation_id,
       s.input, s.output, s.attributes, s.resource_attributes, s.events, s.links
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c
    ON c.trace_id = s.trace_id AND c.span_id = s.span_id AND c.start_time = s.start_time
   AND c.project_id = s.project_id
   AND c.start_time BETWEEN agent_trace.trace_start($1::text::agent_trace.trace_id)
                        AND agent_trace.trace_end($1::text::agent_trace.trace_id)
 WHERE s.trace_id = $1::text::agent_trace.trace_id AND s.span_id = $2::text::agent_trace.span_id
   AND s.start_time BETWEEN agent_trace.trace_start($1::text::agent_trace.trace_id)
                        AND agent_trace.trace_end($1::text::agent_trace.trace_id)
 ORDER BY s.start_time, s.project_id
