-- Projects (extension/sql/projects.sql, access.sql): two projects, a reader login for each, a writer
-- login for one. Each reader sees only its project's rows through every table, view and function;
-- a span sent to B with the ids of A's trace is B's trace and changes nothing of A's; a writer
-- inserts only into the projects granted to it; tokens are stored hashed; and nobody can ask which
-- projects another role may read.
CREATE ROLE regress_projects_a LOGIN IN ROLE agent_trace_reader;
CREATE ROLE regress_projects_b LOGIN IN ROLE agent_trace_reader;
CREATE ROLE regress_projects_b_usage LOGIN IN ROLE agent_trace_usage_reader;
CREATE ROLE regress_projects_writer_a LOGIN IN ROLE agent_trace_writer;
SELECT agent_trace.create_project('team-a') AS a, agent_trace.create_project('team-b') AS b;
SELECT agent_trace.grant_project('team-a', 'regress_projects_a');
SELECT agent_trace.grant_project('team-b', 'regress_projects_b');
SELECT agent_trace.grant_project('team-b', 'regress_projects_b_usage');
SELECT agent_trace.grant_project('team-a', 'regress_projects_writer_a', 'write');
-- A name that is not a project's, and a project name that breaks the rule.
SELECT agent_trace.grant_project('team-c', 'regress_projects_a');
\set VERBOSITY terse
SELECT agent_trace.create_project('Team C');
\set VERBOSITY default
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('projects-model', '*', 1, 2);

