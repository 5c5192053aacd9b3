-- The three roles, tried as login roles that hold one each (extension/sql/access.sql says what
-- each may do): the writer stores spans, log records and metric points and can do nothing else;
-- the usage reader reads numbers but no content; the reader reads everything. And the trace
-- functions cannot be made to run someone else's operator through the caller's search_path.
CREATE ROLE regress_roles_writer LOGIN IN ROLE agent_trace_writer;
CREATE ROLE regress_roles_ingest LOGIN BYPASSRLS IN ROLE agent_trace_writer;
CREATE ROLE regress_roles_usage LOGIN IN ROLE agent_trace_usage_reader;
CREATE ROLE regress_roles_reader LOGIN IN ROLE agent_trace_reader;
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('roles-model', '*', 1, 2);

------------------------------------------------------------------------------------------------------
-- The writer: inserting works (INSERT, INSERT .. ON CONFLICT DO NOTHING as the ingest's retries
-- do, through a temporary staging table), and the triggers fold and price what it stored with the
-- owner's rights. COPY is for a login that bypasses row-level security, as the ingest's does
-- (sql/ingest/ingest_role.sql): to the others PostgreSQL refuses it, and says to insert.
------------------------------------------------------------------------------------------------------
SET ROLE regress_roles_writer;
COPY agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, span_type, model, input_tokens, output_tokens, input, output) FROM STDIN;
\.
RESET ROLE;
SET ROLE regress_roles_ingest;
COPY agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, span_type, model, input_tokens, output_tokens, input, output) FROM STDIN;
c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0	c0c0c0c0c0c0c0c1	invoke_agent	2026-11-01 12:00:00+00	2026-11-01 12:00:03+00	agent	\N	\N	\N	the user's secret question	the agent's answer
\.
-- It still reads nothing: bypassing row-level security gives no privilege.
SELECT count(*) FROM agent_trace.agent_spans;
RESET ROLE;
SET ROLE regress_roles_writer;
CREATE TEMP TABLE staging (trace_id uuid, span_id macaddr8, parent_span_id macaddr8, name text,
                           start_time timestamptz, end_time timestamptz, span_type text, model text,
                           input_tokens bigint, output_tokens bigint, input text);
INSERT INTO staging VALUES
    ('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'c0c0c0c0c0c0c0c2', 'c0c0c0c0c0c0c0c1', 'chat roles-model',
     '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'llm', 'roles-model', 1000000, 1000000, 'the prompt');
-- Twice: the second time ON CONFLICT DO NOTHING skips the stored span (no SELECT privilege needed).
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, span_type, model, input_tokens, output_tokens, input)
SELECT trace_id::agent_trace.trace_id, span_id::agent_trace.span_id, parent_span_id::agent_trace.span_id, name,
       start_time, end_time, span_type, model, input_tokens, output_tokens, input
  FROM staging ON CONFLICT DO NOTHING;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, span_type, model, input_tokens, output_tokens, input)
SELECT trace_id::agent_trace.trace_id, span_id::agent_trace.span_id, parent_span_id::agent_trace.span_id, name,
       start_time, end_time, span_type, model, input_tokens, output_tokens, input
  FROM staging ON CONFLICT DO NOTHING;
INSERT INTO agent_trace.agent_logs (record_key, time, body, model, input_tokens, output_tokens)
VALUES ('00000000-0000-0000-0000-0000000000c0', '2026-11-01 12:00:00+00', 'a logged prompt', 'roles-model', 1000000, 0)
ON CONFLICT DO NOTHING;
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value)
VALUES ('00000000-0000-0000-0000-0000000000c0', 'tokens', 'gauge', '2026-11-01 12:00:00+00', 1)
ON CONFLICT DO NOTHING;

