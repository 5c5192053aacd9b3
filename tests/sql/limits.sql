-- Values at the edge of what the columns take never fail an insert: token counts whose totals do
-- not fit a bigint, and text longer than a btree index entry holds (2,704 bytes).
SET timezone = 'UTC';

------------------------------------------------------------------------------------------------------
-- Token totals saturate at bigint's range instead of refusing spans.
------------------------------------------------------------------------------------------------------
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 'openai', 2.5, 10);

-- An LLM span reporting bigint's greatest input_tokens...
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, model, provider, start_time,
    end_time, input_tokens, output_tokens, session_id)
VALUES ('f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1', 'a000000000000001', 'chat gpt-4o', 'llm', 'gpt-4o', 'openai',
        '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', 9223372036854775807, 1, 'big-session');
-- ...then another LLM span of the same trace that reports tokens: stored, counted and priced (its
-- input total stays at the maximum, its output total adds up).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, model, provider, start_time,
    end_time, input_tokens, output_tokens, session_id)
VALUES ('f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1', 'a000000000000002', 'chat gpt-4o', 'llm', 'gpt-4o', 'openai',
        '2026-11-01 12:00:02+00', '2026-11-01 12:00:03+00', 10, 2, 'big-session');
SELECT span_count, llm_call_count, input_tokens, output_tokens, computed_cost_usd
  FROM agent_trace.agent_traces WHERE trace_id = 'f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1';
SELECT span_id, computed_cost_usd FROM agent_trace.agent_span_costs
 WHERE trace_id = 'f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1' ORDER BY span_id;

-- Within one statement too, for every token column (the columns take any bigint but a negative one,
-- which a CHECK refuses: a count below zero would let a writer lower a trace's total).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, session_id)
SELECT 'f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', lpad(to_hex(i), 16, '0')::agent_trace.span_id, 'chat', 'llm',
       '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', v, v, v, v, v, 'big-session'
  FROM generate_series(1, 3) AS i, (VALUES (9223372036854775807)) AS max(v);
SELECT span_count, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens
  FROM agent_trace.agent_traces WHERE trace_id = 'f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2';
-- And in a later statement, added to a stored total.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time,
    input_tokens, reasoning_tokens)
VALUES ('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', '00000000000000ff', 'chat', 'llm', '2026-11-01 12:00:00+00',
        '2026-11-01 12:00:01+00', 5, 5);
-- A negative count or cost is refused (23514), by the span alone.
\set VERBOSITY terse
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time,
    input_tokens, cost_usd)
VALUES ('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', '00000000000000fe', 'chat', 'llm', '2026-11-01 12:00:00+00',
        '2026-11-01 12:00:01+00', -1, NULL);
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time, cost_usd)
VALUES ('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', '00000000000000fe', 'chat', 'llm', '2026-11-01 12:00:00+00',
        '2026-11-01 12:00:01+00', -999999.5);
\set VERBOSITY default
SELECT span_count, input_tokens, reasoning_tokens
  FROM agent_trace.agent_traces WHERE trace_id = 'f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2';

-- What reads these totals does not fail either: the tree's subtree sums and the diff's deltas
-- saturate too, sessions and diff_summary sum in numeric, and recompute_costs re-costs the spans.
SELECT count(*) AS spans, max(subtree_input_tokens) AS largest_subtree_input
  FROM agent_trace.trace_tree('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2');
SELECT change, tokens_a, tokens_b, tokens_delta
  FROM agent_trace.diff_traces('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', 'f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1')
 ORDER BY step LIMIT 3;
SELECT spans_a, spans_b, input_tokens_a, input_tokens_b, input_tokens_delta
  FROM agent_trace.diff_summary('f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2', 'f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1');
SELECT traces, input_tokens FROM agent_trace.agent_sessions WHERE session_id = 'big-session';
-- (The price this file inserted; the built-in gpt-4o row beside it does not price these calls.)
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 5 WHERE source <> 'agent_trace built-in';
SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');

------------------------------------------------------------------------------------------------------
-- Text of any length in every indexed text column: 4,000 and 100,000 characters.
------------------------------------------------------------------------------------------------------
CREATE TEMP TABLE long_text AS
    SELECT n, repeat(chr(97 + n % 26), n) AS v FROM (VALUES (4000), (100000)) AS sizes(n);