-- The same trace id in both projects (as the ingest stores them: each with its token's project),
-- with a prompt each, a priced LLM call each, a log record and a metric point each.
INSERT INTO agent_trace.agent_spans (trace_id, project_id, span_id, parent_span_id, name, start_time,
    end_time, span_type, model, input_tokens, output_tokens, session_id, input)
VALUES ('dddddddddddddddddddddddddddddddd', 2, 'a000000000000001', NULL, 'run of a',
        '2026-11-01 12:00:00+00', '2026-11-01 12:00:05+00', 'agent', NULL, NULL, NULL, 'session-x', 'secret of a'),
       ('dddddddddddddddddddddddddddddddd', 2, 'a000000000000002', 'a000000000000001', 'chat projects-model',
        '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'llm', 'projects-model', 1000000, 0, 'session-x', 'prompt of a'),
       ('dddddddddddddddddddddddddddddddd', 3, 'a000000000000001', NULL, 'run of b',
        '2026-11-01 11:00:00+00', '2026-11-01 12:00:05+00', 'agent', NULL, NULL, NULL, 'session-x', 'secret of b'),
       ('dddddddddddddddddddddddddddddddd', 3, 'b000000000000002', 'a000000000000001', 'chat projects-model',
        '2026-11-01 11:00:01+00', '2026-11-01 11:00:02+00', 'llm', 'projects-model', 0, 1000000, 'session-x', 'prompt of b');
INSERT INTO agent_trace.agent_logs (record_key, project_id, time, session_id, body, model, input_tokens, output_tokens)
VALUES ('00000000-0000-0000-0000-0000000000da', 2, '2026-11-01 12:00:00+00', 'session-x', 'log of a', 'projects-model', 10, 0),
       ('00000000-0000-0000-0000-0000000000da', 3, '2026-11-01 12:00:00+00', 'session-x', 'log of b', 'projects-model', 20, 0);
INSERT INTO agent_trace.agent_metrics (series_key, project_id, name, kind, temporality, time, value)
VALUES ('00000000-0000-0000-0000-0000000000da', 2, 'tokens', 'sum', 'delta', '2026-11-01 12:00:00+00', 1),
       ('00000000-0000-0000-0000-0000000000da', 3, 'tokens', 'sum', 'delta', '2026-11-01 12:00:00+00', 2);

-- Two traces, one per project; B's earlier root did not become A's root.
SELECT project_id, name, span_count, input_tokens, output_tokens, computed_cost_usd, input
  FROM agent_trace.agent_traces ORDER BY project_id;

------------------------------------------------------------------------------------------------------
-- Reader of A: A's rows only, through every table, view and function.
------------------------------------------------------------------------------------------------------
-- The trace functions plan their queries once per session and keep the plans (api.rs): made here
-- by the superuser, who reads both projects' spans, they must still read as each role below.
SELECT tree_order, name, computed_cost_usd FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd');
SET SESSION AUTHORIZATION regress_projects_a;
SELECT project_id, name, input FROM agent_trace.agent_spans ORDER BY span_id;
SELECT project_id, name, input FROM agent_trace.agent_traces;
SELECT project_id, computed_cost_usd FROM agent_trace.agent_span_costs;
SELECT project_id, body FROM agent_trace.agent_logs;
SELECT project_id, value FROM agent_trace.agent_metrics;
SELECT project_id, delta FROM agent_trace.agent_metric_deltas;
SELECT session_id, project_id, model_calls, input_tokens, output_tokens FROM agent_trace.agent_sessions;
SELECT project_id, turn, name FROM agent_trace.agent_turns;
SELECT tree_order, name FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd');
SELECT agent_trace.trace_tree_json('dddddddddddddddddddddddddddddddd') ->> 'span_count' AS span_count;
SELECT step, name FROM agent_trace.critical_path('dddddddddddddddddddddddddddddddd');
SELECT step, name, input FROM agent_trace.replay('dddddddddddddddddddddddddddddddd');
SELECT jsonb_array_length(agent_trace.replay_json('dddddddddddddddddddddddddddddddd') -> 'steps') AS steps;
SELECT spans_a, spans_b FROM agent_trace.diff_summary('dddddddddddddddddddddddddddddddd', 'dddddddddddddddddddddddddddddddd');
SELECT count(*) AS diff_rows FROM agent_trace.diff_traces('dddddddddddddddddddddddddddddddd', 'dddddddddddddddddddddddddddddddd');
SELECT tree_order, name FROM agent_trace.span_descendants('dddddddddddddddddddddddddddddddd', 'a000000000000001');
SELECT * FROM agent_trace.readable_projects();
-- Narrowed to one project by name: still only what the role may read.
SET agent_trace.project = 'team-b';
SELECT count(*) AS spans_of_b FROM agent_trace.agent_spans;
SET agent_trace.project = 'team-a';
SELECT count(*) AS spans_of_a FROM agent_trace.agent_spans;
RESET agent_trace.project;
-- Who may read what is not for readers to see, nor are the tokens.
SELECT count(*) FROM agent_trace.project_grants;
SELECT count(*) FROM agent_trace.ingest_tokens;
-- Nor can a reader ask for another role's projects.
SELECT agent_trace._projects_granted('read', 'regress_projects_b');
SELECT * FROM agent_trace._readable_projects('regress_projects_b');
RESET SESSION AUTHORIZATION;

------------------------------------------------------------------------------------------------------
-- Reader of B, and a usage reader of B: B's rows only.
------------------------------------------------------------------------------------------------------
SET ROLE regress_projects_b;
SELECT project_id, name, input FROM agent_trace.agent_spans ORDER BY span_id;
SELECT project_id, name, input FROM agent_trace.agent_traces;
SELECT project_id, body FROM agent_trace.agent_logs;
SELECT step, name, input FROM agent_trace.replay('dddddddddddddddddddddddddddddddd');
SELECT session_id, project_id, input_tokens, output_tokens FROM agent_trace.agent_sessions;
-- The same session read A's trace above: the kept plans read B's spans and costs now.
SELECT tree_order, name, computed_cost_usd, subtree_computed_cost_usd FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd');
SELECT step, name FROM agent_trace.critical_path('dddddddddddddddddddddddddddddddd');
SELECT count(*) AS diff_rows FROM agent_trace.diff_traces('dddddddddddddddddddddddddddddddd', 'dddddddddddddddddddddddddddddddd');
RESET ROLE;
SET ROLE regress_projects_b_usage;
SELECT project_id, name, input_tokens, output_tokens FROM agent_trace.agent_traces;
SELECT project_id, delta FROM agent_trace.agent_metric_deltas;
SELECT project_id, turn, name FROM agent_trace.agent_turns;
-- A usage reader gets the tree (no content in it) of its project only, and not the diff (which reads
-- input and output), also after roles that may read more planned them in this session.
SELECT tree_order, name, computed_cost_usd FROM agent_trace.trace_tree('dddddddddddddddddddddddddddddddd');
SELECT count(*) FROM agent_trace.diff_traces('dddddddddddddddddddddddddddddddd', 'dddddddddddddddddddddddddddddddd');
RESET ROLE;

------------------------------------------------------------------------------------------------------
-- The writer of A: inserts into A, and into the default project (as a member of agent_trace_writer,
-- which may write that); it cannot put a row in B.
------------------------------------------------------------------------------------------------------
SET ROLE regress_projects_writer_a;
INSERT INTO agent_trace.agent_spans (trace_id, project_id, span_id, name, start_time, end_time)
VALUES ('dddddddddddddddddddddddddddddddd', 2, 'a000000000000003', 'more of a', '2026-11-01 12:00:03+00', '2026-11-01 12:00:04+00');
\set VERBOSITY terse
INSERT INTO agent_trace.agent_spans (trace_id, project_id, span_id, name, start_time, end_time)
VALUES ('dddddddddddddddddddddddddddddddd', 3, 'a000000000000003', 'into b', '2026-11-01 12:00:03+00', '2026-11-01 12:00:04+00');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('dddddddddddddddddddddddddddddddd', 'a000000000000003', 'into default', '2026-11-01 12:00:03+00', '2026-11-01 12:00:04+00');
INSERT INTO agent_trace.agent_logs (record_key, project_id, time) VALUES ('00000000-0000-0000-0000-0000000000db', 3, now());
INSERT INTO agent_trace.agent_metrics (series_key, project_id, name, kind, time) VALUES ('00000000-0000-0000-0000-0000000000db', 3, 'x', 'gauge', now());
\set VERBOSITY default
RESET ROLE;
SELECT project_id, span_count FROM agent_trace.agent_traces ORDER BY project_id;

------------------------------------------------------------------------------------------------------
-- Tokens: shown once, stored as their SHA-256, listed for the ingest by digest and project, revoked.
------------------------------------------------------------------------------------------------------
SELECT agent_trace.create_ingest_token('team-a', 'agents of a') AS token \gset
SELECT :'token' ~ '^at_[0-9a-f]{64}$' AS looks_right;
SELECT project_id, name, token_sha256 = sha256(convert_to(:'token', 'UTF8')) AS stored_as_digest,
       position(convert_to(:'token', 'UTF8') IN token_sha256) = 0 AS token_not_stored
  FROM agent_trace.ingest_tokens;
SELECT project_id, token_sha256 = sha256(convert_to(:'token', 'UTF8')) AS found FROM agent_trace._ingest_tokens();
SELECT agent_trace.create_ingest_token('team-a', ' ');
SELECT agent_trace.create_ingest_token('team-z', 'x');
SELECT agent_trace.revoke_ingest_token(token_id) FROM agent_trace.ingest_tokens;
SELECT agent_trace.revoke_ingest_token(token_id) FROM agent_trace.ingest_tokens;
SELECT count(*) AS valid_tokens FROM agent_trace._ingest_tokens();
-- Only the owner (or whoever it grants) manages projects and tokens; the ingest's login may read the
-- digests and nothing else.
SET ROLE regress_projects_writer_a;
SELECT agent_trace.create_ingest_token('team-a', 'stolen');
SELECT agent_trace.grant_project('team-b', 'regress_projects_writer_a', 'write');
SELECT count(*) AS digests_readable_by_the_ingest FROM agent_trace._ingest_tokens();
SELECT count(*) FROM agent_trace.ingest_tokens;
RESET ROLE;
SET ROLE regress_projects_a;
SELECT agent_trace.create_project('mine');
SELECT count(*) FROM agent_trace._ingest_tokens();
RESET ROLE;

-- Revoking a grant takes the rows away.
SELECT agent_trace.revoke_project('team-a', 'regress_projects_a');
SET ROLE regress_projects_a;
SELECT count(*) AS spans FROM agent_trace.agent_spans;
RESET ROLE;

-- A granted role that is dropped leaves its grant behind (DROP ROLE cannot see it); the grant then
-- counts for nobody, and everybody else reads on.
DROP ROLE regress_projects_b_usage;
SET ROLE regress_projects_b;
SELECT count(*) AS spans FROM agent_trace.agent_spans;
RESET ROLE;
DROP ROLE regress_projects_a;
DROP ROLE regress_projects_b;
DROP ROLE regress_projects_writer_a;
