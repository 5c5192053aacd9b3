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

-- Scores that name the model response they judge (gen_ai.response.id) instead of its span: linked to
-- the span of their project carrying that response id once it is stored. As the ingest writes them:
-- a score known only by its response id waits in agent_scores_pending; a score of a known run gets
-- its span_id later. Project scores-other (2) waits on the same response id: it is another project's.
SET ROLE regress_scores_writer;
INSERT INTO agent_trace.agent_scores_pending (score_key, name, value, explanation, response_id, scored_at)
VALUES ('00000000-0000-0000-0000-0000000000d1', 'faithful', 0.9, 'cites the forecast', 'resp-d1', '2026-11-10 19:00+00'),
       ('00000000-0000-0000-0000-0000000000d2', 'faithful', 0.1, NULL, 'resp-never', '2026-11-10 19:00+00');
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, label, response_id, scored_at)
VALUES ('00000000-0000-0000-0000-0000000000d3', '000000000000000000000000000000d1', 'tone', 'polite', 'resp-d1', '2026-11-10 19:30+00');
INSERT INTO agent_trace.agent_scores_pending (score_key, name, value, response_id, scored_at, project_id)
VALUES ('00000000-0000-0000-0000-0000000000d4', 'faithful', 0.5, 'resp-d1', '2026-11-10 19:00+00', 2);
-- No span carries resp-d1 yet: nothing moves.
SELECT agent_trace.link_written_scores(ARRAY[NULL, '000000000000000000000000000000d1']::agent_trace.trace_id[],
                                       ARRAY[1, 1], ARRAY['resp-d1', 'resp-d1']);
RESET ROLE;
SELECT project_id, name, response_id FROM agent_trace.agent_scores_pending ORDER BY 1, score_key;
-- The run arrives: its agent span repeats its LLM call's response id; the LLM call's span is the one
-- judged. The writer links what waits on the spans it stored.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, agent_name, start_time, end_time, attributes)
VALUES ('000000000000000000000000000000d1', '00000000000000d1', NULL, 'run d', 'agent', NULL, 'planner', '2026-11-10 18:00+00', '2026-11-10 18:05+00', '{"gen_ai.response.id": "resp-d1"}'),
       ('000000000000000000000000000000d1', '00000000000000d2', '00000000000000d1', 'chat', 'llm', 'gpt-4o', 'planner', '2026-11-10 18:01+00', '2026-11-10 18:02+00', '{"gen_ai.response.id": "resp-d1"}');
SET ROLE regress_scores_writer;
SELECT agent_trace.link_written_scores(ARRAY['000000000000000000000000000000d1', '000000000000000000000000000000d1']::agent_trace.trace_id[],
                                       ARRAY[1, 1], ARRAY['resp-d1', 'resp-d1']);
-- Again: nothing changes. Without entries, nothing is swept from here.
SELECT agent_trace.link_written_scores(ARRAY['000000000000000000000000000000d1']::agent_trace.trace_id[], ARRAY[1], ARRAY['resp-d1']);
SELECT agent_trace.link_written_scores(NULL, NULL, NULL);
\set VERBOSITY sqlstate
SELECT * FROM agent_trace._link_scores(NULL, NULL, NULL);
\echo writer cannot sweep
SELECT count(*) FROM agent_trace.agent_scores_pending;
\echo writer cannot read waiting scores
UPDATE agent_trace.agent_scores SET span_id = NULL;
\echo writer cannot update scores
\set VERBOSITY default
RESET ROLE;
SELECT project_id, trace_id, span_id, name, value, label, explanation, response_id, scored_at
  FROM agent_trace.agent_scores WHERE trace_id = '000000000000000000000000000000d1' ORDER BY project_id, score_key;
SELECT project_id, name, response_id FROM agent_trace.agent_scores_pending ORDER BY 1, score_key;
-- The other project's span of that response id comes in another way (no writer linking it):
-- maintain() sweeps, and links it to its own project's span only.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time, attributes, project_id)
VALUES ('000000000000000000000000000000d9', '00000000000000d9', 'chat', 'llm', '2026-11-10 18:30+00', '2026-11-10 18:31+00', '{"gen_ai.response.id": "resp-d1"}', 2);
SELECT * FROM agent_trace._maintain('2026-11-10 20:00+00') WHERE action <> 'created';
SELECT project_id, trace_id, span_id, name, value FROM agent_trace.agent_scores
 WHERE score_key = '00000000-0000-0000-0000-0000000000d4';
-- A waiting score sent again after it moved moves again onto its stored copy: stored once.
SET ROLE regress_scores_writer;
INSERT INTO agent_trace.agent_scores_pending (score_key, name, value, explanation, response_id, scored_at)
VALUES ('00000000-0000-0000-0000-0000000000d1', 'faithful', 0.9, 'cites the forecast', 'resp-d1', '2026-11-10 19:00+00');
SELECT agent_trace.link_written_scores(ARRAY[NULL]::agent_trace.trace_id[], ARRAY[1], ARRAY['resp-d1']);
RESET ROLE;
SELECT count(*) AS stored_once FROM agent_trace.agent_scores WHERE score_key = '00000000-0000-0000-0000-0000000000d1';
SELECT count(*) AS still_waiting FROM agent_trace.agent_scores_pending WHERE score_key = '00000000-0000-0000-0000-0000000000d1';
-- Readers see the waiting scores of their projects; a usage reader not their explanation.
SET ROLE regress_scores_reader;
SELECT project_id, name, response_id FROM agent_trace.agent_scores_pending;
SET ROLE regress_scores_other;
SELECT count(*) AS others_waiting FROM agent_trace.agent_scores_pending;
SET ROLE regress_scores_usage;
SELECT name, response_id FROM agent_trace.agent_scores_pending;
\set VERBOSITY terse
SELECT explanation FROM agent_trace.agent_scores_pending;
\set VERBOSITY default
RESET ROLE;
-- A waiting score's lookup can read the partial index of response ids in every partition (the
-- planner may still scan a partition this small).
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT s.trace_id, s.span_id FROM agent_trace.agent_spans AS s
 WHERE s.attributes ? 'gen_ai.response.id' AND s.attributes ->> 'gen_ai.response.id' = 'resp-never' AND s.project_id = 1;
RESET enable_seqscan;
-- Erasing a trace takes the scores still waiting for a response its spans carry (their span is
-- stored, but no link ran yet).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, start_time, end_time, attributes)
VALUES ('000000000000000000000000000000e1', '00000000000000e1', 'chat', 'llm', '2026-11-10 18:30+00', '2026-11-10 18:31+00', '{"gen_ai.response.id": "resp-e1"}');
INSERT INTO agent_trace.agent_scores_pending (score_key, name, label, explanation, response_id, scored_at)
VALUES ('00000000-0000-0000-0000-0000000000e1', 'faithful', 'no', 'quotes the user', 'resp-e1', '2026-11-10 19:00+00');
SELECT * FROM agent_trace.erase(trace_id => '000000000000000000000000000000e1') WHERE rows_removed > 0;
SELECT count(*) AS erased_waiting FROM agent_trace.agent_scores_pending WHERE response_id = 'resp-e1';

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
