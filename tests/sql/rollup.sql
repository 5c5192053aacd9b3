-- agent_traces is maintained by the database as spans are inserted: in any order, in any batches,
-- re-sent or not, the trace row comes out the same, and usage is never counted twice.
SET timezone = 'UTC';

-- One agent run: an agent span (repeating its children's usage, as wrappers often do), two LLM
-- calls, a tool call that failed, and an embedding call.
CREATE TEMP TABLE run (
    span_id text, parent_span_id text, name text, span_type text, status_code text,
    start_ms int, end_ms int, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
    cost_usd numeric, session_id text, user_id text, agent_name text, input text, output text);
INSERT INTO run VALUES
    ('a000000000000001', NULL,               'invoke_agent weather', 'agent', 'OK',     0, 900, 84, 34, 10, 0.0030, 'sess-1', 'user-1', 'weather', 'What is the weather in Paris?', 'Sunny, 21 C.'),
    ('a000000000000002', 'a000000000000001', 'chat gpt-4o',          'llm',   'OK',    10, 300, 42, 17, 10, 0.0010, 'sess-1', NULL, 'weather', NULL, NULL),
    ('a000000000000003', 'a000000000000001', 'execute_tool weather', 'tool',  'ERROR', 310, 400, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    ('a000000000000004', 'a000000000000001', 'chat gpt-4o',          'llm',   'OK',   410, 880, 42, 17, NULL, 0.0020, 'sess-1', NULL, 'weather', NULL, NULL),
    ('a000000000000005', 'a000000000000004', 'embeddings',           'embedding', 'UNSET', 420, 430, 5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

-- Inserts the run's spans (optionally only some of them) under one trace id, the way the ingest
-- does: ON CONFLICT DO NOTHING, so re-sent spans are skipped.
CREATE FUNCTION pg_temp.send(trace text, only_spans text[] DEFAULT NULL, ordering text DEFAULT 'asc')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, status_code,
        start_time, end_time, input_tokens, output_tokens, cache_read_tokens, cost_usd, session_id,
        user_id, agent_name, input, output, service_name)
    SELECT trace::agent_trace.trace_id, r.span_id::agent_trace.span_id, r.parent_span_id::agent_trace.span_id,
           r.name, r.span_type, r.status_code,
           timestamptz '2026-11-01 12:00:00+00' + r.start_ms * interval '1 ms',
           timestamptz '2026-11-01 12:00:00+00' + r.end_ms * interval '1 ms',
           r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cost_usd, r.session_id, r.user_id,
           r.agent_name, r.input, r.output, 'weather-svc'
      FROM run AS r
     WHERE only_spans IS NULL OR r.span_id = ANY (only_spans)
     ORDER BY CASE WHEN ordering = 'asc' THEN r.span_id END, r.span_id DESC
        ON CONFLICT DO NOTHING
$$;

-- Trace 1: all spans in one statement.
SELECT pg_temp.send('11111111111111111111111111111111');
SELECT trace_id, name, status, start_time, end_time, duration_ms, span_count, error_count,
       llm_call_count, tool_call_count, input_tokens, output_tokens, cache_read_tokens,
       cache_write_tokens, reasoning_tokens, cost_usd, service_name, session_id, user_id, agent_name,
       input, output, root_span_id
  FROM agent_trace.agent_traces;

-- Usage comes from the LLM and embedding spans only: 42+42+5 input tokens, not 84 more from the
-- agent span that repeats them.
SELECT sum(input_tokens) FILTER (WHERE span_type IN ('llm', 'embedding')) AS llm_input_tokens,
       sum(input_tokens) AS naive_sum_would_be
  FROM agent_trace.agent_spans;

-- Trace 2: the same run, one span per statement, children before parents.
SELECT pg_temp.send('22222222222222222222222222222222', ARRAY['a000000000000005']);
SELECT pg_temp.send('22222222222222222222222222222222', ARRAY['a000000000000004']);
SELECT name, span_count, input_tokens, root_span_id FROM agent_trace.agent_traces
 WHERE trace_id = '22222222222222222222222222222222';
SELECT pg_temp.send('22222222222222222222222222222222', ARRAY['a000000000000003', 'a000000000000001'], 'desc');
SELECT pg_temp.send('22222222222222222222222222222222', ARRAY['a000000000000002']);

-- Trace 3: every span sent three times, in overlapping batches, as a retrying client would.
SELECT pg_temp.send('33333333333333333333333333333333', ARRAY['a000000000000001', 'a000000000000002']);
SELECT pg_temp.send('33333333333333333333333333333333');
SELECT pg_temp.send('33333333333333333333333333333333', NULL, 'desc');
SELECT count(*) AS stored_spans FROM agent_trace.agent_spans WHERE trace_id = '33333333333333333333333333333333';

-- All three traces have the same row, field for field.
SELECT count(DISTINCT (name, status, start_time, end_time, span_count, error_count, llm_call_count,
                       tool_call_count, input_tokens, output_tokens, cache_read_tokens, cost_usd,
                       service_name, session_id, user_id, agent_name, input, output, root_span_id,
                       root_start_time)) AS distinct_rows,
       count(*) AS traces
  FROM agent_trace.agent_traces;

-- And each row equals a from-scratch aggregation of the stored spans.
SELECT t.trace_id
  FROM agent_trace.agent_traces AS t
  JOIN LATERAL (
        SELECT min(s.start_time) AS start_time, max(s.end_time) AS end_time, count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS input_tokens,
               sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS output_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd
          FROM agent_trace.agent_spans AS s WHERE s.trace_id = t.trace_id) AS full_scan ON true
 WHERE (t.start_time, t.end_time, t.span_count, t.error_count, t.input_tokens, t.output_tokens, t.cost_usd)
       IS DISTINCT FROM (full_scan.start_time, full_scan.end_time, full_scan.span_count::int,
                         full_scan.error_count::int, full_scan.input_tokens, full_scan.output_tokens,
                         full_scan.cost_usd);

-- A plain INSERT of a stored span fails on the key and leaves the trace row untouched.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, input_tokens, span_type)
VALUES ('11111111111111111111111111111111', 'a000000000000002', 'chat gpt-4o',
        '2026-11-01 12:00:00.01+00', '2026-11-01 12:00:00.3+00', 42, 'llm');
\echo :SQLSTATE
SELECT span_count, input_tokens FROM agent_trace.agent_traces WHERE trace_id = '11111111111111111111111111111111';

-- Two parentless spans: the earlier one names the trace, whichever arrives first.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('44444444444444444444444444444444', 'b000000000000002', 'late root', '2026-11-01 12:00:05+00', '2026-11-01 12:00:06+00');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('44444444444444444444444444444444', 'b000000000000001', 'early root', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('55555555555555555555555555555555', 'b000000000000001', 'early root', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('55555555555555555555555555555555', 'b000000000000002', 'late root', '2026-11-01 12:00:05+00', '2026-11-01 12:00:06+00');
SELECT trace_id, name, root_span_id, span_count, duration_ms, input_tokens, status
  FROM agent_trace.agent_traces
 WHERE trace_id IN ('44444444444444444444444444444444', '55555555555555555555555555555555')
 ORDER BY trace_id;

-- An orphan (its parent never arrives) is counted; the trace has no root and no name yet.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, span_type, input_tokens)
VALUES ('66666666666666666666666666666666', 'c000000000000002', 'c000000000000001', 'chat', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'llm', 7);
SELECT name, root_span_id, span_count, llm_call_count, input_tokens FROM agent_trace.agent_traces
 WHERE trace_id = '66666666666666666666666666666666';

-- Vocabulary columns reject what is not in their vocabulary. (Terse: the row in DETAIL has created_at.)
\set VERBOSITY terse
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, span_type)
VALUES ('77777777777777777777777777777777', 'd000000000000001', 'x', '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', 'LLM');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, status_code)
VALUES ('77777777777777777777777777777777', 'd000000000000001', 'x', '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', 'STATUS_CODE_ERROR');
\echo :SQLSTATE

