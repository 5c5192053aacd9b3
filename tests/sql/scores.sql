-- Scores and annotations (extension/sql/scores.sql): add_score stores a score once however often it
-- is sent, refuses bad input with its SQLSTATE, keeps a score whose trace has not arrived; the views
-- count right; row-level security keeps projects apart and readers cannot write; retention and
-- erasure take scores with their runs.
SET timezone = 'UTC';
CREATE ROLE regress_scores_writer LOGIN IN ROLE agent_trace_writer;
CREATE ROLE regress_scores_reader LOGIN IN ROLE agent_trace_reader;
CREATE ROLE regress_scores_usage LOGIN IN ROLE agent_trace_usage_reader;
CREATE ROLE regress_scores_other LOGIN IN ROLE agent_trace_reader;
SELECT agent_trace.create_project('scores-other') AS other;
SELECT agent_trace.grant_project('scores-other', 'regress_scores_other');
SELECT agent_trace.grant_project('scores-other', 'regress_scores_writer', 'write');
SELECT agent_trace.create_project('scores-closed') AS closed;
-- The other reader sees only the other project (not the default one its role is granted).
SELECT agent_trace.revoke_project('default', 'agent_trace_reader');
SELECT agent_trace.grant_project('default', 'regress_scores_reader');

-- Two runs of two agents: a1 calls gpt-4o, b1 calls gpt-4o then gpt-4o-mini.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, agent_name, start_time, end_time)
VALUES ('000000000000000000000000000000a1', '00000000000000a1', NULL, 'run a', 'agent', NULL, 'planner', '2026-11-10 09:00+00', '2026-11-10 09:05+00'),
       ('000000000000000000000000000000a1', '00000000000000a2', '00000000000000a1', 'chat', 'llm', 'gpt-4o', 'planner', '2026-11-10 09:01+00', '2026-11-10 09:02+00'),
       ('000000000000000000000000000000b1', '00000000000000b1', NULL, 'run b', 'agent', NULL, 'writer', '2026-11-10 10:00+00', '2026-11-10 10:05+00'),
       ('000000000000000000000000000000b1', '00000000000000b2', '00000000000000b1', 'chat', 'llm', 'gpt-4o', 'writer', '2026-11-10 10:01+00', '2026-11-10 10:02+00'),
       ('000000000000000000000000000000b1', '00000000000000b3', '00000000000000b1', 'chat', 'llm', 'gpt-4o-mini', 'writer', '2026-11-10 10:03+00', '2026-11-10 10:04+00');

-- The writer scores (into the default project, and into the other project it may write).
SET ROLE regress_scores_writer;
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.25, explanation => 'off topic',
                             source => 'llm', scorer => 'judge-gpt-4o', scored_at => '2026-11-10 12:00+00') IS NOT NULL AS stored;
-- A retry (same arguments) is the same score: same key, stored once.
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.25, explanation => 'off topic',
                             source => 'llm', scorer => 'judge-gpt-4o', scored_at => '2026-11-10 12:00+00')
     = agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.25, explanation => 'off topic',
                             source => 'llm', scorer => 'judge-gpt-4o', scored_at => '2026-11-10 12:00+00') AS same_key;
-- A later judgement of the same run, a human's label on its LLM span, and a user's thumbs on b1.
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.75, source => 'llm', scorer => 'judge-gpt-4o',
                             scored_at => '2026-11-10 13:00+00') IS NOT NULL AS stored;
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'correct', label => 'fail', source => 'human', scorer => 'ann',
                             span_id => '00000000000000a2', scored_at => '2026-11-10 14:00+00') IS NOT NULL AS stored;
SELECT agent_trace.add_score('000000000000000000000000000000b1', 'correct', 1, 'pass', source => 'code', scorer => 'unit check',
                             scored_at => '2026-11-10 15:00+00') IS NOT NULL AS stored;
SELECT agent_trace.add_score('000000000000000000000000000000b1', 'correct', 0, 'fail', source => 'code', scorer => 'unit check',
                             scored_at => '2026-11-10 16:00+00') IS NOT NULL AS stored;
SELECT agent_trace.add_score('000000000000000000000000000000b1', 'correct', label => 'pass', source => 'end_user',
                             scored_at => '2026-11-10 17:00+00') IS NOT NULL AS stored;
-- A score of a run whose spans have not arrived: kept. A given key is the key.
SELECT agent_trace.add_score('000000000000000000000000000000c1', 'helpfulness', label => 'thumbs_down', source => 'end_user',
                             response_id => 'chatcmpl-123', scored_at => '2026-11-10 18:00+00',
                             score_key => '00000000-0000-0000-0000-0000000000c1') AS key;
SELECT agent_trace.add_score('000000000000000000000000000000c1', 'helpfulness', label => 'thumbs_down', source => 'end_user',
                             response_id => 'chatcmpl-123', scored_at => '2026-11-10 18:00+00',
                             score_key => '00000000-0000-0000-0000-0000000000c1') AS key_again;
-- In the other project, with a1's trace id: another project's score.
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.5, project => 'scores-other',
                             scored_at => '2026-11-10 12:00+00') IS NOT NULL AS stored;

