-- How the trace functions read a trace (extension/src/api.rs): plans kept for the session, rows
-- taken from the executor's slots with their values copied. What could go wrong there, tried:
-- values stored out of line or compressed (TOAST), a partition made between two calls, a table
-- whose columns change under a kept plan, and a statement cancelled in the middle of a read.
-- Row-level security read as several roles in one session is in projects.sql.
SET timezone = 'UTC';

------------------------------------------------------------------------------------------------------
-- TOAST: names, models, inputs and outputs longer than a page allows inline.
------------------------------------------------------------------------------------------------------
-- noise(n): n md5 digests in a row, text that barely compresses (deterministic).
CREATE FUNCTION pg_temp.noise(n integer, seed integer DEFAULT 0) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT string_agg(md5((i + seed)::text), '' ORDER BY i) FROM generate_series(1, n) AS i $$;

-- Two runs of one agent. Their spans carry: a 6,413-character name that does not compress (stored
-- out of line, uncompressed), a 12,800-character name that repeats a 3,200-character block (stored
-- compressed, and still too long to stay inline: out of line), a 13,000-character name that compresses
-- to a few hundred bytes (compressed, inline), a 3,200-character model (out of line), and inputs and
-- outputs of 12,800 characters (compressed, out of line); run B's last output differs from run A's in
-- its final character only.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time,
    model, input_tokens, output_tokens, input, output)
SELECT run.trace_id, s.span_id::agent_trace.span_id, s.parent::agent_trace.span_id, s.name, s.span_type,
       '2026-11-01 10:00:00+00'::timestamptz + s.at * interval '1 ms',
       '2026-11-01 10:00:00+00'::timestamptz + s.at * interval '1 ms' + interval '500 ms',
       s.model, s.input_tokens, s.output_tokens,
       repeat(pg_temp.noise(100, s.at), 4),
       CASE WHEN run.trace_id = '70a570a570a570a570a570a570a5b000' AND s.at = 3
            THEN repeat(pg_temp.noise(100, 7), 4) || 'B' ELSE repeat(pg_temp.noise(100, 7), 4) || 'A' END
  FROM (VALUES ('70a570a570a570a570a570a570a5a000'::agent_trace.trace_id), ('70a570a570a570a570a570a570a5b000')) AS run (trace_id),
       (VALUES ('00000000000000f1', NULL, 'invoke_agent ' || pg_temp.noise(200), 'agent', 0, NULL, NULL, NULL),
               ('00000000000000f2', '00000000000000f1', repeat(pg_temp.noise(100, 1000), 4), 'llm', 1,
                pg_temp.noise(100, 2000), 100, 10),
               ('00000000000000f3', '00000000000000f1', repeat('execute_tool ', 1000), 'tool', 2, NULL, NULL, NULL),
               ('00000000000000f4', '00000000000000f1', 'chat', 'llm', 3, 'gpt-4o', 1000, 200))
           AS s (span_id, parent, name, span_type, at, model, input_tokens, output_tokens);

-- How each is stored: compressed or not, and out of line (a stored size beyond the 2 kB a row keeps
-- inline is only possible out of line).
SELECT span_id, length(name) AS name_length, pg_column_compression(name) IS NOT NULL AS name_compressed,
       pg_column_size(name) > 2032 AS name_out_of_line,
       length(model) AS model_length, pg_column_size(model) > 2032 AS model_out_of_line,
       length(input) AS input_length, pg_column_compression(input) IS NOT NULL AS input_compressed,
       pg_column_size(input) > 2032 AS input_out_of_line
  FROM agent_trace.agent_spans WHERE trace_id = '70a570a570a570a570a570a570a5a000' ORDER BY span_id;

-- trace_tree, trace_tree_json and critical_path show every name and model as stored.
SELECT t.tree_order, t.span_id, length(t.name) AS name_length, t.name = s.name AS name_as_stored,
       t.model IS NOT DISTINCT FROM s.model AS model_as_stored, t.computed_cost_usd
  FROM agent_trace.trace_tree('70a570a570a570a570a570a570a5a000') AS t
  JOIN agent_trace.agent_spans AS s ON s.trace_id = '70a570a570a570a570a570a570a5a000' AND s.span_id = t.span_id
 ORDER BY t.tree_order;
SELECT count(*) AS spans, bool_and(o ->> 'name' = s.name) AS names_as_stored,
       bool_and(o ->> 'model' IS NOT DISTINCT FROM s.model) AS models_as_stored
  FROM jsonb_path_query(agent_trace.trace_tree_json('70a570a570a570a570a570a570a5a000'), 'strict $.** ? (@.type() == "object" && exists (@.span_id))') AS o
  JOIN agent_trace.agent_spans AS s ON s.trace_id = '70a570a570a570a570a570a570a5a000'
   AND s.span_id::text = o ->> 'span_id';
SELECT c.step, c.span_id, c.name = s.name AS name_as_stored
  FROM agent_trace.critical_path('70a570a570a570a570a570a570a5a000') AS c
  JOIN agent_trace.agent_spans AS s ON s.trace_id = '70a570a570a570a570a570a570a5a000' AND s.span_id = c.span_id
 ORDER BY c.step;
-- diff_traces compares inputs and outputs in full: the same out-of-line values are the same, the
-- last output differs in its last character.
SELECT step, change, span_id_a, input_differs, output_differs
  FROM agent_trace.diff_traces('70a570a570a570a570a570a570a5a000', '70a570a570a570a570a570a570a5b000')
 ORDER BY step;

