-- The SQL API on crafted traces: the messy cases real data brings (children before parents,
-- orphans, loops, duplicates, a 10,000-deep chain, unknown ids), and two runs to diff and replay.
SET timezone = 'UTC';
\pset null '∅'

-- Run A: an agent calls the model, a tool (which fails), the model again.
-- Inserted children first, in three statements, as an exporter that batches by end time would.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    status_message, start_time, end_time, model, tool_name, input_tokens, output_tokens, cache_read_tokens,
    cost_usd, attributes, input, output)
VALUES
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a3', '00000000000000a1', 'execute_tool get_weather', 'tool', 'ERROR',
     'HTTP 503 from weather API', '2026-11-01 09:00:00.9+00', '2026-11-01 09:00:01.2+00', NULL, 'get_weather',
     NULL, NULL, NULL, NULL, '{}', '{"city": "Paris"}', 'HTTP 503');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    status_message, start_time, end_time, model, tool_name, input_tokens, output_tokens, cache_read_tokens,
    cost_usd, attributes, input, output)
VALUES
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a2', '00000000000000a1', 'chat gpt-4o', 'llm', 'OK', NULL,
     '2026-11-01 09:00:00.1+00', '2026-11-01 09:00:00.9+00', 'gpt-4o', NULL, 42, 17, 10, 0.000275,
     '{"gen_ai.request.model": "gpt-4o", "gen_ai.request.temperature": 0.2}',
     '[{"role": "user", "content": "Weather in Paris?"}]', '{"tool_calls": [{"name": "get_weather"}]}'),
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a4', '00000000000000a1', 'chat gpt-4o', 'llm', 'OK', NULL,
     '2026-11-01 09:00:01.3+00', '2026-11-01 09:00:01.9+00', 'gpt-4o', NULL, 60, 12, 0, 0.000270,
     '{"gen_ai.request.model": "gpt-4o", "gen_ai.request.temperature": 0.2}',
     '[{"role": "tool", "content": "HTTP 503"}]', 'I could not get the weather.');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    status_message, start_time, end_time, model, tool_name, input_tokens, output_tokens, cache_read_tokens,
    cost_usd, attributes, input, output)
VALUES
    ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a1', NULL, 'invoke_agent weather', 'agent', 'OK', NULL,
     '2026-11-01 09:00:00+00', '2026-11-01 09:00:02+00', NULL, NULL, 102, 29, NULL, NULL, '{}',
     'Weather in Paris?', 'I could not get the weather.');

-- Run B: the same question against another model, which calls the tool twice (a retry that
-- works), so it answers differently.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
    status_message, start_time, end_time, model, tool_name, input_tokens, output_tokens, cache_read_tokens,
    cost_usd, attributes, input, output)
VALUES
    ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000b1', NULL, 'invoke_agent weather', 'agent', 'OK', NULL,
     '2026-11-02 10:00:00+00', '2026-11-02 10:00:02.5+00', NULL, NULL, NULL, NULL, NULL, NULL, '{}',
     'Weather in Paris?', 'Sunny, 21 °C.'),
    ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000b2', '00000000000000b1', 'chat gpt-4.1-mini', 'llm', 'OK', NULL,
     '2026-11-02 10:00:00.1+00', '2026-11-02 10:00:00.7+00', 'gpt-4.1-mini', NULL, 42, 17, 0, 0.000044,
     '{"gen_ai.request.model": "gpt-4.1-mini", "gen_ai.request.temperature": 0.2}',
     '[{"role": "user", "content": "Weather in Paris?"}]', '{"tool_calls": [{"name": "get_weather"}]}'),
    ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000b3', '00000000000000b1', 'execute_tool get_weather', 'tool', 'ERROR',
     'HTTP 503 from weather API', '2026-11-02 10:00:00.7+00', '2026-11-02 10:00:01+00', NULL, 'get_weather',
     NULL, NULL, NULL, NULL, '{}', '{"city": "Paris"}', 'HTTP 503'),
    ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000b5', '00000000000000b1', 'execute_tool get_weather', 'tool', 'OK',
     NULL, '2026-11-02 10:00:01.1+00', '2026-11-02 10:00:01.4+00', NULL, 'get_weather',
     NULL, NULL, NULL, NULL, '{}', '{"city": "Paris"}', '{"sky": "sunny", "celsius": 21}'),
    ('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000b4', '00000000000000b1', 'chat gpt-4.1-mini', 'llm', 'OK', NULL,
     '2026-11-02 10:00:01.4+00', '2026-11-02 10:00:02.4+00', 'gpt-4.1-mini', NULL, 70, 9, 0, 0.000043,
     '{"gen_ai.request.model": "gpt-4.1-mini", "gen_ai.request.temperature": 0.2}',
     '[{"role": "tool", "content": "{\"sky\": \"sunny\", \"celsius\": 21}"}]', 'Sunny, 21 °C.');

