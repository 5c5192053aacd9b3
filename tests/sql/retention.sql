-- Time partitions, maintenance, retention and erasure (extension/sql/partitions.sql, erase.sql).
-- agent_trace._maintain(at) is maintain() as if the time were at: these tests cannot wait for days.
SET timezone = 'UTC';
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/drift.sql

-- A fresh install has only the default partitions: nothing is refused for want of one.
SELECT table_name, partition_name, from_time, to_time FROM agent_trace.agent_partitions ORDER BY 1, 2;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, user_id, session_id)
VALUES ('0000000000000000000000000000a001', '000000000000a001', 'early bird', '2026-11-09 08:00+00', '2026-11-09 08:01+00', 'ann', 'ann-1');

-- maintain() makes yesterday's to three days ahead's partitions, moving the rows of those days out
-- of the default partition; a second run has nothing to do.
SELECT * FROM agent_trace._maintain('2026-11-10 12:00+00');
SELECT * FROM agent_trace._maintain('2026-11-10 13:00+00');
SELECT partition_name, from_time, to_time FROM agent_trace.agent_partitions
 WHERE table_name = 'agent_spans' ORDER BY from_time NULLS LAST;
SELECT tableoid::regclass AS stored_in, name FROM agent_trace.agent_spans;
-- Re-sent after the move, the span is still stored once.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('0000000000000000000000000000a001', '000000000000a001', 'early bird', '2026-11-09 08:00+00', '2026-11-09 08:01+00')
ON CONFLICT DO NOTHING;
SELECT count(*) AS stored, (SELECT span_count FROM agent_trace.agent_traces) AS span_count FROM agent_trace.agent_spans;

-- A span ends no earlier than it starts (the ingest makes an earlier end the start).
\set VERBOSITY terse
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('0000000000000000000000000000a002', '000000000000a002', 'backwards', '2026-11-10 08:00+00', '2026-11-10 07:00+00');
\set VERBOSITY default

-- Reading one trace's spans: bounded by trace_start/trace_end, the plan keeps one day's partition.
EXPLAIN (COSTS OFF)
SELECT s.name FROM agent_trace.agent_spans AS s
 WHERE s.trace_id = '0000000000000000000000000000a001'
   AND s.start_time BETWEEN agent_trace.trace_start('0000000000000000000000000000a001')
                        AND agent_trace.trace_end('0000000000000000000000000000a001');
SELECT agent_trace.trace_start('0000000000000000000000000000a001'), agent_trace.trace_end('0000000000000000000000000000a001'),
       agent_trace.trace_start('0000000000000000000000000000ffff') AS unknown_trace;

-- Runs over four days: Nov 9 (ann), Nov 10 (bob, with a priced LLM call and a log of his), a run
-- that straddles midnight Nov 10-11 (bob again), Nov 12 (cid). Log records and metric points too.
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', '*', 2.5, 10);
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, start_time, end_time,
                                     input_tokens, output_tokens, user_id, session_id)
VALUES ('0000000000000000000000000000b001', '000000000000b001', NULL, 'bob run', 'agent', NULL, '2026-11-10 09:00+00', '2026-11-10 09:05+00', NULL, NULL, 'bob', 'bob-1'),
       ('0000000000000000000000000000b001', '000000000000b002', '000000000000b001', 'chat', 'llm', 'gpt-4o', '2026-11-10 09:01+00', '2026-11-10 09:02+00', 1000, 100, NULL, NULL),
       ('0000000000000000000000000000b002', '000000000000b001', NULL, 'midnight run', 'agent', NULL, '2026-11-10 23:59+00', '2026-11-11 00:10+00', NULL, NULL, 'bob', 'bob-2'),
       ('0000000000000000000000000000b002', '000000000000b002', '000000000000b001', 'before midnight', 'llm', 'gpt-4o', '2026-11-10 23:59:30+00', '2026-11-11 00:01+00', 2000, 200, NULL, NULL),
       ('0000000000000000000000000000b002', '000000000000b003', '000000000000b001', 'after midnight', 'llm', 'gpt-4o', '2026-11-11 00:02+00', '2026-11-11 00:03+00', 4000, 400, NULL, NULL),
       ('0000000000000000000000000000c001', '000000000000c001', NULL, 'cid run', 'llm', 'gpt-4o', '2026-11-12 10:00+00', '2026-11-12 10:01+00', 8000, 800, 'cid', 'cid-1');
INSERT INTO agent_trace.agent_logs (record_key, time, trace_id, event_name, body, user_id, session_id)
VALUES ('00000000-0000-0000-0000-000000000001', '2026-11-09 08:00+00', NULL, 'user_prompt', 'ann asks', 'ann', 'ann-1'),
       ('00000000-0000-0000-0000-000000000002', '2026-11-10 09:01+00', '0000000000000000000000000000b001', 'api_request', 'in bob''s run', NULL, NULL),
       ('00000000-0000-0000-0000-000000000003', '2026-11-12 10:00+00', NULL, 'user_prompt', 'cid asks', 'cid', 'cid-1');
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value, session_id, attributes)
VALUES ('00000000-0000-0000-0000-00000000000a', 'claude_code.token.usage', 'sum', '2026-11-10 09:05+00', 1100, 'bob-1', '{"user.id": "bob"}'),
       ('00000000-0000-0000-0000-00000000000b', 'claude_code.token.usage', 'sum', '2026-11-12 10:05+00', 8800, NULL, '{"user.id": "cid"}');