------------------------------------------------------------------------------------------------------
-- A partition made between two calls in one session: the kept plans are planned again and read it.
------------------------------------------------------------------------------------------------------
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time,
    model, input_tokens, output_tokens)
VALUES ('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01', '0000000000009a01', NULL, 'invoke_agent', 'agent',
        '2026-11-20 10:00+00', '2026-11-20 10:00:05+00', NULL, NULL, NULL),
       ('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01', '0000000000009a02', '0000000000009a01', 'chat gpt-4o', 'llm',
        '2026-11-20 10:00:01+00', '2026-11-20 10:00:02+00', 'gpt-4o', 1000, 100);
SELECT tableoid::regclass AS stored_in, count(*) FROM agent_trace.agent_spans
 WHERE trace_id = '9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01' GROUP BY 1;
SELECT tree_order, name, computed_cost_usd, subtree_computed_cost_usd
  FROM agent_trace.trace_tree('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01');
-- The day's partitions made (its rows and costs move in), and a span added to it.
SELECT action, count(*) FROM agent_trace._maintain('2026-11-20 12:00+00') GROUP BY 1 ORDER BY 1;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time,
    model, input_tokens, output_tokens)
VALUES ('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01', '0000000000009a03', '0000000000009a01', 'chat gpt-4o', 'llm',
        '2026-11-20 10:00:03+00', '2026-11-20 10:00:04+00', 'gpt-4o', 2000, 100);
SELECT tableoid::regclass AS stored_in, count(*) FROM agent_trace.agent_spans
 WHERE trace_id = '9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01' GROUP BY 1;
SELECT tree_order, name, computed_cost_usd, subtree_computed_cost_usd
  FROM agent_trace.trace_tree('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01');
SELECT step, name FROM agent_trace.critical_path('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01');

------------------------------------------------------------------------------------------------------
-- A column whose type changes under the kept plans (planned again from their SQL, which now names
-- a column of another type) is refused with 42804 before a value is read, not misread.
------------------------------------------------------------------------------------------------------
BEGIN;
ALTER TABLE agent_trace.agent_spans RENAME COLUMN model TO model_before;
ALTER TABLE agent_trace.agent_spans ADD COLUMN model bigint;
SELECT agent_trace.trace_tree_json('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01') IS NOT NULL;
ROLLBACK;
BEGIN;
ALTER TABLE agent_trace.agent_span_costs RENAME COLUMN computed_cost_usd TO cost_before;
ALTER TABLE agent_trace.agent_span_costs ADD COLUMN computed_cost_usd text DEFAULT 'not a number';
SELECT count(*) FROM agent_trace.trace_tree('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01');
ROLLBACK;
-- Back as they were, the same session reads as before.
SELECT tree_order, name, computed_cost_usd, subtree_computed_cost_usd
  FROM agent_trace.trace_tree('9a9a9a9a9a9a9a9a9a9a9a9a9a9a9a01');

------------------------------------------------------------------------------------------------------
-- Cancelled in the middle of reading a 100,000-span trace, each function answers its next call.
------------------------------------------------------------------------------------------------------
-- Ten children per span, six levels.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, start_time, end_time)
SELECT 'cace11edcace11edcace11edcace11ed', lpad(to_hex(i), 16, '0')::agent_trace.span_id,
       CASE WHEN i > 1 THEN lpad(to_hex((i - 2) / 10 + 1), 16, '0')::agent_trace.span_id END,
       'step ' || i, 'tool',
       '2026-11-02 10:00:00+00'::timestamptz + i * interval '1 ms',
       '2026-11-02 10:00:00+00'::timestamptz + i * interval '1 ms' + interval '500 us'
  FROM generate_series(1, 100000) AS i;
SELECT count(*), max(depth), max(subtree_spans) FROM agent_trace.trace_tree('cace11edcace11edcace11edcace11ed');

-- Each statement reads the trace 50 times (the CASE makes each call a new one), far past the timeout.
SET statement_timeout = '100ms';
SELECT count(*) FROM generate_series(1, 50) AS g,
       LATERAL agent_trace.trace_tree(CASE WHEN g > 0 THEN 'cace11edcace11edcace11edcace11ed'::agent_trace.trace_id END) AS t;
SELECT count(*) FROM generate_series(1, 50) AS g,
       LATERAL agent_trace.trace_tree_json(CASE WHEN g > 0 THEN 'cace11edcace11edcace11edcace11ed'::agent_trace.trace_id END) AS t;
SELECT count(*) FROM generate_series(1, 50) AS g,
       LATERAL agent_trace.critical_path(CASE WHEN g > 0 THEN 'cace11edcace11edcace11edcace11ed'::agent_trace.trace_id END) AS t;
SELECT count(*) FROM generate_series(1, 50) AS g,
       LATERAL agent_trace.diff_traces(CASE WHEN g > 0 THEN 'cace11edcace11edcace11edcace11ed'::agent_trace.trace_id END,
                                       'cace11edcace11edcace11edcace11ed') AS t;
RESET statement_timeout;
SELECT count(*), max(depth), max(subtree_spans) FROM agent_trace.trace_tree('cace11edcace11edcace11edcace11ed');
SELECT (agent_trace.trace_tree_json('cace11edcace11edcace11edcace11ed') ->> 'span_count')::int AS span_count;
SELECT count(*) FROM agent_trace.critical_path('cace11edcace11edcace11edcace11ed');
SELECT change, count(*) FROM agent_trace.diff_traces('cace11edcace11edcace11edcace11ed',
                                                     'cace11edcace11edcace11edcace11ed') GROUP BY 1;
