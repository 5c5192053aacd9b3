COPY agent_trace.agent_logs (
    record_key, project_id, time, observed_time, trace_id, span_id, event_name, severity_number, severity_text,
    body, service_name, scope_name, scope_version, session_id, user_id, model, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, tool_name,
    duration_ms, attributes, resource_attributes)
FROM STDIN (FORMAT binary)
