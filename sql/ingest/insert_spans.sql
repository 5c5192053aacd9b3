-- Staged rows -> agent_spans. DISTINCT ON drops copies of one span inside the batch (Postgres refuses
-- an ON CONFLICT statement that touches one key twice); ON CONFLICT DO NOTHING skips spans stored by
-- an earlier request (a client retry). The table's trigger then updates agent_traces from exactly the
-- rows inserted here. Rows go in key order so concurrent batches take their locks in the same order.
-- The casts from uuid/macaddr8 to the id types only relabel the same bytes.
INSERT INTO agent_trace.agent_spans (
    trace_id, project_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
    status_message, service_name, scope_name, scope_version, model, provider, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, tool_name,
    agent_name, agent_id, session_id, user_id, run_id, team_id, workflow_id, correlation_id, input,
    output, attributes, resource_attributes, events, links)
SELECT DISTINCT ON (s.trace_id, s.span_id, s.start_time, s.project_id)
       s.trace_id::agent_trace.trace_id, s.project_id, s.span_id::agent_trace.span_id,
       s.parent_span_id::agent_trace.span_id, s.start_time, s.end_time, s.name, s.span_kind,
       s.span_type, s.status_code, s.status_message, s.service_name, s.scope_name, s.scope_version,
       s.model, s.provider, s.input_tokens, s.output_tokens, s.cache_read_tokens,
       s.cache_write_tokens, s.reasoning_tokens, s.cost_usd, s.tool_name, s.agent_name,
       s.agent_id, s.session_id, s.user_id, s.run_id, s.team_id, s.workflow_id, s.correlation_id,
       s.input, s.output, s.attributes, s.resource_attributes, s.events, s.links
  FROM pg_temp.agent_trace_staging AS s
 ORDER BY s.trace_id, s.span_id, s.start_time, s.project_id
    ON CONFLICT DO NOTHING