-- Spans (agent_traces takes session_id, user_id and agent_name from them), log records, metric
-- points and prices.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, session_id,
    user_id, agent_name)
SELECT lpad(to_hex(n), 32, '0')::agent_trace.trace_id, 'b000000000000001', 'run',
       '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', v, v, v
  FROM long_text;
INSERT INTO agent_trace.agent_logs (record_key, time, session_id, event_name)
SELECT md5(v)::uuid, '2026-11-01 12:00:00+00', v, v FROM long_text;
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value, session_id)
SELECT md5(v)::uuid, v, 'gauge', '2026-11-01 12:00:00+00', 1, v FROM long_text;
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok)
SELECT v, v, 1 FROM long_text;
SELECT 'agent_traces' AS stored_in, count(*) AS rows, min(length(session_id)) AS shortest, max(length(session_id)) AS longest
  FROM agent_trace.agent_traces WHERE length(session_id) >= 4000
UNION ALL
SELECT 'agent_logs', count(*), min(length(event_name)), max(length(event_name))
  FROM agent_trace.agent_logs WHERE length(session_id) >= 4000
UNION ALL
SELECT 'agent_metrics', count(*), min(length(name)), max(length(name))
  FROM agent_trace.agent_metrics WHERE length(session_id) >= 4000
UNION ALL
SELECT 'model_prices', count(*), min(length(provider)), max(length(model_pattern))
  FROM agent_trace.model_prices WHERE length(model_pattern) >= 4000;

-- A price is still one per model, provider and day.
\set VERBOSITY terse
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok)
SELECT v, v, 2 FROM long_text WHERE n = 100000;
\echo :SQLSTATE
\set VERBOSITY default

-- Equality lookups, as people write them, go through an index: EXPLAIN shows which (with sequential
-- scans off, as these tables are too small for the planner to bother), and the long values are
-- found through it.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT trace_id FROM agent_trace.agent_traces WHERE session_id = 'sess-1';
EXPLAIN (COSTS OFF) SELECT trace_id FROM agent_trace.agent_traces WHERE user_id = 'user-1';
EXPLAIN (COSTS OFF) SELECT trace_id FROM agent_trace.agent_traces WHERE agent_name = 'weather';
EXPLAIN (COSTS OFF) SELECT time FROM agent_trace.agent_logs WHERE session_id = 'sess-1';
EXPLAIN (COSTS OFF) SELECT time FROM agent_trace.agent_logs WHERE event_name = 'api_request';
EXPLAIN (COSTS OFF) SELECT time FROM agent_trace.agent_metrics WHERE name = 'claude_code.token.usage';
EXPLAIN (COSTS OFF) SELECT time FROM agent_trace.agent_metrics WHERE session_id = 'sess-1';
EXPLAIN (COSTS OFF) SELECT provider FROM agent_trace.model_prices WHERE model_pattern = 'gpt-4o';
SELECT l.n,
       (SELECT count(*) FROM agent_trace.agent_traces AS t WHERE t.session_id = l.v) AS by_session,
       (SELECT count(*) FROM agent_trace.agent_traces AS t WHERE t.user_id = l.v) AS by_user,
       (SELECT count(*) FROM agent_trace.agent_traces AS t WHERE t.agent_name = l.v) AS by_agent,
       (SELECT count(*) FROM agent_trace.agent_logs AS g WHERE g.session_id = l.v) AS logs_by_session,
       (SELECT count(*) FROM agent_trace.agent_logs AS g WHERE g.event_name = l.v) AS logs_by_event,
       (SELECT count(*) FROM agent_trace.agent_metrics AS m WHERE m.name = l.v) AS metrics_by_name,
       (SELECT count(*) FROM agent_trace.agent_metrics AS m WHERE m.session_id = l.v) AS metrics_by_session,
       (SELECT count(*) FROM agent_trace.model_prices AS p WHERE p.model_pattern = l.v) AS prices_by_model
  FROM long_text AS l ORDER BY l.n;
RESET enable_seqscan;
