-- diff_traces on two runs too different to align exactly in reasonable time: it can be cancelled
-- like any statement, and by default it stops aligning exactly at its budget, aligns the rest by
-- position, and says so in its alignment column.
SET timezone = 'UTC';

-- Two runs whose roots have 50,000 children each: calls of 300 tools, in two different orders.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time)
SELECT run.trace_id, lpad(to_hex(i + 1), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 0 THEN '0000000000000001'::agent_trace.span_id END,
       CASE WHEN i = 0 THEN 'invoke_agent' ELSE 'execute_tool tool_' || (i * run.stride) % 300 END,
       CASE WHEN i = 0 THEN 'agent' ELSE 'tool' END,
       '2026-11-01 12:00:00+00'::timestamptz + i * interval '1 ms',
       '2026-11-01 12:00:00+00'::timestamptz + i * interval '1 ms' + interval '500 us'
  FROM (VALUES ('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1'::agent_trace.trace_id, 7),
               ('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f2'::agent_trace.trace_id, 11)) AS run (trace_id, stride),
       generate_series(0, 50000) AS i;
SELECT trace_id, span_count FROM agent_trace.agent_traces ORDER BY trace_id;

-- Aligning the children exactly would take billions of comparisons. With no budget to stop it, the
-- statement timeout does: 57014 (query_canceled), within a second of the timeout.
SET agent_trace.diff_alignment_budget = 2147483647;
SET statement_timeout = '2s';
SELECT clock_timestamp() AS started \gset
SELECT count(*) FROM agent_trace.diff_traces('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1', 'd1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f2');
\echo :SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'started'::timestamptz < interval '3 s' AS stopped_within_3_s;

-- With the default budget (100 million comparisons) the same diff answers: the roots align exactly,
-- their 50,000 children by position (the calls that are the same tool at the same position pair
-- up, the others are removed and added), and every row says how it was aligned.
RESET agent_trace.diff_alignment_budget;
SHOW agent_trace.diff_alignment_budget;
SELECT alignment, depth, change, count(*) AS rows
  FROM agent_trace.diff_traces('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1', 'd1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f2')
 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;
SELECT first_divergence_step, first_divergence_kind, spans_a, spans_b
  FROM agent_trace.diff_summary('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1', 'd1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f2');

-- A budget of 0 aligns everything by position; runs that resemble each other align exactly within
-- any reasonable budget (a run against itself: every row the same).
SET agent_trace.diff_alignment_budget = 0;
SELECT alignment, change, count(*) AS rows
  FROM agent_trace.diff_traces('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1', 'd1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1')
 GROUP BY 1, 2 ORDER BY 1, 2;
RESET agent_trace.diff_alignment_budget;
SELECT alignment, change, count(*) AS rows
  FROM agent_trace.diff_traces('d1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1', 'd1ffd1ffd1ffd1ffd1ffd1ffd1ffd1f1')
 GROUP BY 1, 2 ORDER BY 1, 2;

-- The setting is checked: no negative budgets, no unknown agent_trace settings.
SET agent_trace.diff_alignment_budget = -1;
\echo :SQLSTATE
SET agent_trace.diff_alignment_budgte = 10;
\echo :SQLSTATE