SELECT trace_id, span_count, input_tokens, computed_cost_usd FROM agent_trace.agent_traces ORDER BY 1;

-- Reading one trace reads only the partitions of its days (extension/sql/queries/trace_bounds.sql,
-- functions.sql): the midnight run's two days, no other. pg_stat_xact_user_tables counts the scans
-- of this transaction (once the session's earlier counts are flushed).
SELECT pg_stat_force_next_flush();
BEGIN;
SELECT count(*) AS tree FROM agent_trace.trace_tree('0000000000000000000000000000b002');
SELECT count(*) AS path FROM agent_trace.critical_path('0000000000000000000000000000b002');
SELECT count(*) AS replay FROM agent_trace.replay('0000000000000000000000000000b002');
SELECT agent_trace.replay_json('0000000000000000000000000000b002') IS NOT NULL AS replay_json;
SELECT spans_a, spans_b FROM agent_trace.diff_summary('0000000000000000000000000000b002', '0000000000000000000000000000b002');
SELECT relname AS partitions_read FROM pg_stat_xact_user_tables
 WHERE schemaname = 'agent_trace_partitions' AND seq_scan + coalesce(idx_scan, 0) > 0 ORDER BY 1;
COMMIT;

-- An AgentOS schema's copy of the traces follows what retention and erasure do.
SELECT agent_trace.enable_agno_compat('agentos') AS traces_copied;

-- Retention: per signal, for every project or one; at least a day; NULL removes it.
SELECT agent_trace.set_retention('traces', '1 day');
SELECT agent_trace.set_retention('spans', '6 hours');
SELECT agent_trace.set_retention('spans', '1 day', 'no-such-project');
SELECT agent_trace.set_retention('spans', '2 days');
SELECT agent_trace.set_retention('logs', '2 days');
SELECT agent_trace.set_retention('metrics', '30 days');
SELECT agent_trace.set_retention('metrics', NULL);
SELECT signal, project_id, keep FROM agent_trace.retention ORDER BY 1;

-- On Nov 12 at noon, keeping 2 days keeps whole days from Nov 10 on: Nov 9 goes. Its partitions are
-- dropped (spans, costs, logs); ann's trace goes with them.
SELECT * FROM agent_trace._maintain('2026-11-12 12:00+00') WHERE action <> 'created';
SELECT trace_id, span_count FROM agent_trace.agent_traces ORDER BY 1;
SELECT * FROM pg_temp.drift();

-- On Nov 13 at noon, Nov 10 goes: bob's first run whole, and the midnight run keeps exactly what
-- started after midnight (one span, its tokens and its cost; no root any more).
SELECT * FROM agent_trace._maintain('2026-11-13 12:00+00') WHERE action <> 'created';
SELECT trace_id, name, span_count, start_time, input_tokens, computed_cost_usd, root_span_id
  FROM agent_trace.agent_traces ORDER BY 1;
SELECT * FROM pg_temp.drift();
SELECT trace_id, name FROM agentos.agno_traces ORDER BY 1;
SELECT count(*) AS costs_left, sum(computed_cost_usd) FROM agent_trace.agent_span_costs;
SELECT body FROM agent_trace.agent_logs ORDER BY time;

-- Rows that arrive for an expired day go to the default partition, and the next run deletes them
-- (fixing their traces through the delete trigger).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('0000000000000000000000000000d001', '000000000000d001', 'late arrival', '2026-11-01 10:00+00', '2026-11-01 10:01+00');
SELECT tableoid::regclass AS stored_in FROM agent_trace.agent_spans WHERE trace_id = '0000000000000000000000000000d001';
SELECT * FROM agent_trace._maintain('2026-11-13 13:00+00') WHERE action <> 'created';
SELECT count(*) AS late_traces FROM agent_trace.agent_traces WHERE trace_id = '0000000000000000000000000000d001';

-- A project kept shorter than the rest loses its rows by DELETE; the others keep theirs.
SELECT agent_trace.create_project('short');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, project_id)
VALUES ('0000000000000000000000000000e001', '000000000000e001', 'short-lived', '2026-11-12 11:00+00', '2026-11-12 11:01+00',
        (SELECT project_id FROM agent_trace.projects WHERE name = 'short'));
SELECT agent_trace.set_retention('spans', '1 day', 'short');
SELECT * FROM agent_trace._maintain('2026-11-14 01:00+00') WHERE action <> 'created';
SELECT trace_id, project_id, span_count FROM agent_trace.agent_traces ORDER BY 1;
SELECT * FROM pg_temp.drift();

