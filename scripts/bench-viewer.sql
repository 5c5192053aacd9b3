-- Data for the viewer benchmark (scripts/bench-viewer.sh): 100,000 five-span agent runs over the
-- last 30 days (root agent span, two LLM calls, a tool call, one failing in twenty; 400 services x
-- agents, 5,000 sessions, three models), and one run of 10,000 spans: a root with 100 turns of 99
-- steps each, an LLM call every third step. Inserted into agent_spans, so the extension's trigger
-- builds agent_traces as it does for the ingest.
\set ON_ERROR_STOP on
INSERT INTO agent_trace.agent_spans
       (trace_id, span_id, parent_span_id, start_time, end_time, name, span_type, status_code,
        service_name, agent_name, session_id, user_id, model, input_tokens, output_tokens, input, output)
SELECT lpad(to_hex(t), 32, '0')::agent_trace.trace_id,
       lpad(to_hex(t * 8 + s), 16, '0')::agent_trace.span_id,
       CASE WHEN s > 0 THEN lpad(to_hex(t * 8), 16, '0')::agent_trace.span_id END,
       run.started + s * interval '150 ms',
       run.started + CASE WHEN s = 0 THEN interval '900 ms' ELSE s * interval '150 ms' + interval '120 ms' END,
       CASE s WHEN 0 THEN 'invoke_agent agent-' || t % 400 WHEN 3 THEN 'execute_tool search' ELSE 'chat ' || run.model END,
       CASE s WHEN 0 THEN 'agent' WHEN 3 THEN 'tool' WHEN 4 THEN 'other' ELSE 'llm' END,
       CASE WHEN s = 4 AND t % 20 = 0 THEN 'ERROR' ELSE 'UNSET' END,
       'service-' || t % 400, 'agent-' || t % 400, 'session-' || t % 5000, 'user-' || t % 1000,
       CASE WHEN s IN (1, 2) THEN run.model END,
       CASE WHEN s IN (1, 2) THEN 100 + t % 500 END,
       CASE WHEN s IN (1, 2) THEN 20 + t % 80 END,
       CASE WHEN s = 0 THEN 'Question ' || t || ': what is the weather in city ' || t % 977 || '?' END,
       CASE WHEN s = 0 THEN 'Answer ' || t || ': sunny.' END
  FROM generate_series(1, 100000) AS t
 CROSS JOIN LATERAL (SELECT now() - t * interval '25.9 seconds' AS started,
                            (ARRAY['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-5'])[1 + t % 3] AS model) AS run
 CROSS JOIN generate_series(0, 4) AS s;

-- The 10,000-span run: trace id ...b16, root span 1, turn k (1..100) span 1 + k, its steps after.
INSERT INTO agent_trace.agent_spans
       (trace_id, span_id, parent_span_id, start_time, end_time, name, span_type, model,
        input_tokens, output_tokens, service_name, input, output)
SELECT 'b1600000000000000000000000000b16'::agent_trace.trace_id,
       lpad(to_hex(n), 16, '0')::agent_trace.span_id,
       CASE WHEN n = 1 THEN NULL
            WHEN n <= 101 THEN lpad(to_hex(1), 16, '0')::agent_trace.span_id
            ELSE lpad(to_hex(2 + (n - 102) / 99), 16, '0')::agent_trace.span_id END,
       at.started, at.started + at.length,
       CASE WHEN n = 1 THEN 'session' WHEN n <= 101 THEN 'turn ' || n - 1
            WHEN n % 3 = 0 THEN 'chat gpt-4o' ELSE 'execute_tool step-' || n % 7 END,
       CASE WHEN n = 1 THEN 'agent' WHEN n <= 101 THEN 'chain' WHEN n % 3 = 0 THEN 'llm' ELSE 'tool' END,
       CASE WHEN n > 101 AND n % 3 = 0 THEN 'gpt-4o' END,
       CASE WHEN n > 101 AND n % 3 = 0 THEN 500 END,
       CASE WHEN n > 101 AND n % 3 = 0 THEN 50 END,
       'bench-long-session',
       CASE WHEN n > 101 THEN '{"step": ' || n || '}' END,
       CASE WHEN n > 101 THEN '{"ok": true}' END
  FROM generate_series(1, 10000) AS n
 CROSS JOIN LATERAL (
     SELECT CASE WHEN n = 1 THEN now() - interval '1 hour'
                 WHEN n <= 101 THEN now() - interval '1 hour' + (n - 2) * interval '30 seconds'
                 ELSE now() - interval '1 hour' + ((n - 102) / 99) * interval '30 seconds'
                      + ((n - 102) % 99) * interval '300 ms' END AS started,
            CASE WHEN n = 1 THEN interval '50 minutes' WHEN n <= 101 THEN interval '29.9 seconds'
                 ELSE interval '250 ms' END AS length) AS at;
ANALYZE agent_trace.agent_spans;
ANALYZE agent_trace.agent_traces;
