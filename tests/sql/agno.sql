-- AgentOS compatibility (extension/sql/agno.sql): what an AgentOS app reads from the schema
-- enable_agno_compat prepares, what it writes there, and what it may not touch.
-- ingest/tests/agno.rs drives a real AgentOS app against the same objects.
SET timezone = 'UTC';

-- Spans of three traces, inserted as the ingest inserts them:
--   ...01: a run of the GenAI conventions: its agent root, an LLM call, a tool call whose backend
--          call failed (only an exception event says why), a span whose parent never arrived, and a
--          second parentless span;
--   ...02: an Agno team run (OpenInference AGENT with a team id) with a workflow step (CHAIN);
--   ...03: a trace whose root has not arrived yet.
CREATE FUNCTION pg_temp.span(trace text, span text, parent text, name text, start_ms int, end_ms int,
                             attributes jsonb, status text DEFAULT 'UNSET', events jsonb DEFAULT '[]')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, start_time, end_time,
        status_code, events, attributes, span_type, model, input_tokens, output_tokens, tool_name,
        agent_name, agent_id, session_id, user_id, run_id, team_id, input, output, service_name)
    SELECT trace::agent_trace.trace_id, span::agent_trace.span_id, parent::agent_trace.span_id, name,
           timestamptz '2026-11-01 12:00:00+00' + start_ms * interval '1 ms',
           timestamptz '2026-11-01 12:00:00+00' + end_ms * interval '1 ms',
           status, events, attributes, m.span_type, m.model, m.input_tokens, m.output_tokens, m.tool_name,
           m.agent_name, m.agent_id, m.session_id, m.user_id, m.run_id, m.team_id, m.input, m.output, 'svc'
      FROM agent_trace._span_columns(name, attributes) AS m
$$;

SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000001', NULL, 'invoke_agent weather', 0, 900,
    '{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "weather", "gen_ai.conversation.id": "sess-1",
      "user.id": "user-1", "gen_ai.input.messages": "What is the weather in Paris?"}');
SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000002', '0000000000000001', 'chat gpt-4o', 10, 300,
    '{"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 42,
      "gen_ai.usage.output_tokens": 17, "gen_ai.output.messages": "Sunny."}');
SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000003', '0000000000000001', 'execute_tool weather', 310, 400,
    '{"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "weather", "gen_ai.tool.call.arguments": "{\"city\": \"Paris\"}"}');
SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000004', '0000000000000003', 'http GET backend', 320, 390,
    '{}', 'ERROR', '[{"name": "exception", "time": "2026-11-01T12:00:00.390Z", "attributes": {"exception.message": "backend timeout"}}]');
SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000005', '00000000000000ff', 'orphan', 500, 510, '{}');
SELECT pg_temp.span('00000000000000000000000000000001', '0000000000000006', NULL, 'second root', 600, 610, '{}');
SELECT pg_temp.span('00000000000000000000000000000002', '0000000000000021', NULL, 'travel_team.run', 1000, 1500,
    '{"openinference.span.kind": "AGENT", "agno.team.id": "travel-team", "agno.run.id": "run-1", "input.value": "Plan a trip"}');
SELECT pg_temp.span('00000000000000000000000000000002', '0000000000000022', '0000000000000021', 'step plan', 1010, 1400,
    '{"openinference.span.kind": "CHAIN"}');
SELECT pg_temp.span('00000000000000000000000000000003', '0000000000000031', '0000000000000030', 'waiting child', 2000, 2100,
    '{"openinference.span.kind": "TOOL", "tool.name": "lookup"}');