-- Bad input, each with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.5, source => 'robot');
\echo unknown source
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance');
\echo neither value nor label
SELECT agent_trace.add_score('000000000000000000000000000000a1', ' ', 0.5);
\echo empty name
SELECT agent_trace.add_score('000000000000000000000000000000a1', NULL, 0.5);
\echo no name
SELECT agent_trace.add_score(NULL, 'relevance', 0.5);
\echo no trace
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 'NaN');
\echo not a number
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 1, label => '');
\echo empty label
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 1, attributes => '[1]');
\echo attributes not an object
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 1, project => 'no-such-project');
\echo a project it may not write
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 1, project => 'scores-closed');
\echo a project that exists, not granted to it
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value, project_id)
VALUES (gen_random_uuid(), '000000000000000000000000000000a1', 'x', 1, 3);
\echo nor by a plain INSERT (row-level security)
-- The writer reads nothing back.
SELECT count(*) FROM agent_trace.agent_scores;
\echo writer cannot read
\set VERBOSITY default
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 0.5, source => 'robot');
RESET ROLE;

-- The table refuses what add_score refuses, for writers that insert directly (the ingest).
\set VERBOSITY terse
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name) VALUES (gen_random_uuid(), '000000000000000000000000000000a1', 'x');
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value, source) VALUES (gen_random_uuid(), '000000000000000000000000000000a1', 'x', 1, 'robot');
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value) VALUES (gen_random_uuid(), '000000000000000000000000000000a1', '', 1);
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value) VALUES (gen_random_uuid(), '000000000000000000000000000000a1', 'x', 'Infinity');
\set VERBOSITY default

SELECT project_id, trace_id, span_id, name, value, label, explanation, source, scorer, response_id, scored_at
  FROM agent_trace.agent_scores ORDER BY project_id, trace_id, scored_at;

-- Per run: the latest score of each name, how many, their average.
SELECT * FROM agent_trace.agent_trace_scores ORDER BY project_id, trace_id, name;
-- Per day, name, agent and model: a1's run-level scores carry its model, its span's score the span's;
-- b1's run used two models; c1's trace has not arrived.
SELECT * FROM agent_trace.agent_score_stats ORDER BY project_id, day, name, agent_name NULLS LAST, model NULLS LAST;

-- Readers: each sees its project's scores only, through the table and the views; a usage reader
-- reads the numbers, not the explanations.
SET ROLE regress_scores_reader;
SELECT count(*) AS scores, count(DISTINCT project_id) AS projects FROM agent_trace.agent_scores;
SET ROLE regress_scores_other;
SELECT project_id, trace_id, name, value FROM agent_trace.agent_scores;
SELECT project_id, trace_id, name, latest_value, score_count FROM agent_trace.agent_trace_scores;
SELECT project_id, name, score_count, avg_value FROM agent_trace.agent_score_stats;
RESET ROLE;
SET ROLE regress_scores_usage;
SELECT trace_id, name, latest_label, score_count FROM agent_trace.agent_trace_scores ORDER BY 1, 2;
SELECT name, agent_name, model, score_count, label_shares FROM agent_trace.agent_score_stats ORDER BY 1, 2, 3;
\set VERBOSITY terse
SELECT explanation FROM agent_trace.agent_scores;
\set VERBOSITY default
RESET ROLE;
-- A reader may not score.
SET ROLE regress_scores_reader;
\set VERBOSITY sqlstate
SELECT agent_trace.add_score('000000000000000000000000000000a1', 'relevance', 1);
\echo reader cannot add_score
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value) VALUES (gen_random_uuid(), '000000000000000000000000000000a1', 'x', 1);
\echo reader cannot insert
\set VERBOSITY default
RESET ROLE;

-- Erasure: the trace's scores go with it, also those of a trace whose spans never arrived; the
-- other project's score of the same trace id stays when erasure is limited to the default project.
SELECT * FROM agent_trace.erase(trace_id => '000000000000000000000000000000a1', project => 'default') WHERE rows_removed > 0;
SELECT * FROM agent_trace.erase(trace_id => '000000000000000000000000000000c1') WHERE rows_removed > 0;
SELECT project_id, trace_id, name FROM agent_trace.agent_scores ORDER BY 1, 2, scored_at;

-- Retention: scores are kept as long as the spans, counted from scored_at. A project kept shorter
-- than the rest loses its scores by DELETE; then every project's expired days go.
SELECT agent_trace.add_score('000000000000000000000000000000b1', 'correct', 1, scored_at => '2026-11-20 09:00+00') IS NOT NULL AS stored;
SELECT agent_trace.set_retention('spans', '1 day', 'scores-other');
SELECT * FROM agent_trace._maintain('2026-11-21 12:00+00') WHERE action <> 'created' ORDER BY 1, 2, 3;
SELECT project_id, trace_id, name, scored_at FROM agent_trace.agent_scores ORDER BY 1, 2, scored_at;
SELECT agent_trace.set_retention('spans', '5 days');
SELECT * FROM agent_trace._maintain('2026-11-21 12:00+00') WHERE action <> 'created' ORDER BY 1, 2, 3;
SELECT project_id, trace_id, name, scored_at FROM agent_trace.agent_scores ORDER BY 1, 2, scored_at;
SELECT count(*) AS spans_left FROM agent_trace.agent_spans;