-- The tree: depth-first, siblings by start time, whatever the insert order.
SELECT tree_order, depth, path, span_id, name, span_type, status, start_offset_ms, duration_ms,
       self_time_ms, input_tokens, output_tokens, cost_usd, subtree_spans, subtree_input_tokens,
       subtree_output_tokens, subtree_cost_usd, subtree_errors, is_orphan, is_cycle
  FROM agent_trace.trace_tree('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');

-- The same tree nested, for applications.
SELECT jsonb_pretty(agent_trace.trace_tree_json('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1'));

-- One span's surroundings.
SELECT tree_order, depth, span_id, name FROM agent_trace.span_ancestors('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a3');
SELECT tree_order, depth, span_id, name FROM agent_trace.span_descendants('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '00000000000000a1');

-- What decided the wall time: the second model call finished last; before it, the tool; before
-- that, the first call, which ends exactly when the tool starts (sequential, so on the path). The
-- agent's own 300 ms are the gaps. The parts add up to the 2 s wall time.
SELECT step, depth, span_id, name, start_offset_ms, duration_ms, critical_ms
  FROM agent_trace.critical_path('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
SELECT sum(critical_ms) AS critical_ms_total FROM agent_trace.critical_path('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');

-- Replay: chronological steps with full inputs and outputs, and the document a harness re-runs.
SELECT step, start_offset_ms, depth, span_type, name, model, left(input, 40) AS input,
       left(output, 40) AS output, tool_name, tool_arguments, tool_result, status, error
  FROM agent_trace.replay('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
SELECT jsonb_pretty(agent_trace.replay_json('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1'));

-- Diff: the extra tool call in B is one added row, and the later model call still lines up
-- with its counterpart (as "changed": another model, other tokens and output).
SELECT step, depth, path, change, span_id_a, span_id_b, status_a, status_b, model_a, model_b,
       duration_delta_ms, tokens_a, tokens_b, tokens_delta, cost_delta_usd, input_differs, output_differs
  FROM agent_trace.diff_traces('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1');
\x on
SELECT * FROM agent_trace.diff_summary('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1');
\x off
-- A run against itself: all same, no divergence.
SELECT count(*) FILTER (WHERE change = 'same') AS same, count(*) AS steps
  FROM agent_trace.diff_traces('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
SELECT first_divergence_step, first_divergence_kind
  FROM agent_trace.diff_summary('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');

-- Messy data in one trace: an orphan (its parent never arrived), a loop (c1 -> c2 -> c1), a span
-- that is its own parent, and the same span id stored twice (different start times).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time)
VALUES
    ('cccccccccccccccccccccccccccccccc', '00000000000000c0', NULL, 'root', 'agent', '2026-11-03 00:00:00+00', '2026-11-03 00:00:10+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000d1', '00000000000000c0', 'step', 'chain', '2026-11-03 00:00:01+00', '2026-11-03 00:00:02+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000d1', '00000000000000c0', 'step (sent again, other start)', 'chain', '2026-11-03 00:00:03+00', '2026-11-03 00:00:04+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000d2', '00000000000000d1', 'under step', 'tool', '2026-11-03 00:00:01.5+00', '2026-11-03 00:00:01.6+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000e1', '00000000000000ff', 'orphan', 'llm', '2026-11-03 00:00:05+00', '2026-11-03 00:00:06+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000c1', '00000000000000c2', 'loop 1', 'other', '2026-11-03 00:00:07+00', '2026-11-03 00:00:08+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000c2', '00000000000000c1', 'loop 2', 'other', '2026-11-03 00:00:07.5+00', '2026-11-03 00:00:07.6+00'),
    ('cccccccccccccccccccccccccccccccc', '00000000000000c3', '00000000000000c3', 'own parent', 'other', '2026-11-03 00:00:09+00', '2026-11-03 00:00:09.5+00');
SELECT tree_order, depth, path, span_id, parent_span_id, name, subtree_spans, is_orphan, is_cycle
  FROM agent_trace.trace_tree('cccccccccccccccccccccccccccccccc');
SELECT step, span_id, name, critical_ms FROM agent_trace.critical_path('cccccccccccccccccccccccccccccccc');
SELECT tree_order, span_id, name FROM agent_trace.span_ancestors('cccccccccccccccccccccccccccccccc', '00000000000000c2');

-- A 10,000-deep chain (each span the parent of the next): no recursion limit, no quadratic paths.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time)
SELECT 'dddddddddddddddddddddddddddddddd',
       lpad(to_hex(i), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 1 THEN lpad(to_hex(i - 1), 16, '0')::agent_trace.span_id END,
       'level ' || i, 'chain',
       '2026-11-04 00:00:00+00'::timestamptz + i * interval '1 ms',
       '2026-11-04 00:01:00+00'::timestamptz - i * interval '1 ms'
  FROM generate_series(1, 10000) AS i;
SELECT count(*) AS spans, max(depth) AS max_depth, max(length(path)) AS longest_path,
       bool_and(tree_order = depth + 1) AS depth_first, bool_or(is_cycle OR is_orphan) AS flagged
  FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd');
SELECT path FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd') WHERE depth = 9999;
SELECT count(*) AS ancestors FROM agent_trace.span_ancestors('dddddddddddddddddddddddddddddddd', '0000000000002710');
SELECT count(*) AS on_path, sum(critical_ms) AS critical_ms FROM agent_trace.critical_path('dddddddddddddddddddddddddddddddd');
-- jsonb nests only so deep (PostgreSQL parses it recursively): one clear error past 1,000 levels
-- of spans, and the last 1,000 levels as a subtree work.
SELECT jsonb_typeof(agent_trace.trace_tree_json('dddddddddddddddddddddddddddddddd')) AS nested_json;
\echo :SQLSTATE
SELECT jsonb_typeof(agent_trace.trace_tree_json('dddddddddddddddddddddddddddddddd', '0000000000002329')) AS nested_json;

-- One turn of a long session on its own: the subtree of a span, counted from it.
SELECT tree_order, depth, path, name, start_offset_ms
  FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd', '000000000000270e');
SELECT step, path, change FROM agent_trace.diff_traces(
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1', '00000000000000a2', '00000000000000b2');

-- Turns: the first-level steps under each root, addressable by span id.
SELECT trace_id, turn, turn_span_id, name, span_count, input_tokens, output_tokens, cost_usd, error_count
  FROM agent_trace.agent_turns
 WHERE trace_id IN ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', 'cccccccccccccccccccccccccccccccc')
 ORDER BY trace_id, turn;

-- Unknown ids give empty results, not errors; a malformed id is one clear error.
SELECT count(*) AS rows FROM agent_trace.trace_tree('0123456789abcdef0123456789abcdef');
SELECT agent_trace.trace_tree_json('0123456789abcdef0123456789abcdef') AS json,
       agent_trace.replay_json('0123456789abcdef0123456789abcdef') AS replay;
SELECT count(*) AS rows FROM agent_trace.trace_tree('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '0123456789abcdef');
SELECT count(*) AS rows FROM agent_trace.span_descendants('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', '0123456789abcdef');
SELECT count(*) AS rows FROM agent_trace.critical_path('0123456789abcdef0123456789abcdef');
SELECT spans_a, spans_b, first_divergence_kind
  FROM agent_trace.diff_summary('0123456789abcdef0123456789abcdef', '0123456789abcdef0123456789abcdee');
SELECT count(*) FROM agent_trace.trace_tree('not-a-trace-id');
\echo :SQLSTATE
-- A NULL trace id is no trace: no rows, NULL for the JSON.
SELECT count(*) AS rows FROM agent_trace.trace_tree(NULL);
SELECT agent_trace.trace_tree_json(NULL) IS NULL AS no_json;
SELECT count(*) AS rows FROM agent_trace.critical_path(NULL);
SELECT count(*) AS rows FROM agent_trace.diff_traces('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1', NULL);

-- trace_tree writes each row's 25 values into the row type it is declared with (tree_node). A
-- declaration that does not match the library (a wrong column count or type, e.g. after a half-done
-- upgrade) is refused with 42804 (datatype_mismatch) before a value lands in a column of another
-- type.
CREATE FUNCTION pg_temp.tree_two_columns(agent_trace.trace_id, agent_trace.span_id DEFAULT NULL)
RETURNS TABLE (tree_order integer, depth integer) LANGUAGE c AS '$libdir/agent_trace', 'agent_trace_trace_tree';
SELECT * FROM pg_temp.tree_two_columns('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
\echo :SQLSTATE
DO $$
BEGIN
    EXECUTE format('CREATE FUNCTION pg_temp.tree_text_depth(agent_trace.trace_id, agent_trace.span_id DEFAULT NULL)
                    RETURNS TABLE (%s) LANGUAGE c AS %L, %L',
                   (SELECT string_agg(format('%I %s', a.attname,
                                             CASE a.attname WHEN 'depth' THEN 'text' ELSE format_type(a.atttypid, a.atttypmod) END),
                                      ', ' ORDER BY a.attnum)
                      FROM pg_attribute AS a
                     WHERE a.attrelid = 'agent_trace.tree_node'::regclass AND a.attnum > 0),
                   '$libdir/agent_trace', 'agent_trace_trace_tree');
END
$$;
SELECT * FROM pg_temp.tree_text_depth('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1');
\echo :SQLSTATE

-- A reader may call them; PUBLIC may not.
SELECT has_function_privilege('agent_trace_reader', 'agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id)', 'EXECUTE') AS reader,
       has_function_privilege('public', 'agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id)', 'EXECUTE') AS public;
SELECT p.proname, d.description IS NOT NULL AS documented
  FROM pg_proc AS p
  JOIN pg_namespace AS n ON n.oid = p.pronamespace AND n.nspname = 'agent_trace'
  LEFT JOIN pg_description AS d ON d.objoid = p.oid AND d.classoid = 'pg_proc'::regclass
 WHERE p.proname IN ('trace_tree', 'trace_tree_json', 'span_ancestors', 'span_descendants', 'diff_traces',
                     'diff_summary', 'replay', 'replay_json', 'critical_path')
 ORDER BY 1;
