-- Every query in sql/cookbook.sql runs and answers correctly on a small sample run.
SET timezone = 'UTC';
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    status_message, start_time, end_time, model, tool_name, input_tokens, output_tokens, cost_usd,
    session_id, input, output)
VALUES
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', NULL, 'invoke_agent weather', 'agent', 'OK', NULL,
     '2026-11-01 09:00:00+00', '2026-11-01 09:00:02+00', NULL, NULL, NULL, NULL, NULL, 'sess-1', 'Weather in Paris?', 'Sunny.'),
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b8', '00f067aa0ba902b7', 'chat gpt-4o', 'llm', 'OK', NULL,
     '2026-11-01 09:00:00.1+00', '2026-11-01 09:00:00.9+00', 'gpt-4o', NULL, 42, 17, 0.000275, 'sess-1', NULL, NULL),
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b9', '00f067aa0ba902b7', 'execute_tool get_weather', 'tool', 'ERROR', 'HTTP 503 from weather API',
     '2026-11-01 09:00:01+00', '2026-11-01 09:00:01.2+00', NULL, 'get_weather', NULL, NULL, NULL, 'sess-1', NULL, NULL),
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902ba', '00f067aa0ba902b7', 'chat gpt-4o', 'llm', 'OK', NULL,
     '2026-11-01 09:00:01.3+00', '2026-11-01 09:00:01.9+00', 'gpt-4o', NULL, 42, 17, 0.000275, 'sess-1', NULL, NULL);
\getenv abs_srcdir PG_ABS_SRCDIR
\set cookbook :abs_srcdir '/../sql/cookbook.sql'
\i :cookbook
