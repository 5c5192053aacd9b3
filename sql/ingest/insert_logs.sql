-- Staged log records -> agent_logs. DISTINCT ON drops copies of one record inside the batch
-- (PostgreSQL refuses an ON CONFLICT statement that touches one key twice); ON CONFLICT DO NOTHING
-- skips records stored by an earlier request (a client retry). Rows go in key order so concurrent
-- batches take their locks in the same order. The id casts only relabel the same bytes.
INSERT INTO agent_trace.agent_logs (
    record_key, project_id, time, observed_time, trace_id, span_id, event_name, severity_number, severity_text,
    body, service_name, scope_name, scope_version, session_id, user_id, model, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, tool_name,
    duration_ms, attributes, resource_attributes)
SELECT DISTINCT ON (s.record_key, s.time, s.project_id)
       s.record_key, s.project_id, s.time, s.observed_time, s.trace_id::agent_trace.trace_id,
       s.span_id::agent_trace.span_id, s.event_name, s.severity_number, s.severity_text, s.body,
       s.service_name, s.scope_name, s.scope_version, s.session_id, s.user_id, s.model,
       s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cache_write_tokens,
       s.reasoning_tokens, s.cost_usd, s.tool_name, s.duration_ms, s.attributes,
       s.resource_attributes
  FROM pg_temp.agent_trace_staging_logs AS s
 ORDER BY s.record_key, s.time, s.project_id
    ON CONFLICT DO NOTHING