-- Deletes, re-inserts and updates keep every trace equal to a from-scratch aggregation of the
-- spans stored now: every column, the computed costs included. drift() lists what differs.
\set VERBOSITY default
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', '*', 2.5, 10);
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/sql/include/drift.sql
-- Spans of a new trace, priced by the price above (each LLM span reports tokens, no cost).
CREATE FUNCTION pg_temp.send_priced(trace text, span text, parent text, start_s int, tokens bigint,
                                    user_id text DEFAULT NULL, name text DEFAULT 'chat gpt-4o')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, provider,
                                         start_time, end_time, input_tokens, output_tokens, user_id, input)
    VALUES (trace::agent_trace.trace_id, span::agent_trace.span_id, parent::agent_trace.span_id, name,
            'llm', 'gpt-4o', 'openai', timestamptz '2026-11-02 12:00:00+00' + start_s * interval '1 s',
            timestamptz '2026-11-02 12:00:01+00' + start_s * interval '1 s', tokens, tokens / 10, user_id,
            'prompt of ' || span)
    ON CONFLICT DO NOTHING
$$;
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000001', NULL, 0, 1000, 'user-b', 'root');
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000002', 'e000000000000001', 5, 2000, 'user-a');
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000003', 'e000000000000001', 9, 4000);
SELECT * FROM pg_temp.drift();