-- Prepare schema ai (AgentOS's default db_schema): the traces so far are copied.
SELECT agent_trace.enable_agno_compat('ai') AS traces_copied;
\d ai.agno_traces
\d ai.agno_spans

-- agno_traces: AgentOS's columns, times as ISO-8601 text; a trace without its root is named after
-- its earliest span; the agent id falls back to the agent's name.
SELECT trace_id, name, status, start_time, end_time, duration_ms, run_id, session_id, user_id, agent_id,
       team_id, root_span_id
  FROM ai.agno_traces ORDER BY start_time;

-- agno_spans: the orphan and the second parentless span hang from the root, so AgentOS's tree
-- (built down from the parentless spans) shows every span; types, models, tokens, inputs, outputs
-- and the exception's message as AgentOS reads them.
SELECT span_id, parent_span_id, name, span_kind, status_code, start_time, duration_ms,
       attributes ->> 'openinference.span.kind' AS kind, attributes ->> 'llm.model_name' AS model,
       attributes -> 'llm.token_count.prompt' AS prompt_tokens, attributes ->> 'tool.name' AS tool,
       attributes ->> 'input.value' AS input, attributes ->> 'output.value' AS output,
       attributes ->> 'exception.message' AS error, attributes ->> 'agno.team.id' AS team
  FROM ai.agno_spans ORDER BY trace_id, start_time;

-- The trace without a root: its only span stands at the top until the root arrives.
SELECT span_id, parent_span_id FROM ai.agno_spans WHERE trace_id = '00000000000000000000000000000003';
SELECT pg_temp.span('00000000000000000000000000000003', '0000000000000030', NULL, 'late root', 1990, 2200,
    '{"openinference.span.kind": "AGENT", "agno.agent.id": "late-agent"}');
SELECT span_id, parent_span_id FROM ai.agno_spans WHERE trace_id = '00000000000000000000000000000003'
 ORDER BY start_time;
SELECT name, start_time, duration_ms, agent_id, root_span_id FROM ai.agno_traces
 WHERE trace_id = '00000000000000000000000000000003';

-- AgentOS's own trace upsert (INSERT .. ON CONFLICT (trace_id) DO UPDATE, as agno.db.postgres
-- writes it) is skipped: agent_trace derives that row from the spans. Its span INSERT is stored.
INSERT INTO ai.agno_traces (trace_id, name, status, start_time, end_time, duration_ms, created_at)
VALUES ('00000000000000000000000000000002', 'hijacked', 'OK', '2026-11-01T12:00:01+00:00',
        '2026-11-01T12:00:02+00:00', 1000, '2026-11-01T12:00:02+00:00')
ON CONFLICT (trace_id) DO UPDATE SET name = excluded.name;
INSERT INTO ai.agno_traces (trace_id, name, status, start_time, end_time, duration_ms, created_at)
VALUES ('00000000000000000000000000000099', 'invented', 'OK', '2026-11-01T12:00:01+00:00',
        '2026-11-01T12:00:02+00:00', 1000, '2026-11-01T12:00:02+00:00');
UPDATE ai.agno_traces SET name = 'renamed';
DELETE FROM ai.agno_traces;
SELECT trace_id, name FROM ai.agno_traces ORDER BY trace_id;

-- An Agno span, as Agno's DatabaseSpanExporter inserts it (ISO times, hex ids, the OpenInference
-- attributes of its instrumentation): stored in agent_spans with its typed columns. Sent again, it
-- is skipped.
INSERT INTO ai.agno_spans (span_id, trace_id, parent_span_id, name, span_kind, status_code, status_message,
                           start_time, end_time, duration_ms, attributes, created_at)
VALUES ('0000000000000023', '00000000000000000000000000000002', '0000000000000022', 'OpenAIChat.invoke',
        'INTERNAL', 'OK', NULL, '2026-11-01T12:00:01.020000+00:00', '2026-11-01T12:00:01.300000+00:00', 280,
        '{"openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini", "llm.provider": "OpenAI",
          "llm.token_count.prompt": 42, "llm.token_count.completion": 17, "input.value": "{\"messages\": []}",
          "output.value": "[{\"role\": \"assistant\", \"content\": \"Go to Lisbon.\"}]"}',
        '2026-11-01T12:00:01.300001+00:00');
INSERT INTO ai.agno_spans (span_id, trace_id, parent_span_id, name, span_kind, status_code, status_message,
                           start_time, end_time, duration_ms, attributes, created_at)
SELECT span_id, trace_id, parent_span_id, name, span_kind, status_code, status_message, start_time, end_time,
       duration_ms, attributes, created_at
  FROM ai.agno_spans WHERE trace_id = '00000000000000000000000000000002';
SELECT span_id, name, span_type, model, provider, input_tokens, output_tokens, team_id, run_id, input, output,
       service_name, end_time - start_time AS took
  FROM agent_trace.agent_spans WHERE trace_id = '00000000000000000000000000000002' ORDER BY start_time;
SELECT span_count, llm_call_count, input_tokens, output_tokens, team_id FROM agent_trace.agent_traces
 WHERE trace_id = '00000000000000000000000000000002';
SELECT name, status, duration_ms FROM ai.agno_traces WHERE trace_id = '00000000000000000000000000000002';

