COPY agent_trace.agent_spans (
    trace_id, project_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
    status_message, service_name, scope_name, scope_version, model, provider, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, tool_name,
    agent_name, agent_id, session_id, user_id, run_id, team_id, workflow_id, correlation_id, input,
    output, attributes, resource_attributes, events, links)
FROM STDIN (FORMAT binary)