-- The issue that started this: insert a span, delete it, insert it again. It counts once.
DELETE FROM agent_trace.agent_spans WHERE trace_id = '88888888888888888888888888888888' AND span_id = 'e000000000000003';
SELECT span_count, input_tokens, computed_cost_usd, end_time FROM agent_trace.agent_traces
 WHERE trace_id = '88888888888888888888888888888888';
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000003', 'e000000000000001', 9, 4000);
SELECT span_count, input_tokens, computed_cost_usd, end_time FROM agent_trace.agent_traces
 WHERE trace_id = '88888888888888888888888888888888';
SELECT * FROM pg_temp.drift();

-- Deleting the root: the trace has no root, no name, no input; the least user id left is user-a.
DELETE FROM agent_trace.agent_spans WHERE trace_id = '88888888888888888888888888888888' AND span_id = 'e000000000000001';
SELECT span_count, name, root_span_id, input, user_id, start_time FROM agent_trace.agent_traces
 WHERE trace_id = '88888888888888888888888888888888';
SELECT * FROM pg_temp.drift();

-- An update is a delete and an insert: the tokens and the computed cost follow it.
UPDATE agent_trace.agent_spans SET input_tokens = 100000 WHERE span_id = 'e000000000000002';
SELECT span_count, input_tokens, computed_cost_usd FROM agent_trace.agent_traces
 WHERE trace_id = '88888888888888888888888888888888';
-- Moving a span to another trace moves its usage and cost with it.
UPDATE agent_trace.agent_spans SET trace_id = '99999999999999999999999999999999' WHERE span_id = 'e000000000000003';
SELECT trace_id, span_count, input_tokens, computed_cost_usd FROM agent_trace.agent_traces
 WHERE trace_id IN ('88888888888888888888888888888888', '99999999999999999999999999999999') ORDER BY 1;
SELECT * FROM pg_temp.drift();

-- Deleting a trace's last span removes its row.
DELETE FROM agent_trace.agent_spans WHERE trace_id = '99999999999999999999999999999999';
SELECT count(*) AS rows_of_emptied_trace FROM agent_trace.agent_traces WHERE trace_id = '99999999999999999999999999999999';
-- Deleting many traces at once, and re-sending them all.
CREATE TEMP TABLE kept AS SELECT * FROM agent_trace.agent_spans;
DELETE FROM agent_trace.agent_spans WHERE start_time < '2026-11-02';
SELECT count(*) AS traces_left FROM agent_trace.agent_traces;
INSERT INTO agent_trace.agent_spans (
    trace_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type,
    status_code, status_message, service_name, scope_name, scope_version, model, provider,
    input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
    tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id, workflow_id,
    correlation_id, input, output, attributes, resource_attributes, events, links, created_at,
    project_id)
