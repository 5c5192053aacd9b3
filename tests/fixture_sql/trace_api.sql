-- The SQL API on what real clients sent (every captured request in tests/fixtures/otlp/, posted
-- to the real server by ingest/tests/sql_api.rs, with the shipped price snapshot imported first).
\pset null '∅'

-- The Python SDK agent (invoke_agent -> chat -> execute_tool -> failing http -> chat), run three
-- times, and the same agent under OpenInference instrumentation.
\set py_run1 '''8bef85e718690b4f738c3d7e267a185e'''
\set py_run2 '''99808199880d7a9e0de7fefd913636ac'''
\set openinference '''70bd3471974e8d134eebca919adaa71f'''
-- Codex CLI: a session's turn (220 spans) and a trace whose root never arrived (113 spans).
\set codex_turn '''753bd5bf6b1a2d630970c6de86d46ad2'''
\set codex_rootless '''12073729ec0a8e4739f4155c3ae46428'''

SELECT tree_order, depth, path, name, span_type, status, start_offset_ms, duration_ms, self_time_ms,
       input_tokens, output_tokens, computed_cost_usd, subtree_spans, subtree_input_tokens,
       subtree_output_tokens, subtree_computed_cost_usd, subtree_errors, is_orphan, is_cycle
  FROM agent_trace.trace_tree(:py_run1);

SELECT jsonb_pretty(agent_trace.trace_tree_json(:openinference));

SELECT step, depth, name, span_type, start_offset_ms, duration_ms, critical_ms
  FROM agent_trace.critical_path(:py_run1);

SELECT step, depth, span_type, name, model, left(input, 60) AS input, left(output, 60) AS output,
       tool_name, tool_arguments, left(tool_result, 40) AS tool_result, status, error,
       input_tokens, output_tokens
  FROM agent_trace.replay(:openinference);

SELECT jsonb_pretty(agent_trace.replay_json(:py_run1));

-- Two runs of the same agent: aligned one to one.
SELECT step, depth, path, change, model_a, model_b, tokens_a, tokens_b, input_differs, output_differs
  FROM agent_trace.diff_traces(:py_run1, :py_run2);
-- The same agent under two instrumentations: the names differ, so little aligns.
SELECT step, depth, path, change, tokens_a, tokens_b
  FROM agent_trace.diff_traces(:py_run1, :openinference);
\x on
SELECT * FROM agent_trace.diff_summary(:py_run1, :openinference);
\x off

-- Codex: the tree's shape, the first-level steps of the turn, and one step on its own.
SELECT count(*) AS spans, max(depth) AS max_depth, count(*) FILTER (WHERE is_orphan) AS orphans,
       count(*) FILTER (WHERE is_cycle) AS cycles, sum(subtree_spans) FILTER (WHERE depth = 0) AS covered
  FROM agent_trace.trace_tree(:codex_turn);
SELECT tree_order, path, name, span_type, round(duration_ms) AS duration_ms, subtree_spans,
       subtree_input_tokens, subtree_output_tokens
  FROM agent_trace.trace_tree(:codex_turn)
 WHERE depth = 1;
SELECT count(*) AS spans, max(depth) AS max_depth
  FROM agent_trace.trace_tree(:codex_turn,
       (SELECT span_id FROM agent_trace.trace_tree(:codex_turn) WHERE depth = 1 ORDER BY subtree_spans DESC, tree_order LIMIT 1));
SELECT step, depth, name, round(critical_ms) AS critical_ms
  FROM agent_trace.critical_path(:codex_turn)
 ORDER BY critical_ms DESC, step
 LIMIT 5;
SELECT round(sum(critical_ms)) = round(max(duration_ms)) AS path_adds_up_to_the_root
  FROM agent_trace.critical_path(:codex_turn);

-- The same steps as agent_turns rows, each addressable on its own.
SELECT turn, name, span_count, input_tokens, output_tokens
  FROM agent_trace.agent_turns
 WHERE trace_id = :codex_turn
 ORDER BY turn;
SELECT count(*) AS spans FROM agent_trace.replay(:codex_turn,
       (SELECT turn_span_id FROM agent_trace.agent_turns WHERE trace_id = :codex_turn AND turn = 7));

-- A trace whose root span never arrived: its children are shown at the top, flagged.
SELECT count(*) AS spans, count(*) FILTER (WHERE depth = 0) AS top_level,
       count(*) FILTER (WHERE is_orphan) AS orphans
  FROM agent_trace.trace_tree(:codex_rootless);

-- The examples of docs/sql-api.md and docs/cost.md.
SELECT tree_order, depth, path, name, span_type, status, duration_ms, self_time_ms,
       subtree_input_tokens, subtree_errors
  FROM agent_trace.trace_tree('8bef85e718690b4f738c3d7e267a185e');
SELECT step, name, duration_ms, critical_ms FROM agent_trace.critical_path('8bef85e718690b4f738c3d7e267a185e');
SELECT step, span_type, name, tool_arguments, left(tool_result, 30) AS tool_result, status
  FROM agent_trace.replay('8bef85e718690b4f738c3d7e267a185e');

-- Per-session cost and tokens of the coding assistants, in one query (docs/cost.md).
SELECT tool, prompts, model_calls, input_tokens, output_tokens, cost_usd, computed_cost_usd
  FROM agent_trace.agent_sessions
 WHERE tool IN ('Claude Code', 'Gemini CLI', 'Codex')
 ORDER BY tool, first_activity;

-- docs/sql-api.md: around the tool call (span b44a6bb020e2d6c6): its ancestors, what is below it, its
-- subtree as JSON, and the tool step of the replay document.
SELECT tree_order, depth, name FROM agent_trace.span_ancestors('8bef85e718690b4f738c3d7e267a185e', 'b44a6bb020e2d6c6');
SELECT tree_order, depth, name, status FROM agent_trace.span_descendants('8bef85e718690b4f738c3d7e267a185e', 'b44a6bb020e2d6c6');
SELECT jsonb_pretty(agent_trace.trace_tree_json('8bef85e718690b4f738c3d7e267a185e', 'b44a6bb020e2d6c6'));
SELECT jsonb_pretty(agent_trace.replay_json('8bef85e718690b4f738c3d7e267a185e') #> '{steps,1}');
