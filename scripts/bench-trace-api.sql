-- Data for scripts/bench-trace-api.sh: three shapes of trace, built in SQL.
--   bushy  10,000 spans: a root, 99 agent steps, each with 100 calls under it
--   chain  10,000 spans, each the parent of the next (10,000 deep)
--   run a / run b  1,000 spans each: a root and 333 (llm, tool, llm-or-retry) steps; B drops every
--          50th tool call, adds one every 40th step and answers with another model
--   and two pairs of 100,000-span runs, below
CREATE EXTENSION agent_trace;
ALTER TABLE agent_trace.agent_spans DISABLE TRIGGER agent_spans_fold_into_traces;

INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time, model, input_tokens, output_tokens, cost_usd)
SELECT '00000000000000000000000000000b05', lpad(to_hex(id), 16, '0')::agent_trace.span_id,
       CASE WHEN parent IS NOT NULL THEN lpad(to_hex(parent), 16, '0')::agent_trace.span_id END,
       name, span_type, 'OK', '2026-11-01'::timestamptz + id * interval '1 ms',
       '2026-11-01'::timestamptz + id * interval '1 ms' + interval '5 ms',
       CASE WHEN span_type = 'llm' THEN 'gpt-4o' END,
       CASE WHEN span_type = 'llm' THEN 42 END, CASE WHEN span_type = 'llm' THEN 17 END,
       CASE WHEN span_type = 'llm' THEN 0.000275 END
  FROM (SELECT 1 AS id, NULL::int AS parent, 'invoke_agent' AS name, 'agent' AS span_type
        UNION ALL
        SELECT 1 + s, 1, 'step ' || s, 'chain' FROM generate_series(1, 99) AS s
        UNION ALL
        SELECT 100 + (s - 1) * 100 + c, 1 + s, CASE WHEN c % 2 = 0 THEN 'chat gpt-4o' ELSE 'execute_tool search' END,
               CASE WHEN c % 2 = 0 THEN 'llm' ELSE 'tool' END
          FROM generate_series(1, 99) AS s, generate_series(1, 100) AS c) AS shape;

INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time)
SELECT '00000000000000000000000000000c4a', lpad(to_hex(i), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 1 THEN lpad(to_hex(i - 1), 16, '0')::agent_trace.span_id END,
       'level ' || i, 'chain', 'OK', '2026-11-01'::timestamptz + i * interval '1 ms',
       '2026-11-01 01:00'::timestamptz - i * interval '1 ms'
  FROM generate_series(1, 10000) AS i;

INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time, model, input_tokens, output_tokens, input, output)
SELECT run.trace_id, lpad(to_hex(step * 3 + k + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN step > 0 THEN '0000000000000001'::agent_trace.span_id END,
       CASE WHEN step = 0 THEN 'invoke_agent' WHEN k = 1 THEN 'execute_tool search' ELSE 'chat ' || run.model END,
       CASE WHEN step = 0 THEN 'agent' WHEN k = 1 THEN 'tool' ELSE 'llm' END, 'OK',
       '2026-11-01'::timestamptz + (step * 3 + k) * interval '10 ms',
       '2026-11-01'::timestamptz + (step * 3 + k) * interval '10 ms' + interval '8 ms',
       CASE WHEN step > 0 AND k <> 1 THEN run.model END, 100 + step, 20,
       'question ' || step, CASE WHEN run.side = 'b' AND step % 7 = 0 THEN 'other answer ' ELSE 'answer ' END || step
  FROM (VALUES ('a', '00000000000000000000000000000d1a'::agent_trace.trace_id, 'gpt-4o'),
               ('b', '00000000000000000000000000000d1b'::agent_trace.trace_id, 'gpt-4.1-mini')) AS run (side, trace_id, model),
       generate_series(0, 333) AS step, generate_series(0, 2) AS k
 WHERE (step > 0 OR k = 0)
   AND NOT (run.side = 'b' AND k = 1 AND step % 50 = 0);
-- B's extra calls: one more tool call in every 40th step.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time)
SELECT '00000000000000000000000000000d1b', lpad(to_hex(100000 + step), 16, '0')::agent_trace.span_id,
       '0000000000000001', 'execute_tool fetch', 'tool', 'OK',
       '2026-11-01'::timestamptz + (step * 3 + 1) * interval '10 ms' + interval '1 ms',
       '2026-11-01'::timestamptz + (step * 3 + 1) * interval '10 ms' + interval '2 ms'
  FROM generate_series(40, 333, 40) AS step;

-- Two pairs of 100,000-span runs, flat under their root:
--   e1a / e1b  the run a / run b shape above with 33,333 steps: they resemble each other, so
--              diff_traces aligns them exactly within its default budget
--   e2a / e2b  50,000 calls of 300 tools each, in two different orders (stride 7 and 11): exact
--              alignment would take billions of comparisons, so diff_traces spends its budget and
--              aligns the children by position
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time, model, input_tokens, output_tokens, input, output)
SELECT run.trace_id, lpad(to_hex(step * 3 + k + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN step > 0 THEN '0000000000000001'::agent_trace.span_id END,
       CASE WHEN step = 0 THEN 'invoke_agent' WHEN k = 1 THEN 'execute_tool search' ELSE 'chat ' || run.model END,
       CASE WHEN step = 0 THEN 'agent' WHEN k = 1 THEN 'tool' ELSE 'llm' END, 'OK',
       '2026-11-01'::timestamptz + (step * 3 + k) * interval '10 ms',
       '2026-11-01'::timestamptz + (step * 3 + k) * interval '10 ms' + interval '8 ms',
       CASE WHEN step > 0 AND k <> 1 THEN run.model END, 100 + step, 20,
       'question ' || step, CASE WHEN run.side = 'b' AND step % 7 = 0 THEN 'other answer ' ELSE 'answer ' END || step
  FROM (VALUES ('a', '00000000000000000000000000000e1a'::agent_trace.trace_id, 'gpt-4o'),
               ('b', '00000000000000000000000000000e1b'::agent_trace.trace_id, 'gpt-4.1-mini')) AS run (side, trace_id, model),
       generate_series(0, 33333) AS step, generate_series(0, 2) AS k
 WHERE (step > 0 OR k = 0)
   AND NOT (run.side = 'b' AND k = 1 AND step % 50 = 0);
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time)
SELECT '00000000000000000000000000000e1b', lpad(to_hex(1000000 + step), 16, '0')::agent_trace.span_id,
       '0000000000000001', 'execute_tool fetch', 'tool', 'OK',
       '2026-11-01'::timestamptz + (step * 3 + 1) * interval '10 ms' + interval '1 ms',
       '2026-11-01'::timestamptz + (step * 3 + 1) * interval '10 ms' + interval '2 ms'
  FROM generate_series(40, 33333, 40) AS step;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    start_time, end_time)
SELECT run.trace_id, lpad(to_hex(i + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 0 THEN '0000000000000001'::agent_trace.span_id END,
       CASE WHEN i = 0 THEN 'invoke_agent' ELSE 'execute_tool tool_' || (i * run.stride) % 300 END,
       CASE WHEN i = 0 THEN 'agent' ELSE 'tool' END, 'OK',
       '2026-11-01'::timestamptz + i * interval '1 ms', '2026-11-01'::timestamptz + i * interval '1 ms' + interval '500 us'
  FROM (VALUES ('00000000000000000000000000000e2a'::agent_trace.trace_id, 7),
               ('00000000000000000000000000000e2b'::agent_trace.trace_id, 11)) AS run (trace_id, stride),
       generate_series(0, 99999) AS i;

-- The traces' rows, as the fold would have made them (it was off for the load).
ALTER TABLE agent_trace.agent_spans ENABLE TRIGGER agent_spans_fold_into_traces;
SELECT agent_trace.refresh_traces('-infinity', 'infinity') AS traces;
ANALYZE agent_trace.agent_spans;
SELECT trace_id, count(*) AS spans FROM agent_trace.agent_spans GROUP BY 1 ORDER BY 1;
-- How each pair aligns with the default budget.
SELECT 'e1' AS pair, alignment, count(*) AS rows
  FROM agent_trace.diff_traces('00000000000000000000000000000e1a', '00000000000000000000000000000e1b') GROUP BY 1, 2
UNION ALL
SELECT 'e2', alignment, count(*)
  FROM agent_trace.diff_traces('00000000000000000000000000000e2a', '00000000000000000000000000000e2b') GROUP BY 1, 2
 ORDER BY 1, 2;