-- The mapping in SQL, on values clients really send: numbers as strings or whole doubles; an
-- unusable count (negative) is NULL and does not fall through to the next key; an empty string is
-- not present and does; Claude Code's input_tokens add its cache counts; identities fall back to
-- the resource; span types from every dialect.
SELECT m.input_tokens, m.output_tokens, m.cache_read_tokens, m.reasoning_tokens, m.cost_usd, m.model
  FROM agent_trace._span_columns('x', '{"gen_ai.usage.input_tokens": " 42 ", "gen_ai.usage.output_tokens": 17.0,
       "gen_ai.usage.cache_read.input_tokens": "1.5e3", "gen_ai.usage.reasoning.output_tokens": -3,
       "llm.token_count.completion_details.reasoning": 5, "gen_ai.usage.cost": "0.0125",
       "gen_ai.request.model": "", "gen_ai.response.model": "gpt-4o-2024-08-06"}') AS m;
SELECT m.input_tokens, m.cache_read_tokens, m.cache_write_tokens, m.output_tokens
  FROM agent_trace._span_columns('claude_code.llm_request', '{"input_tokens": "42", "cache_read_tokens": 100,
       "cache_creation_tokens": "8", "output_tokens": 17}') AS m;
SELECT m.session_id, m.user_id, m.agent_name
  FROM agent_trace._span_columns('x', '{"user.id": "span-user"}',
       '{"session.id": "resource-session", "user.id": "resource-user", "gen_ai.agent.name": "resource-agent"}') AS m;
SELECT name, attributes, (agent_trace._span_columns(name, attributes)).span_type
  FROM (VALUES ('a', '{"openinference.span.kind": "llm"}'::jsonb),
               ('a', '{"openinference.span.kind": "AGENT", "agno.team.id": "t"}'),
               ('a', '{"openinference.span.kind": "NOPE", "gen_ai.operation.name": "embeddings"}'),
               ('claude_code.tool', '{}'),
               ('x', '{"span.type": "hook"}'),
               ('codex turn', '{"codex.turn.token_usage.input_tokens": 1}'),
               ('handle_responses', '{"codex.usage.reasoning_output_tokens": 1}'),
               ('x', '{"openinference.span.kind": 7}')) AS t(name, attributes);

-- A compatible schema never costs a span: if its copy cannot be written, the span is stored all
-- the same and a warning says why.
ALTER TABLE ai.agno_traces ADD CONSTRAINT no_boom CHECK (name <> 'boom');
SELECT pg_temp.span('00000000000000000000000000000004', '0000000000000041', NULL, 'boom', 3000, 3100, '{}');
SELECT count(*) AS stored FROM agent_trace.agent_spans WHERE name = 'boom';
SELECT count(*) AS copied FROM ai.agno_traces WHERE trace_id = '00000000000000000000000000000004';
ALTER TABLE ai.agno_traces DROP CONSTRAINT no_boom;
-- Running enable_agno_compat again rebuilds the copy.
SELECT agent_trace.enable_agno_compat('ai') AS traces_copied;

-- AgentOS opens a span by its id alone (GET /traces/{id}?span_id=): the indexes enable_agno_compat
-- made find it and its trace row (seq scans are off only because these tables are tiny).
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT span_id, trace_id, name FROM ai.agno_spans WHERE span_id = '0000000000000003';
SELECT span_id, trace_id, name FROM ai.agno_spans WHERE span_id = '0000000000000003';
RESET enable_seqscan;
-- One span id index serves every compatible schema: disabling one keeps it for the others.
SELECT agent_trace.enable_agno_compat('ai_second') AS traces_copied;
SELECT agent_trace.disable_agno_compat('ai_second');
SELECT to_regclass('agent_trace.agent_spans_agno_span_id_idx') AS span_id_index;
DROP SCHEMA ai_second;

-- Deleting traces (retention) deletes their copies; so does TRUNCATE.
DELETE FROM agent_trace.agent_traces WHERE trace_id = '00000000000000000000000000000004';
SELECT count(*) FROM ai.agno_traces;

-- Privileges: readers read both relations; writers (insert-only) insert spans through the view, which
-- stores them with the owner's rights, and cannot write the copy (a writer alone may not even send
-- AgentOS's upsert, which reads its key; an AgentOS app's role, reader and writer, has it skipped:
-- above, and ingest/tests/agno.rs); others get nothing.
CREATE ROLE regress_agno_reader LOGIN IN ROLE agent_trace_reader;
CREATE ROLE regress_agno_writer LOGIN IN ROLE agent_trace_writer;
CREATE ROLE regress_agno_nobody LOGIN;
SET ROLE regress_agno_reader;
SELECT count(*) FROM ai.agno_traces;
SELECT count(*) FROM ai.agno_spans;
SET ROLE regress_agno_writer;
INSERT INTO ai.agno_spans (span_id, trace_id, name, span_kind, status_code, start_time, end_time, duration_ms, attributes, created_at)
VALUES ('0000000000000051', '00000000000000000000000000000005', 'writer.run', 'INTERNAL', 'OK',
        '2026-11-01T12:00:05+00:00', '2026-11-01T12:00:06+00:00', 1000, '{"openinference.span.kind": "AGENT"}',
        '2026-11-01T12:00:06+00:00');