SELECT trace_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type,
       status_code, status_message, service_name, scope_name, scope_version, model, provider,
       input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
       cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id, workflow_id,
       correlation_id, input, output, attributes, resource_attributes, events, links, created_at,
       project_id
  FROM kept AS k ON CONFLICT DO NOTHING;
SELECT count(*) AS traces FROM agent_trace.agent_traces;
SELECT * FROM pg_temp.drift();

-- A row deleted behind the triggers' back (or lost in a restore) comes back with refresh_traces,
-- which says how many traces it changed: none when agent_traces was right.
ALTER TABLE agent_trace.agent_traces DISABLE TRIGGER USER;
DELETE FROM agent_trace.agent_traces WHERE trace_id = '11111111111111111111111111111111';
UPDATE agent_trace.agent_traces SET span_count = 99 WHERE trace_id = '22222222222222222222222222222222';
ALTER TABLE agent_trace.agent_traces ENABLE TRIGGER USER;
-- A span loaded into a partition directly (no trigger of the parent fires), a week after its trace.
INSERT INTO agent_trace_partitions.agent_spans_default (trace_id, span_id, parent_span_id, name, span_type,
                                                        start_time, end_time, input_tokens)
VALUES ('33333333333333333333333333333333', 'f000000000000001', 'a000000000000001', 'late', 'llm',
        '2026-11-08 12:00:00+00', '2026-11-08 12:00:01+00', 1000);
SELECT * FROM pg_temp.drift() ORDER BY 1, 2;
SELECT agent_trace.refresh_traces('-infinity', 'infinity') AS traces_changed;
SELECT agent_trace.refresh_traces('-infinity', 'infinity') AS traces_changed_again;
SELECT * FROM pg_temp.drift();
SELECT agent_trace.refresh_traces(NULL, now());

-- A trace's service is its root span's, even when the root has none (spans inserted by SQL or by
-- AgentOS may carry none): the fold gives what a recompute gives, whichever order they come in.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, service_name)
VALUES ('99999999999999999999999999999999', 'c000000000000002', 'c000000000000001', 'child', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'zeta'),
       ('99999999999999999999999999999999', 'c000000000000003', 'c000000000000001', 'child', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'alpha');
SELECT service_name AS before_the_root FROM agent_trace.agent_traces WHERE trace_id = '99999999999999999999999999999999';
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('99999999999999999999999999999999', 'c000000000000001', 'root without a service', '2026-11-01 12:00:00+00', '2026-11-01 12:00:03+00');
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time, service_name)
VALUES ('99999999999999999999999999999999', 'c000000000000004', 'c000000000000001', 'child', '2026-11-01 12:00:01+00', '2026-11-01 12:00:02+00', 'aaa');
SELECT service_name AS after_the_root, root_span_id FROM agent_trace.agent_traces WHERE trace_id = '99999999999999999999999999999999';
SELECT agent_trace.refresh_traces('2026-11-01', '2026-11-02') AS recomputed_changed;

-- TRUNCATE empties the traces and the computed costs with the spans; a TRUNCATE that names them too
-- works as well.
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000009', NULL, 0, 1000);
TRUNCATE agent_trace.agent_spans, agent_trace.agent_traces, agent_trace.agent_span_costs;
SELECT pg_temp.send_priced('88888888888888888888888888888888', 'e000000000000009', NULL, 0, 1000);
TRUNCATE agent_trace.agent_spans;
SELECT (SELECT count(*) FROM agent_trace.agent_traces) AS traces, (SELECT count(*) FROM agent_trace.agent_span_costs) AS costs;

-- The trigger refuses to run on any other table.
CREATE TEMP TABLE not_spans (trace_id agent_trace.trace_id);
CREATE TRIGGER borrowed AFTER DELETE ON not_spans REFERENCING OLD TABLE AS old_spans
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._follow_span_changes();
INSERT INTO not_spans VALUES ('11111111111111111111111111111111');
DELETE FROM not_spans;
