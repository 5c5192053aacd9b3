-- Data for scripts/bench-agno.sh: :traces Agno-shaped runs of 4 spans each (weather_agent.run with two
-- OpenAIChat.invoke calls and a get_weather tool call, one run in 20 failing in its tool), one run every
-- 10 seconds from 2026-01-01, 10 runs per session, 1,000 users, 10 agents. Inserted in batches of
-- 100,000 runs, as the ingest inserts spans (the fold trigger builds agent_traces).
CREATE EXTENSION agent_trace;
CREATE PROCEDURE pg_temp.fill(traces int) LANGUAGE plpgsql AS $$
BEGIN
    FOR b IN 0..(traces - 1) / 100000 LOOP
        INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
            status_message, start_time, end_time, model, provider, input_tokens, output_tokens, tool_name,
            agent_name, agent_id, session_id, user_id, run_id, input, output, attributes, service_name)
        SELECT lpad(to_hex(t), 32, '0')::agent_trace.trace_id,
               lpad(to_hex(t * 4 + k), 16, '0')::agent_trace.span_id,
               CASE WHEN k > 0 THEN lpad(to_hex(t * 4), 16, '0')::agent_trace.span_id END,
               CASE k WHEN 0 THEN 'weather_agent.run' WHEN 2 THEN 'get_weather' ELSE 'OpenAIChat.invoke' END,
               CASE k WHEN 0 THEN 'agent' WHEN 2 THEN 'tool' ELSE 'llm' END,
               CASE WHEN k = 2 AND t % 20 = 0 THEN 'ERROR' ELSE 'OK' END,
               CASE WHEN k = 2 AND t % 20 = 0 THEN 'backend timeout' END,
               timestamptz '2026-01-01' + t * interval '10 s' + k * interval '100 ms',
               timestamptz '2026-01-01' + t * interval '10 s' + k * interval '100 ms' + interval '90 ms'
                   + CASE WHEN k = 0 THEN interval '400 ms' ELSE interval '0' END,
               CASE WHEN k IN (1, 3) THEN 'gpt-4o-mini' END, CASE WHEN k IN (1, 3) THEN 'OpenAI' END,
               CASE WHEN k IN (1, 3) THEN 42 END, CASE WHEN k IN (1, 3) THEN 17 END,
               CASE WHEN k = 2 THEN 'get_weather' END,
               CASE WHEN k = 0 THEN 'weather_agent' END, CASE WHEN k = 0 THEN 'agent-' || (t % 10) END,
               'session-' || (t / 10), 'user-' || (t % 1000), CASE WHEN k = 0 THEN 'run-' || t END,
               CASE k WHEN 0 THEN 'What is the weather in Paris?' WHEN 2 THEN '{"city": "Paris"}'
                      ELSE '{"messages": [{"role": "user", "content": "What is the weather in Paris?"}]}' END,
               CASE k WHEN 0 THEN 'It is sunny in Paris, 21 C.' WHEN 2 THEN '{"temp_c": 21}'
                      ELSE '[{"role": "assistant", "content": "It is sunny."}]' END,
               CASE k
                   WHEN 0 THEN jsonb_build_object('openinference.span.kind', 'AGENT', 'agent.name', 'weather_agent',
                       'agno.agent.id', 'agent-' || (t % 10), 'session.id', 'session-' || (t / 10),
                       'user.id', 'user-' || (t % 1000), 'agno.run.id', 'run-' || t,
                       'input.value', 'What is the weather in Paris?', 'output.value', 'It is sunny in Paris, 21 C.')
                   WHEN 2 THEN '{"openinference.span.kind": "TOOL", "tool.name": "get_weather",
                       "input.value": "{\"city\": \"Paris\"}", "output.value": "{\"temp_c\": 21}"}'
                   ELSE '{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "OpenAI",
                       "llm.token_count.prompt": 42, "llm.token_count.completion": 17,
                       "input.value": "{\"messages\": [{\"role\": \"user\", \"content\": \"What is the weather in Paris?\"}]}",
                       "output.value": "[{\"role\": \"assistant\", \"content\": \"It is sunny.\"}]"}' END,
               'bench-app'
          FROM generate_series(b * 100000 + 1, least((b + 1) * 100000, traces)) AS t, generate_series(0, 3) AS k;
        COMMIT;
    END LOOP;
END
$$;
CALL pg_temp.fill(:traces);