INSERT INTO ai.agno_traces (trace_id, name, status, start_time, end_time, duration_ms, created_at)
VALUES ('00000000000000000000000000000005', 'forged', 'OK', '2026-11-01T12:00:05+00:00',
        '2026-11-01T12:00:06+00:00', 1000, '2026-11-01T12:00:06+00:00')
ON CONFLICT (trace_id) DO UPDATE SET name = excluded.name;
SELECT count(*) FROM ai.agno_spans;
SET ROLE regress_agno_nobody;
SELECT count(*) FROM ai.agno_spans;
RESET ROLE;
SELECT name, span_count FROM agent_trace.agent_traces WHERE trace_id = '00000000000000000000000000000005';
SELECT trace_id, name FROM ai.agno_traces WHERE trace_id = '00000000000000000000000000000005';

-- Errors: a schema where AgentOS made its own tables is refused (and never dropped), as is no schema.
CREATE SCHEMA agno_own;
CREATE TABLE agno_own.agno_traces (trace_id varchar PRIMARY KEY);
CREATE TABLE agno_own.agno_spans (span_id varchar PRIMARY KEY);
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    state text; message text; detail text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN concat_ws(E'\n', state || ': ' || message, nullif(detail, ''), nullif(hint, ''));
END
$$;
SELECT pg_temp.error_of($$SELECT agent_trace.enable_agno_compat('agno_own')$$);
SELECT pg_temp.error_of($$SELECT agent_trace.disable_agno_compat('agno_own')$$);
SELECT pg_temp.error_of($$SELECT agent_trace.enable_agno_compat('')$$);
SELECT count(*) AS agno_own_tables_kept FROM pg_class WHERE relnamespace = 'agno_own'::regnamespace AND relkind = 'r';
SELECT agent_trace.disable_agno_compat('no_such_schema');

TRUNCATE agent_trace.agent_traces;
SELECT count(*) FROM ai.agno_traces;

-- The copy is written with the extension owner's rights, so only into tables that role owns. A role
-- that is given a compatible schema's table (ALTER TABLE .. OWNER TO) and puts a trigger on it
-- does not get that trigger run with those rights: the copy skips the table.
CREATE ROLE regress_agno_evil LOGIN;
SELECT agent_trace.enable_agno_compat('evil') AS copied;
ALTER TABLE evil.agno_traces OWNER TO regress_agno_evil;
GRANT USAGE ON SCHEMA evil TO regress_agno_evil;
CREATE SCHEMA evil_code AUTHORIZATION regress_agno_evil;
SET ROLE regress_agno_evil;
CREATE FUNCTION evil_code.take_over() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    ALTER ROLE regress_agno_evil SUPERUSER;
    RETURN NEW;
END
$$;
CREATE TRIGGER take_over BEFORE INSERT OR UPDATE ON evil.agno_traces
    FOR EACH ROW EXECUTE FUNCTION evil_code.take_over();
RESET ROLE;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1', 'e1e1e1e1e1e1e1e1', 'after the take-over attempt', now(), now());
SELECT rolsuper AS evil_is_superuser FROM pg_roles WHERE rolname = 'regress_agno_evil';
SELECT count(*) AS copied_into_the_taken_table FROM evil.agno_traces;
SELECT count(*) AS copied_into_ai FROM ai.agno_traces WHERE trace_id = 'e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1';
DROP SCHEMA evil, evil_code CASCADE;
DROP OWNED BY regress_agno_evil;
DROP ROLE regress_agno_evil;

-- The objects are not part of the extension: DROP EXTENSION refuses while they depend on it;
-- disable_agno_compat drops them (no span or trace is touched).
DROP EXTENSION agent_trace;
SELECT agent_trace.disable_agno_compat('ai');
SELECT count(*) AS relations_left FROM pg_class WHERE relnamespace = 'ai'::regnamespace;
SELECT to_regclass('agent_trace.agent_spans_agno_span_id_idx') AS span_id_index;
SELECT count(*) AS spans_kept FROM agent_trace.agent_spans;
DROP EXTENSION agent_trace;
DROP ROLE regress_agno_reader, regress_agno_writer, regress_agno_nobody;