-- Reading anything back fails: content, numbers, the rows the triggers wrote.
SELECT count(*) FROM agent_trace.agent_spans WHERE input IS NOT NULL;
SELECT count(*) FROM agent_trace.agent_spans;
SELECT body FROM agent_trace.agent_logs;
SELECT count(*) FROM agent_trace.agent_metrics;
SELECT cost_usd FROM agent_trace.agent_traces;
SELECT count(*) FROM agent_trace.agent_span_costs;
SELECT count(*) FROM agent_trace.model_prices;
SELECT count(*) FROM agent_trace.agent_sessions;
-- So does changing anything stored.
UPDATE agent_trace.agent_traces SET cost_usd = 0;
UPDATE agent_trace.agent_spans SET input = NULL;
DELETE FROM agent_trace.agent_spans;
TRUNCATE agent_trace.agent_logs;
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 0;
INSERT INTO agent_trace.agent_traces (trace_id, start_time, end_time, span_count, error_count, llm_call_count, tool_call_count)
VALUES ('c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1', now(), now(), 1, 0, 0, 0);
INSERT INTO agent_trace.agent_span_costs (trace_id, span_id, start_time, computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
VALUES ('c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1', 'c1c1c1c1c1c1c1c1', now(), -1, 'x', 'x', '2026-01-01');
-- The trigger functions write with the owner's rights: nobody may call them, nor attach them to a
-- table of their own to feed them made-up spans.
CREATE TEMP TABLE fake_spans (LIKE staging);
CREATE TRIGGER fold AFTER INSERT ON fake_spans REFERENCING NEW TABLE AS new_spans
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._fold_inserted_spans();
CREATE TRIGGER cost BEFORE INSERT ON fake_spans FOR EACH ROW EXECUTE FUNCTION agent_trace._cost_inserted_log();
SELECT agent_trace.recompute_costs('-infinity', 'infinity');
SELECT * FROM agent_trace.price_for('roles-model', NULL, now());
SELECT * FROM agent_trace.trace_tree('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
-- Nor can it reach the server's files or programs (the SQLSTATE only: the message differs between
-- PostgreSQL versions).
\set VERBOSITY sqlstate
COPY (SELECT 1) TO PROGRAM 'id';
\set VERBOSITY default
DROP TABLE staging, fake_spans;
RESET ROLE;

-- What the writer stored, as the owner sees it: both spans once, the trace folded, the LLM span
-- and the log record priced (1M input + 1M output tokens at $1 + $2).
SELECT name, span_count, llm_call_count, input_tokens, computed_cost_usd, left(input, 12) AS input
  FROM agent_trace.agent_traces;
SELECT count(*) AS spans FROM agent_trace.agent_spans;
SELECT computed_cost_usd FROM agent_trace.agent_span_costs;
SELECT computed_cost_usd FROM agent_trace.agent_logs;

------------------------------------------------------------------------------------------------------
-- Even if a role had been given the trigger function (a mistake), it refuses to run anywhere but
-- on its own table.
------------------------------------------------------------------------------------------------------
CREATE TABLE regress_roles_fake_spans (LIKE agent_trace.agent_spans INCLUDING DEFAULTS);
CREATE TRIGGER fold AFTER INSERT ON regress_roles_fake_spans REFERENCING NEW TABLE AS new_spans
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._fold_inserted_spans();
INSERT INTO regress_roles_fake_spans (trace_id, span_id, name, start_time, end_time, span_type, cost_usd)
VALUES ('c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2', 'c2c2c2c2c2c2c2c2', 'made up', now(), now(), 'llm', -1000);
SELECT count(*) AS made_up_traces FROM agent_trace.agent_traces WHERE trace_id = 'c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2';
DROP TABLE regress_roles_fake_spans;

------------------------------------------------------------------------------------------------------
-- The usage reader: numbers yes, content no.
------------------------------------------------------------------------------------------------------
SET ROLE regress_roles_usage;
SELECT name, span_type, model, input_tokens, output_tokens, duration_ms FROM agent_trace.agent_spans ORDER BY start_time;
SELECT count(*) AS spans FROM agent_trace.agent_spans;
SELECT name, span_count, input_tokens, computed_cost_usd FROM agent_trace.agent_traces;
SELECT model, input_tokens, computed_cost_usd FROM agent_trace.agent_logs;
SELECT name, value FROM agent_trace.agent_metrics;
SELECT name, delta FROM agent_trace.agent_metric_deltas;
SELECT model_pattern, input_usd_per_mtok FROM agent_trace.model_prices WHERE model_pattern = 'roles-model';
SELECT computed_cost_usd FROM agent_trace.agent_span_costs;
SELECT tool, model_calls, input_tokens, computed_cost_usd FROM agent_trace.agent_sessions;
SELECT turn, name, input_tokens, computed_cost_usd FROM agent_trace.agent_turns;
SELECT tree_order, depth, name, subtree_input_tokens FROM agent_trace.trace_tree('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT step, name, critical_ms FROM agent_trace.critical_path('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT agent_trace.trace_tree_json('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0') ->> 'span_count' AS span_count;
SELECT tree_order, name FROM agent_trace.span_descendants('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'c0c0c0c0c0c0c0c1');
-- Content is refused, whichever way it is asked for.
SELECT input FROM agent_trace.agent_spans;
SELECT * FROM agent_trace.agent_spans;
SELECT output FROM agent_trace.agent_traces;
SELECT body FROM agent_trace.agent_logs;
SELECT attributes FROM agent_trace.agent_metrics;
SELECT * FROM agent_trace.replay('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT * FROM agent_trace.diff_traces('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
-- And it writes nothing.
INSERT INTO agent_trace.agent_logs (record_key, time) VALUES ('00000000-0000-0000-0000-0000000000c1', now());
RESET ROLE;

------------------------------------------------------------------------------------------------------
-- The reader: everything, content included; still no writing.
------------------------------------------------------------------------------------------------------
SET ROLE regress_roles_reader;
SELECT name, input, output FROM agent_trace.agent_spans ORDER BY start_time;
SELECT body FROM agent_trace.agent_logs;
SELECT step, name, input_differs FROM agent_trace.diff_traces('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT step, name, left(input, 10) AS input FROM agent_trace.replay('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
UPDATE agent_trace.agent_traces SET cost_usd = 0;
RESET ROLE;

------------------------------------------------------------------------------------------------------
-- A caller's search_path cannot hijack the trace functions. A schema of the caller's defines `=`
-- for exactly the id types the functions' query compares, which PostgreSQL would prefer to
-- pg_catalog's uuid and macaddr8 operators (an exact type match) if the functions ran under the
-- caller's search_path. First with the pinned search_path taken off trace_tree, to show the attack
-- works; then as installed.
------------------------------------------------------------------------------------------------------
CREATE SCHEMA regress_roles_evil;
CREATE FUNCTION regress_roles_evil.hijack(agent_trace.trace_id, uuid) RETURNS boolean
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked: the caller''s operator ran'; END $$;
CREATE OPERATOR regress_roles_evil.= (LEFTARG = agent_trace.trace_id, RIGHTARG = uuid, FUNCTION = regress_roles_evil.hijack);
GRANT USAGE ON SCHEMA regress_roles_evil TO regress_roles_reader;
ALTER FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) RESET search_path;
SET ROLE regress_roles_reader;
SET search_path = regress_roles_evil, pg_catalog;
SELECT count(*) FROM agent_trace.trace_tree('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
RESET ROLE;
RESET search_path;
ALTER FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;
SET ROLE regress_roles_reader;
SET search_path = regress_roles_evil, pg_catalog;
SELECT count(*) AS tree FROM agent_trace.trace_tree('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT agent_trace.trace_tree_json('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0') ->> 'span_count' AS tree_json;
SELECT count(*) AS critical_path FROM agent_trace.critical_path('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT count(*) AS diff FROM agent_trace.diff_traces('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0', 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
SELECT count(*) AS replay FROM agent_trace.replay('c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0');
RESET ROLE;
RESET search_path;
DROP SCHEMA regress_roles_evil CASCADE;

DROP ROLE regress_roles_writer;
DROP ROLE regress_roles_ingest;
DROP ROLE regress_roles_usage;
DROP ROLE regress_roles_reader;