-- Erasure: everything of a user, a session or a trace, and what derives from it. Dan's run names
-- his session on its root span only; its LLM span (his prompt) and the log record emitted in it
-- go too. Eve's run stays.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, start_time, end_time,
                                     input_tokens, user_id, session_id, input)
VALUES ('0000000000000000000000000000f001', '000000000000f001', NULL, 'dan run', 'agent', NULL, '2026-11-13 09:00+00', '2026-11-13 09:05+00', NULL, 'dan', 'dan-1', 'hello'),
       ('0000000000000000000000000000f001', '000000000000f002', '000000000000f001', 'chat', 'llm', 'gpt-4o', '2026-11-13 09:01+00', '2026-11-13 09:02+00', 500, NULL, NULL, 'dan''s secret prompt'),
       ('0000000000000000000000000000f002', '000000000000f001', NULL, 'eve run', 'llm', 'gpt-4o', '2026-11-13 09:00+00', '2026-11-13 09:05+00', 700, 'eve', 'eve-1', 'eve''s prompt');
INSERT INTO agent_trace.agent_logs (record_key, time, trace_id, event_name, body)
VALUES ('00000000-0000-0000-0000-000000000004', '2026-11-13 09:01+00', '0000000000000000000000000000f001', 'api_request', 'in dan''s run');
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value, session_id)
VALUES ('00000000-0000-0000-0000-00000000000c', 'claude_code.token.usage', 'sum', '2026-11-13 09:05+00', 500, 'dan-1');
SELECT trace_id, name FROM agentos.agno_traces ORDER BY 1;
SELECT * FROM agent_trace.erase(session_id => 'dan-1');
SELECT (SELECT count(*) FROM agent_trace.agent_spans WHERE trace_id = '0000000000000000000000000000f001') AS spans,
       (SELECT count(*) FROM agent_trace.agent_traces WHERE trace_id = '0000000000000000000000000000f001') AS traces,
       (SELECT count(*) FROM agent_trace.agent_logs WHERE trace_id = '0000000000000000000000000000f001') AS logs,
       (SELECT count(*) FROM agent_trace.agent_metrics WHERE session_id = 'dan-1') AS metrics,
       (SELECT count(*) FROM agentos.agno_traces WHERE session_id = 'dan-1') AS agentos_copies,
       (SELECT count(*) FROM agent_trace.agent_sessions WHERE session_id = 'dan-1') AS sessions,
       (SELECT count(*) FROM agent_trace.agent_spans WHERE input LIKE '%dan%') AS dans_prompts;
SELECT trace_id, name FROM agent_trace.agent_traces ORDER BY 1;
SELECT * FROM pg_temp.drift();
-- A user: cid's run, log record and metric point.
SELECT * FROM agent_trace.erase();
SELECT * FROM agent_trace.erase(user_id => 'cid', project => 'no-such-project');
SELECT * FROM agent_trace.erase(user_id => 'cid');
SELECT (SELECT count(*) FROM agent_trace.agent_spans WHERE trace_id = '0000000000000000000000000000c001') AS spans,
       (SELECT count(*) FROM agent_trace.agent_traces WHERE user_id = 'cid') AS traces,
       (SELECT count(*) FROM agent_trace.agent_logs WHERE user_id = 'cid') AS logs,
       (SELECT count(*) FROM agent_trace.agent_metrics WHERE attributes ->> 'user.id' = 'cid') AS metrics,
       (SELECT count(*) FROM agentos.agno_traces WHERE user_id = 'cid') AS agentos_copies,
       (SELECT count(*) FROM agent_trace.agent_sessions WHERE session_id = 'cid-1') AS sessions;
SELECT count(*) AS traces_left FROM agent_trace.agent_traces;
SELECT * FROM pg_temp.drift();
-- Erasing what is not there removes nothing, and says so.
SELECT * FROM agent_trace.erase(trace_id => '0000000000000000000000000000ffff');

-- The projects filter: a user's rows in another project stay.
SELECT * FROM agent_trace.erase(user_id => 'eve', project => 'short') WHERE rows_removed > 0;
SELECT count(*) AS eves_traces FROM agent_trace.agent_traces WHERE user_id = 'eve';

-- The writer runs maintain(), which takes no time (a caller cannot make it expire what has not
-- expired); it may not call _maintain, set a retention, erase or list the partitions. (Last: run
-- now, maintain() expires every day above.)
CREATE ROLE regress_retention_writer IN ROLE agent_trace_writer;
SET ROLE regress_retention_writer;
SELECT count(*) >= 0 AS ran FROM agent_trace.maintain();
SELECT * FROM agent_trace._maintain('2030-01-01');
SELECT agent_trace.set_retention('spans', '1 day');
SELECT * FROM agent_trace.erase(user_id => 'eve');
SELECT * FROM agent_trace.agent_partitions;
RESET ROLE;
SELECT * FROM agent_trace._maintain(NULL);
