-- Second part of scripts/bench-trace-api.sh's data, loaded into both of its databases: 90 days of
-- other runs (1,000 spans a day, in traces of 10, and their log records), and one small run to open
-- as the viewer does (30 spans and 5 log records on 2026-11-01). psql variable :partitioned says
-- whether the database first gets daily partitions (maintain() as on each of those days): then
-- every day is a partition of its own; else everything lies in the default partitions.
\if :partitioned
SELECT count(*) AS partitions_made
  FROM generate_series('2026-08-04'::timestamptz, '2026-11-01', interval '1 day') AS d, agent_trace._maintain(d);
\endif
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time, model, input_tokens, output_tokens)
SELECT lpad(to_hex(1000000 + day * 100 + t), 32, '0')::agent_trace.trace_id, lpad(to_hex(k + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN k > 0 THEN '0000000000000001'::agent_trace.span_id END,
       CASE WHEN k = 0 THEN 'invoke_agent' ELSE 'chat gpt-4o' END, CASE WHEN k = 0 THEN 'agent' ELSE 'llm' END, 'OK',
       '2026-08-04 08:00+00'::timestamptz + day * interval '1 day' + t * interval '1 min' + k * interval '1 s',
       '2026-08-04 08:00+00'::timestamptz + day * interval '1 day' + t * interval '1 min' + k * interval '1 s' + interval '500 ms',
       CASE WHEN k > 0 THEN 'gpt-4o' END, CASE WHEN k > 0 THEN 100 END, CASE WHEN k > 0 THEN 20 END
  FROM generate_series(0, 89) AS day, generate_series(0, 99) AS t, generate_series(0, 9) AS k;
INSERT INTO agent_trace.agent_logs (record_key, time, trace_id, event_name, body)
SELECT gen_random_uuid(), '2026-08-04 08:00+00'::timestamptz + day * interval '1 day' + t * interval '1 min',
       lpad(to_hex(1000000 + day * 100 + t), 32, '0')::agent_trace.trace_id, 'api_request', 'a log record'
  FROM generate_series(0, 89) AS day, generate_series(0, 99) AS t;
-- The run to open: a root, ten steps of an LLM call and a tool call under it, on 2026-11-01.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time, model, input_tokens, output_tokens, input, output)
SELECT '0000000000000000000000000000005a', lpad(to_hex(i + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 0 THEN lpad(to_hex(((i - 1) / 3) * 3 + 2), 16, '0')::agent_trace.span_id END,
       CASE WHEN i = 0 THEN 'invoke_agent' WHEN i % 3 = 1 THEN 'step' WHEN i % 3 = 2 THEN 'chat gpt-4o' ELSE 'execute_tool search' END,
       CASE WHEN i = 0 THEN 'agent' WHEN i % 3 = 1 THEN 'chain' WHEN i % 3 = 2 THEN 'llm' ELSE 'tool' END, 'OK',
       '2026-11-01 12:00+00'::timestamptz + i * interval '100 ms', '2026-11-01 12:00+00'::timestamptz + i * interval '100 ms' + interval '90 ms',
       CASE WHEN i % 3 = 2 THEN 'gpt-4o' END, CASE WHEN i % 3 = 2 THEN 500 END, CASE WHEN i % 3 = 2 THEN 50 END,
       'question ' || i, 'answer ' || i
  FROM generate_series(0, 29) AS i;
UPDATE agent_trace.agent_spans SET parent_span_id = '0000000000000001'
 WHERE trace_id = '0000000000000000000000000000005a' AND span_id IN (SELECT lpad(to_hex(i + 1), 16, '0')::agent_trace.span_id FROM generate_series(1, 29, 3) AS i);
INSERT INTO agent_trace.agent_logs (record_key, time, trace_id, event_name, body)
SELECT gen_random_uuid(), '2026-11-01 12:00+00'::timestamptz + i * interval '500 ms', '0000000000000000000000000000005a',
       'api_request', 'a log record of the run'
  FROM generate_series(1, 5) AS i;
ANALYZE;
SELECT count(*) AS partitions FROM agent_trace.agent_partitions WHERE table_name = 'agent_spans';
