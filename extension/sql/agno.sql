-- AgentOS compatibility: an unmodified Agno AgentOS app whose `db` is PostgresDb(db_schema = S)
-- lists and opens every trace agent_trace holds, and its own spans are stored in agent_spans.
--
-- What AgentOS 3.x (agno.db.postgres) needs in schema S, and what agent_trace.enable_agno_compat(S)
-- creates for it:
--
--   S.agno_traces  a TABLE whose primary key is trace_id: AgentOS lists traces with
--                  `SELECT agno_traces.*, count(agno_spans.span_id) ... GROUP BY agno_traces.trace_id`,
--                  which PostgreSQL accepts only over a table with that key (over a view: GroupingError).
--                  It is a copy of agent_traces in AgentOS's shapes (ISO-8601 text times, hex text ids),
--                  kept current by statement triggers on agent_traces. AgentOS's own upserts into it
--                  (INSERT .. ON CONFLICT DO UPDATE, which no view can take) are skipped by a row
--                  trigger: agent_trace derives the same row from the spans.
--   S.agno_spans   a VIEW over agent_spans in AgentOS's shapes, with the attributes AgentOS reads
--                  (openinference.span.kind, llm.model_name, llm.token_count.*, input.value,
--                  output.value, ...) filled from the typed columns, so traces of every client show
--                  their node types, models, tokens, inputs and outputs. An INSTEAD OF INSERT trigger
--                  stores AgentOS's span inserts (one INSERT per span) in agent_spans, with the typed
--                  columns mapped from the attributes in SQL (agent_trace._span_columns).
--
-- A schema is compatible while its agno_traces table carries the guard trigger
-- (agno_traces_written_by_agent_trace): the triggers on agent_traces find their targets that way, so
-- nothing outside the schema records it (a registry
-- table would have to be dumped and restored in step with the schema; triggers and indexes a user
-- adds to an extension's table are not dumped at all).
--
-- Ids and times are text as AgentOS writes and compares them: ids lowercase hex, times ISO 8601 in
-- UTC with microseconds ('2026-11-29T16:23:40.368150+00:00'), compared and sorted as text, so those
-- columns use the "C" collation (byte order is time order; other collations may ignore punctuation).

------------------------------------------------------------------------------------------------------
-- The span mapping in SQL, for spans that arrive through agno_spans instead of OTLP
------------------------------------------------------------------------------------------------------
-- This is the one place the ingest's mapping (ingest/src/map/spans.rs) exists twice. AgentOS writes
-- spans with SQL INSERTs, so only the database sees them; a Rust function in the extension would need
-- the ingest's mapping crate (and its OTLP types) inside PostgreSQL. The key lists below are keys.rs's,
-- in the same order (a test in keys.rs compares them name for name), and the rules are attrs.rs's:
-- "present" is neither missing, null nor an empty string; a present but unusable value gives NULL;
-- numbers may be strings. ingest/tests/agno.rs maps every captured request both ways and compares.
-- One difference remains: a non-string value in a text column is written by jsonb (with spaces
-- after ',' and ':'), by the ingest as compact JSON.

CREATE TYPE agent_trace.mapped_span AS (
    span_type           text,
    model               text,
    provider            text,
    input_tokens        bigint,
    output_tokens       bigint,
    cache_read_tokens   bigint,
    cache_write_tokens  bigint,
    reasoning_tokens    bigint,
    cost_usd            numeric,
    tool_name           text,
    agent_name          text,
    agent_id            text,
    session_id          text,
    user_id             text,
    run_id              text,
    team_id             text,
    workflow_id         text,
    correlation_id      text,
    input               text,
    output              text
);
COMMENT ON TYPE agent_trace.mapped_span IS
    'The typed columns of agent_spans that agent_trace._span_columns maps from a span''s name and attributes.';

-- The helpers below run for every span AgentOS inserts, each span in its own transaction, so they
-- are PL/pgSQL: a SQL function with a pinned search_path is never inlined, and is parsed and planned
-- again in every statement that calls it, where PL/pgSQL keeps its plans for the session.

CREATE FUNCTION agent_trace._first_present(attributes jsonb, keys text[]) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
    value jsonb;
BEGIN
    FOREACH key IN ARRAY keys LOOP
        value := attributes -> key;
        IF value IS NOT NULL AND value <> 'null' AND value <> '""' THEN
            RETURN value;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._first_present(jsonb, text[]) IS
    'Internal: the value of the first key present in attributes (not missing, not null, not an empty string).';

CREATE FUNCTION agent_trace._text(value jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' ELSE value::text END;
END
$$;
COMMENT ON FUNCTION agent_trace._text(jsonb) IS
    'Internal: a text column''s value: a JSON string as its text, any other value as its JSON text.';

CREATE FUNCTION agent_trace._identity(attributes jsonb, resource_attributes jsonb, keys text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN agent_trace._text(coalesce(agent_trace._first_present(attributes, keys),
                                      agent_trace._first_present(resource_attributes, keys)));
END
$$;
COMMENT ON FUNCTION agent_trace._identity(jsonb, jsonb, text[]) IS
    'Internal: an identity column (agent, session, user, ...): the first key present in the span''s attributes, else in its resource''s, as text.';

-- A number as Rust reads it (attrs.rs): integer syntax as an i64, anything else as the nearest f64.
CREATE FUNCTION agent_trace._parse_number(value jsonb, OUT as_integer bigint, OUT as_double double precision)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    text_value text;
    n numeric;
BEGIN
    CASE jsonb_typeof(value)
        WHEN 'number' THEN text_value := value #>> '{}';
        WHEN 'string' THEN text_value := btrim(value #>> '{}', E' \t\n\r\f\v');
        ELSE RETURN;
    END CASE;
    IF text_value ~ '^[+-]?[0-9]+$' THEN
        n := text_value::numeric;
        IF abs(n) < 9223372036854775808 OR n = -9223372036854775808 THEN
            as_integer := n;
            as_double := n;
        END IF;
    ELSIF text_value ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
        n := text_value::numeric;
        -- Beyond a double's range Rust reads infinity, which no column takes.
        IF abs(n) <= 1.7976931348623157e308 THEN
            as_double := text_value::double precision;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION agent_trace._parse_number(jsonb) IS
    'Internal: a JSON number, or a string holding one, as Rust parses it (ingest/src/map/attrs.rs): integer syntax as as_integer (an i64) and as_double, any other decimal as as_double (the nearest double); NULLs when it is neither or out of range.';

CREATE FUNCTION agent_trace._token_count(value jsonb) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    -- A non-negative i64; a double counts when it is whole and below 2^63 in magnitude.
    p := agent_trace._parse_number(value);
    IF p.as_integer IS NOT NULL THEN
        RETURN CASE WHEN p.as_integer >= 0 THEN p.as_integer END;
    END IF;
    IF p.as_double >= 0 AND p.as_double < 9223372036854775808 AND p.as_double = trunc(p.as_double) THEN
        RETURN p.as_double::bigint;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._token_count(jsonb) IS
    'Internal: a token count: a non-negative integer, also sent as a string or a whole double; NULL otherwise.';

CREATE FUNCTION agent_trace._cost(value jsonb) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- As the ingest stores a reported cost: the double, as the shortest decimal that reads back as it
    -- (the double's text with extra_float_digits = 1, which _span_columns sets).
    RETURN (agent_trace._parse_number(value)).as_double::text::numeric;
END
$$;
COMMENT ON FUNCTION agent_trace._cost(jsonb) IS
    'Internal: a reported cost: any finite number, also sent as a string, stored as the ingest stores it.';

CREATE FUNCTION agent_trace._lookup(value text, pairs text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := lower(value COLLATE "C");
BEGIN
    -- pairs: key, span_type, key, span_type, ...; keys match ignoring ASCII case.
    FOR i IN 1..coalesce(array_length(pairs, 1), 0) BY 2 LOOP
        IF lower(pairs[i] COLLATE "C") = wanted THEN
            RETURN pairs[i + 1];
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._lookup(text, text[]) IS
    'Internal: the value paired with the first key of pairs (key, value, key, value, ...) equal to value ignoring ASCII case.';

CREATE FUNCTION agent_trace._span_type(name text, attributes jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
BEGIN
    -- spans.rs span_type(): the first that decides. Only string values are looked up.
    kind := agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'openinference.span.kind') = 'string'
                                     THEN attributes ->> 'openinference.span.kind' END,
        ARRAY[ /* OPENINFERENCE_KINDS */ 'LLM', 'llm', 'EMBEDDING', 'embedding', 'CHAIN', 'chain',
               'RETRIEVER', 'retriever', 'RERANKER', 'reranker', 'TOOL', 'tool', 'AGENT', 'agent',
               'GUARDRAIL', 'guardrail', 'EVALUATOR', 'evaluator', 'PROMPT', 'prompt']);
    IF kind IS NOT NULL THEN
        -- Agno marks a team run as an AGENT span that carries a team id.
        RETURN CASE WHEN kind = 'agent' AND agent_trace._first_present(attributes, ARRAY['agno.team.id']) IS NOT NULL
                    THEN 'team' ELSE kind END;
    END IF;
    kind := coalesce(
        agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'gen_ai.operation.name') = 'string'
                                 THEN attributes ->> 'gen_ai.operation.name' END,
            ARRAY[ /* GENAI_OPERATIONS */ 'chat', 'llm', 'text_completion', 'llm', 'generate_content', 'llm',
                   'embeddings', 'embedding', 'retrieval', 'retriever', 'execute_tool', 'tool',
                   'invoke_agent', 'agent', 'create_agent', 'agent', 'invoke_workflow', 'workflow']),
        agent_trace._lookup(name,
            ARRAY[ /* VENDOR_SPAN_NAMES */ 'claude_code.interaction', 'agent', 'claude_code.llm_request', 'llm',
                   'claude_code.tool', 'tool', 'claude_code.hook', 'hook',
                   'claude_code.tool.blocked_on_user', 'other', 'claude_code.tool.execution', 'other',
                   'llm_call', 'llm', 'tool_call', 'tool', 'codex.exec', 'agent']),
        agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'span.type') = 'string'
                                 THEN attributes ->> 'span.type' END,
            ARRAY[ /* CLAUDE_SPAN_TYPES */ 'interaction', 'agent', 'llm_request', 'llm', 'tool', 'tool', 'hook', 'hook']));
    IF kind IS NOT NULL THEN
        RETURN kind;
    END IF;
    -- Codex: per-turn usage makes an agent span, per-response usage an LLM call.
    IF EXISTS (SELECT FROM jsonb_object_keys(attributes) AS k WHERE starts_with(k, 'codex.turn.token_usage.')) THEN
        RETURN 'agent';
    END IF;
    IF EXISTS (SELECT FROM jsonb_object_keys(attributes) AS k WHERE starts_with(k, 'codex.usage.')) THEN
        RETURN 'llm';
    END IF;
    RETURN 'other';
END
$$;
COMMENT ON FUNCTION agent_trace._span_type(text, jsonb) IS
    'Internal: the span_type of a span from its name and attributes, by the ingest''s rules (ingest/src/map/spans.rs).';

CREATE FUNCTION agent_trace._span_columns(name text, attributes jsonb, resource_attributes jsonb DEFAULT '{}')
    RETURNS agent_trace.mapped_span
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 1  -- a double's text is then the shortest that reads back as it (_cost)
AS $$
DECLARE
    a jsonb := CASE WHEN jsonb_typeof(attributes) = 'object' THEN attributes ELSE '{}' END;
    r jsonb := CASE WHEN jsonb_typeof(resource_attributes) = 'object' THEN resource_attributes ELSE '{}' END;
    m agent_trace.mapped_span;
    input_keys text[] := ARRAY[ /* INPUT_TOKENS */ 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens',
        'llm.token_count.prompt', 'input_tokens', 'codex.turn.token_usage.input_tokens'];
    input_key text;
    key text;
BEGIN
    m.span_type := agent_trace._span_type(name, a);
    m.model := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* MODEL */ 'gen_ai.request.model',
        'gen_ai.response.model', 'llm.model_name', 'embedding.model_name', 'llm.response.model_name', 'model']));
    m.provider := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* PROVIDER */ 'gen_ai.provider.name',
        'gen_ai.system', 'llm.provider', 'llm.system']));
    -- Input tokens include cached ones: Claude Code's input_tokens leaves them out, so its two cache
    -- counts are added to it (saturating, as the ingest does).
    FOREACH key IN ARRAY input_keys LOOP
        IF a -> key NOT IN ('null', '""') THEN
            input_key := key;
            EXIT;
        END IF;
    END LOOP;
    m.input_tokens := agent_trace._token_count(a -> input_key);
    IF input_key = 'input_tokens' AND m.input_tokens IS NOT NULL THEN
        m.input_tokens := least(m.input_tokens::numeric
            + coalesce(agent_trace._token_count(agent_trace._first_present(a, ARRAY['cache_read_tokens'])), 0)
            + coalesce(agent_trace._token_count(agent_trace._first_present(a, ARRAY['cache_creation_tokens'])), 0),
            9223372036854775807)::bigint;
    END IF;
    m.output_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* OUTPUT_TOKENS */
        'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion',
        'output_tokens', 'codex.turn.token_usage.output_tokens']));
    m.cache_read_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* CACHE_READ_TOKENS */
        'gen_ai.usage.cache_read.input_tokens', 'llm.token_count.prompt_details.cache_read', 'cache_read_tokens',
        'codex.turn.token_usage.cached_input_tokens']));
    m.cache_write_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* CACHE_WRITE_TOKENS */
        'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write.input_tokens',
        'llm.token_count.prompt_details.cache_write', 'cache_creation_tokens',
        'codex.turn.token_usage.cache_write_input_tokens']));
    m.reasoning_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* REASONING_TOKENS */
        'gen_ai.usage.reasoning.output_tokens', 'llm.token_count.completion_details.reasoning',
        'codex.usage.reasoning_output_tokens', 'codex.turn.token_usage.reasoning_output_tokens']));
    m.cost_usd := agent_trace._cost(agent_trace._first_present(a, ARRAY[ /* COST_USD */ 'gen_ai.usage.cost',
        'llm.cost.total', 'cost_usd']));
    m.tool_name := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* TOOL_NAME */ 'gen_ai.tool.name',
        'tool.name', 'tool_name']));
    -- Identity columns: the span's own value, else the resource's (one process is often one agent,
    -- session or user).
    m.agent_name := agent_trace._identity(a, r, ARRAY[ /* AGENT_NAME */ 'gen_ai.agent.name', 'agent.name',
        'graph.node.name']);
    m.agent_id := agent_trace._identity(a, r, ARRAY[ /* AGENT_ID */ 'gen_ai.agent.id', 'agno.agent.id']);
    m.session_id := agent_trace._identity(a, r, ARRAY[ /* SESSION_ID */ 'gen_ai.conversation.id', 'session.id',
        'agno.session.id', 'conversation.id']);
    m.user_id := agent_trace._identity(a, r, ARRAY[ /* USER_ID */ 'user.id', 'agno.user.id']);
    m.run_id := agent_trace._identity(a, r, ARRAY[ /* RUN_ID */ 'agno.run.id', 'run_id']);
    m.team_id := agent_trace._identity(a, r, ARRAY[ /* TEAM_ID */ 'agno.team.id']);
    m.workflow_id := agent_trace._identity(a, r, ARRAY[ /* WORKFLOW_ID */ 'gen_ai.workflow.name',
        'agno.workflow.id']);
    m.correlation_id := agent_trace._identity(a, r, ARRAY[ /* CORRELATION_ID */ 'correlation.id',
        'correlation_id']);
    m.input := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* INPUT */ 'gen_ai.input.messages',
        'gen_ai.tool.call.arguments', 'gen_ai.system_instructions', 'input.value', 'tool.parameters',
        'tool.arguments', 'user_prompt']));
    m.output := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* OUTPUT */ 'gen_ai.output.messages',
        'gen_ai.tool.call.result', 'output.value', 'tool.result']));
    RETURN m;
END
$$;
COMMENT ON FUNCTION agent_trace._span_columns(text, jsonb, jsonb) IS
    'Internal: the typed columns of agent_spans from a span''s name, attributes and resource attributes, with the ingest''s key priorities and rules (ingest/src/map/spans.rs). Used for spans AgentOS inserts through agno_spans.';

------------------------------------------------------------------------------------------------------
-- Reading: agent_spans and agent_traces in AgentOS's shapes
------------------------------------------------------------------------------------------------------

-- PL/pgSQL, as the helpers above: these two run for every trace row a span insert changes.
CREATE FUNCTION agent_trace._agno_time(value timestamptz) RETURNS text
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Python's datetime.isoformat() of a UTC time, always with microseconds, so text order is time order.
    RETURN to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"');
END
$$;
COMMENT ON FUNCTION agent_trace._agno_time(timestamptz) IS
    'Internal: a time as AgentOS stores it: ISO 8601 in UTC with microseconds, e.g. 2026-11-29T16:23:40.368150+00:00.';

-- One row of S.agno_traces. Every compatible schema's table is created OF this type, so the shape
-- is defined once, here. root_span_id is not AgentOS's: its spans view hangs the tree from it.
CREATE TYPE agent_trace.agno_trace AS (
    trace_id     text COLLATE "C",
    name         text,
    status       text,
    start_time   text COLLATE "C",
    end_time     text COLLATE "C",
    duration_ms  bigint,
    run_id       text,
    session_id   text,
    user_id      text,
    agent_id     text,
    team_id      text,
    workflow_id  text,
    created_at   text COLLATE "C",
    root_span_id text COLLATE "C"
);
COMMENT ON TYPE agent_trace.agno_trace IS
    'A row of AgentOS''s agno_traces table as enable_agno_compat creates it: one trace of agent_traces with text ids and ISO-8601 text times.';

CREATE FUNCTION agent_trace._agno_trace(t agent_trace.agent_traces) RETURNS agent_trace.agno_trace
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r agent_trace.agno_trace;
BEGIN
    r.trace_id := t.trace_id::text;
    r.name := t.name;
    IF r.name IS NULL THEN
        -- Until the root span arrives, the name of the earliest span (AgentOS needs a name).
        SELECT s.name INTO r.name FROM agent_trace.agent_spans AS s
         WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id
           AND s.start_time >= t.start_time AND s.start_time <= t.end_time
         ORDER BY s.start_time, s.span_id LIMIT 1;
    END IF;
    r.status := t.status;
    r.start_time := agent_trace._agno_time(t.start_time);
    r.end_time := agent_trace._agno_time(t.end_time);
    r.duration_ms := trunc(t.duration_ms)::bigint;
    r.run_id := t.run_id;
    r.session_id := t.session_id;
    r.user_id := t.user_id;
    -- AgentOS filters and groups by agent id; clients of the GenAI conventions often send only a name.
    r.agent_id := coalesce(t.agent_id, t.agent_name);
    r.team_id := t.team_id;
    r.workflow_id := t.workflow_id;
    r.created_at := agent_trace._agno_time(t.created_at);
    r.root_span_id := t.root_span_id::text;
    RETURN r;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_trace(agent_trace.agent_traces) IS
    'Internal: an agent_traces row as a row of AgentOS''s agno_traces: name (until the root span arrives, the earliest span''s), status, times as ISO-8601 text, duration_ms truncated to whole milliseconds, agent_id (else agent_name).';

CREATE FUNCTION agent_trace._agno_attributes(s agent_trace.agent_spans) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- The attributes AgentOS reads (agno/os/routers/traces/schemas.py), from the typed columns, over
    -- the span's own: every client's span shows its type, model, tokens, input, output and error the
    -- way the ingest understood them.
    SELECT s.attributes || jsonb_strip_nulls(jsonb_build_object(
        'openinference.span.kind', CASE s.span_type
            WHEN 'agent' THEN 'AGENT' WHEN 'team' THEN 'AGENT' WHEN 'llm' THEN 'LLM' WHEN 'tool' THEN 'TOOL'
            WHEN 'chain' THEN 'CHAIN' WHEN 'workflow' THEN 'CHAIN' WHEN 'retriever' THEN 'RETRIEVER'
            WHEN 'embedding' THEN 'EMBEDDING' WHEN 'reranker' THEN 'RERANKER' WHEN 'guardrail' THEN 'GUARDRAIL'
            WHEN 'evaluator' THEN 'EVALUATOR' WHEN 'prompt' THEN 'PROMPT' END,
        'agno.team.id', CASE WHEN s.span_type = 'team' THEN s.team_id END,
        'llm.model_name', s.model,
        'llm.token_count.prompt', s.input_tokens,
        'llm.token_count.completion', s.output_tokens,
        'tool.name', s.tool_name,
        'input.value', s.input,
        'output.value', s.output,
        'session.id', s.session_id,
        'user.id', s.user_id,
        'agno.run.id', s.run_id,
        -- The error of a failed span without a status message: its exception event's message.
        'exception.message', CASE WHEN s.status_code = 'ERROR' AND s.status_message IS NULL THEN
            (SELECT e -> 'attributes' ->> 'exception.message' FROM jsonb_array_elements(s.events) AS e
              WHERE e ->> 'name' = 'exception' LIMIT 1) END))
$$;
COMMENT ON FUNCTION agent_trace._agno_attributes(agent_trace.agent_spans) IS
    'Internal: a span''s attributes with the OpenInference keys AgentOS reads set from its typed columns (span kind, model, tokens, tool, input, output, session, user, run, exception message).';

------------------------------------------------------------------------------------------------------
-- Keeping S.agno_traces current
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._agno_traces_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- agent_trace's own writes come from _agno_sync_traces, a trigger that runs as its owner
    -- (SECURITY DEFINER), or on Citus from _agno_copy_traces (as its owner, saying so): those pass.
    -- Anything else (AgentOS's upsert of its trace summary, which agent_trace derives from the spans
    -- itself, or a writer forging a row) is skipped.
    IF (pg_trigger_depth() > 1 OR current_setting('agent_trace_agno.copying', true) = 'on')
       AND current_user = (SELECT proowner::regrole::name FROM pg_proc
                            WHERE oid = 'agent_trace._agno_sync_traces()'::regprocedure) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_traces_guard() IS
    'Trigger function: lets through the writes to an AgentOS agno_traces table that agent_trace''s own trigger makes (as its owner) and skips every other (AgentOS''s own trace upserts, a forged row). Its presence on a table marks the table''s schema as compatible.';

CREATE FUNCTION agent_trace._agno_compat_tables()
    RETURNS TABLE (compat_table regclass, project_id integer)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Looked up by name in both catalogs' indexes: the copy trigger asks for every statement that
    -- writes agent_traces, and pg_trigger can hold many rows. PL/pgSQL keeps the plan for the session.
    -- Only tables the current role owns: the copy trigger runs as the extension's owner and must
    -- not write, with those rights, into a table someone else owns (whose own triggers would run).
    -- The project is the guard trigger's argument, which enable_agno_compat sets.
    RETURN QUERY
        SELECT c.oid::regclass, tg.tgargs_project
          FROM pg_class AS c
          JOIN LATERAL (SELECT convert_from(substring(t.tgargs FROM 1 FOR length(t.tgargs) - 1), 'UTF8')::integer
                                   AS tgargs_project
                          FROM pg_trigger AS t
                         WHERE t.tgrelid = c.oid AND t.tgname = 'agno_traces_written_by_agent_trace'
                           AND t.tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure
                           AND t.tgnargs = 1) AS tg ON true
         WHERE c.relname = 'agno_traces' AND c.relkind = 'r'
           AND c.relowner = (SELECT r.oid FROM pg_roles AS r WHERE r.rolname = current_user)
         ORDER BY c.oid;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_compat_tables() IS
    'Internal: the agno_traces tables of every schema prepared by enable_agno_compat (those carrying its guard trigger) that the current role owns, in creation order, with the project each shows.';

CREATE FUNCTION agent_trace._agno_sync_traces() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
    project integer;
BEGIN
    -- The fold's upsert fires the INSERT and the UPDATE trigger; one of them usually has no rows.
    IF TG_OP <> 'TRUNCATE' THEN
        IF NOT EXISTS (SELECT FROM changed_traces) THEN
            RETURN NULL;
        END IF;
    END IF;
    FOR target, project IN SELECT * FROM agent_trace._agno_compat_tables() LOOP
        -- A compatible schema must never cost a span: if its table cannot be written (dropped
        -- columns, missing privileges), the spans are stored all the same and a warning says why.
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                EXECUTE format('DELETE FROM %s', target);
            ELSIF TG_OP = 'DELETE' THEN
                EXECUTE format('DELETE FROM %s AS c USING changed_traces AS o
                                 WHERE c.trace_id = o.trace_id::text AND o.project_id = $1', target)
                  USING project;
            ELSE
                -- In trace_id order, as the fold writes agent_traces: concurrent writers lock rows in
                -- one order.
                EXECUTE format(
                    'INSERT INTO %s AS c SELECT r.* FROM changed_traces AS n, agent_trace._agno_trace(n) AS r
                      WHERE n.project_id = $1
                      ORDER BY r.trace_id
                         ON CONFLICT (trace_id) DO UPDATE SET
                            name = excluded.name, status = excluded.status, start_time = excluded.start_time,
                            end_time = excluded.end_time, duration_ms = excluded.duration_ms,
                            run_id = excluded.run_id, session_id = excluded.session_id,
                            user_id = excluded.user_id, agent_id = excluded.agent_id,
                            team_id = excluded.team_id, workflow_id = excluded.workflow_id,
                            created_at = excluded.created_at, root_span_id = excluded.root_span_id', target)
                  USING project;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'agent_trace: AgentOS table % not updated: %', target, SQLERRM
                USING HINT = 'agent_trace.enable_agno_compat(schema) rebuilds it.';
        END;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_sync_traces() IS
    'Trigger function: copies the agent_traces rows a statement inserted, updated or deleted into the agno_traces table of every schema prepared by enable_agno_compat for their project, with the rights of the extension''s owner (SECURITY DEFINER), and only into tables that role owns. Internal.';

CREATE TRIGGER agent_traces_agno_insert
    AFTER INSERT ON agent_trace.agent_traces
    REFERENCING NEW TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_update
    AFTER UPDATE ON agent_trace.agent_traces
    REFERENCING NEW TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_delete
    AFTER DELETE ON agent_trace.agent_traces
    REFERENCING OLD TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_truncate
    AFTER TRUNCATE ON agent_trace.agent_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();

-- On Citus, where the triggers above cannot run (distribute() drops them: no transition tables on
-- distributed tables), _refresh_traces calls this for the traces it recomputed.
CREATE FUNCTION agent_trace._agno_copy_traces(trace_ids agent_trace.trace_id[], project_ids integer[])
    RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
    project integer;
    wanted agent_trace.trace_id[];
BEGIN
    FOR target, project IN SELECT * FROM agent_trace._agno_compat_tables() LOOP
        wanted := ARRAY(SELECT k.trace_id FROM unnest(trace_ids, project_ids) AS k(trace_id, project_id)
                         WHERE k.project_id = project ORDER BY k.trace_id);
        CONTINUE WHEN cardinality(wanted) = 0;
        -- As _agno_sync_traces: a compatible schema never costs a span.
        BEGIN
            PERFORM set_config('agent_trace_agno.copying', 'on', true);
            EXECUTE format('DELETE FROM %s WHERE trace_id = ANY ($1)', target)
              USING wanted::text[];
            -- The traces read first, from the workers (_agno_trace takes the coordinator's row type).
            EXECUTE format(
                'WITH t AS MATERIALIZED (SELECT * FROM agent_trace.agent_traces AS a
                                          WHERE a.trace_id = ANY ($1) AND a.project_id = $2)
                 INSERT INTO %s SELECT r.* FROM t, agent_trace._agno_trace(ROW(t.*)::agent_trace.agent_traces) AS r
                  ORDER BY r.trace_id', target)
              USING wanted, project;
            PERFORM set_config('agent_trace_agno.copying', 'off', true);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'agent_trace: AgentOS table % not updated: %', target, SQLERRM
                USING HINT = 'agent_trace.enable_agno_compat(schema) rebuilds it.';
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_copy_traces(agent_trace.trace_id[], integer[]) IS
    'On a distributed install: makes the rows of these traces (trace_ids[i] in project_ids[i]) again from agent_traces in the agno_traces table of every schema prepared by enable_agno_compat for their project, with the rights of the extension''s owner. _refresh_traces calls it. Internal.';

------------------------------------------------------------------------------------------------------
-- Writing: AgentOS's span inserts into agent_spans
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._agno_insert_span() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := NEW.start_time::timestamptz;
    m agent_trace.mapped_span := agent_trace._span_columns(NEW.name, NEW.attributes);
    project integer := TG_ARGV[0]::integer;
BEGIN
    -- A span stored already (re-sent, or received over OTLP too) is skipped: its ids identify it, and
    -- times written by AgentOS (microseconds of a double) may differ from the OTLP ones by a microsecond.
    -- The minute around its start reads one or two days' partitions, not all.
    IF NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                    WHERE s.trace_id = NEW.trace_id::agent_trace.trace_id
                      AND s.span_id = NEW.span_id::agent_trace.span_id AND s.project_id = project
                      AND s.start_time BETWEEN started - interval '1 minute' AND started + interval '1 minute') THEN
        INSERT INTO agent_trace.agent_spans (
            trace_id, project_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
            status_message, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
            workflow_id, correlation_id, input, output, attributes)
        VALUES (
            NEW.trace_id::agent_trace.trace_id, project, NEW.span_id::agent_trace.span_id,
            NEW.parent_span_id::agent_trace.span_id, started, greatest(NEW.end_time::timestamptz, started),
            NEW.name, coalesce(NEW.span_kind, 'INTERNAL'), m.span_type, coalesce(NEW.status_code, 'UNSET'),
            nullif(NEW.status_message, ''), m.model, m.provider, m.input_tokens, m.output_tokens,
            m.cache_read_tokens, m.cache_write_tokens, m.reasoning_tokens, m.cost_usd, m.tool_name,
            m.agent_name, m.agent_id, m.session_id, m.user_id, m.run_id, m.team_id, m.workflow_id,
            m.correlation_id, m.input, m.output, coalesce(NEW.attributes, '{}'))
        ON CONFLICT DO NOTHING;
        -- On Citus no trigger folds the span into its trace: it is recomputed here.
        IF agent_trace.distributed() THEN
            PERFORM agent_trace._refresh_traces(ARRAY[NEW.trace_id::agent_trace.trace_id], ARRAY[project],
                                                ARRAY[started], ARRAY[started]);
        END IF;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_insert_span() IS
    'Trigger function (INSTEAD OF INSERT on an AgentOS agno_spans view): stores the span in agent_spans, in the schema''s project (the trigger''s argument), with its typed columns mapped from its attributes, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs INSERT on the view only; a span whose trace and span id are stored already is skipped. Internal.';

------------------------------------------------------------------------------------------------------
-- Turning a schema on and off
------------------------------------------------------------------------------------------------------

-- A trace's spans on Citus, for the agno_spans view there: one router query on the node holding the
-- trace. With it AgentOS's queries name no distributed table, so PostgreSQL plans them as on one
-- node: AgentOS lists traces with `SELECT agno_traces.*, count(agno_spans.span_id) ... GROUP BY
-- agno_traces.trace_id`, valid only while agno_traces is a table in the plan, and Citus would turn
-- that local table into a subquery to join it with a distributed one (a GroupingError). The copy
-- cannot be a reference table instead: AgentOS's trace upsert has a stable function in its DO
-- UPDATE SET, which Citus refuses on any table it manages.
CREATE FUNCTION agent_trace._agno_trace_spans(trace text, project integer)
    RETURNS TABLE (span agent_trace.agent_spans, parent_stored boolean)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
        SELECT s, s.parent_span_id IN (SELECT p.span_id FROM agent_trace.agent_spans AS p
                                        WHERE p.trace_id = trace::agent_trace.trace_id AND p.project_id = project)
          FROM agent_trace.agent_spans AS s
         WHERE s.trace_id = trace::agent_trace.trace_id AND s.project_id = project;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_trace_spans(text, integer) IS
    'Internal: the spans of one trace in one project, each with whether its parent is stored, read with the caller''s rights (row-level security applies). The agno_spans view of a compatible schema on Citus reads through it.';

-- AgentOS's spans view, made by enable_agno_compat, and again by distribute(). The trace comes from
-- agno_traces, so `WHERE trace_id = '...'` finds it by that table's key and its spans by
-- agent_spans' key (on Citus, in one query to one node). A span whose parent is missing (or a second
-- parentless span) hangs from the trace's root: AgentOS builds its tree down from the parentless
-- spans, and would drop it.
CREATE FUNCTION agent_trace._agno_create_spans_view(schema_name text, project_id integer) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    distributed boolean := agent_trace.distributed();
    propagation text;
BEGIN
    IF distributed THEN
        -- The view reads a table of the coordinator's own: it stays there.
        propagation := current_setting('citus.enable_ddl_propagation');
        PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
    END IF;
    EXECUTE format($ddl$
        CREATE VIEW %1$I.agno_spans WITH (security_invoker = true) AS
        SELECT s.span_id::text COLLATE "C" AS span_id,
               t.trace_id,
               CASE WHEN s.span_id::text = t.root_span_id THEN NULL
                    WHEN %3$s THEN s.parent_span_id::text
                    ELSE t.root_span_id END COLLATE "C" AS parent_span_id,
               s.name,
               s.span_kind,
               s.status_code,
               s.status_message,
               agent_trace._agno_time(s.start_time) AS start_time,
               agent_trace._agno_time(s.end_time) AS end_time,
               trunc(s.duration_ms)::bigint AS duration_ms,
               agent_trace._agno_attributes(%4$s) AS attributes,
               agent_trace._agno_time(s.created_at) AS created_at
          FROM %1$I.agno_traces AS t
          %5$s;
        COMMENT ON VIEW %1$I.agno_spans IS
            'AgentOS''s spans table, as agent_trace.enable_agno_compat made it: agent_trace.agent_spans with text ids and times and OpenInference attributes from the typed columns. INSERTs are stored in agent_trace.agent_spans.';
        CREATE TRIGGER agno_spans_into_agent_spans
            INSTEAD OF INSERT ON %1$I.agno_spans
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_insert_span(%2$s);
        GRANT SELECT ON %1$I.agno_spans TO agent_trace_reader;
        GRANT INSERT ON %1$I.agno_spans TO agent_trace_writer;
    $ddl$, schema_name, project_id,
        CASE WHEN distributed THEN 'x.parent_stored'
             ELSE 's.parent_span_id IS NOT NULL
                         AND EXISTS (SELECT FROM agent_trace.agent_spans AS p
                                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
                                        AND p.project_id = s.project_id)' END,
        CASE WHEN distributed THEN 'x.span' ELSE 's' END,
        CASE WHEN distributed
             THEN format('CROSS JOIN LATERAL agent_trace._agno_trace_spans(t.trace_id, %s) AS x
          CROSS JOIN LATERAL (SELECT (x.span).*) AS s', project_id)
             ELSE format('JOIN agent_trace.agent_spans AS s
            ON s.trace_id = t.trace_id::agent_trace.trace_id AND s.project_id = %s', project_id) END);
    IF distributed THEN
        PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_create_spans_view(text, integer) IS
    'Internal: creates the agno_spans view of a compatible schema showing one project, over agent_spans (on Citus, through _agno_trace_spans), with its INSTEAD OF INSERT trigger and grants.';

-- Both run as the extension's owner (SECURITY DEFINER, granted to nobody else): what they create
-- belongs to that role, which the copy trigger writes into and nothing else (see
-- _agno_compat_tables). A compatible schema shows one project: its copy holds that project's traces,
-- its view that project's spans, and what AgentOS inserts is stored in it.
CREATE FUNCTION agent_trace.enable_agno_compat(schema_name text DEFAULT 'ai', project text DEFAULT 'default')
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass;
    spans regclass;
    copied bigint;
    project_id integer := agent_trace._project_id(project);
    citus boolean := EXISTS (SELECT FROM pg_extension WHERE extname = 'citus');
    propagation text;
BEGIN
    IF schema_name IS NULL OR schema_name = '' THEN
        RAISE EXCEPTION 'schema_name must name a schema (AgentOS''s db_schema, by default ai)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- On Citus all this makes stays on the coordinator, the schema too: Citus would make a schema
    -- it knows again on the workers at AgentOS's `CREATE SCHEMA IF NOT EXISTS`, which only the
    -- schema's owner may do there.
    IF citus THEN
        propagation := current_setting('citus.enable_ddl_propagation');
        PERFORM set_config('citus.enable_ddl_propagation', 'off', true);
    END IF;
    IF to_regnamespace(quote_ident(schema_name)) IS NULL THEN
        EXECUTE format('CREATE SCHEMA %I', schema_name);
    END IF;
    traces := to_regclass(format('%I.agno_traces', schema_name));
    spans := to_regclass(format('%I.agno_spans', schema_name));
    IF traces IS NOT NULL AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = traces
            AND tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure)
       OR spans IS NOT NULL AND traces IS NULL THEN
        RAISE EXCEPTION 'schema % already has AgentOS''s own trace tables', quote_ident(schema_name)
            USING ERRCODE = 'duplicate_table',
                  DETAIL = 'AgentOS created agno_traces and agno_spans there before; agent_trace does not replace them.',
                  HINT = 'Use another schema (AgentOS''s db_schema), or rename or drop those two tables first.';
    END IF;

    -- Writers wait while the table is filled, so that no trace changes between the copy and the
    -- guard trigger that makes the schema visible to agent_trace's triggers. agent_spans first, as
    -- writers take them (a span insert folds into agent_traces): the span id index below needs it,
    -- and taking it after agent_traces could deadlock with an insert in between.
    LOCK TABLE agent_trace.agent_spans, agent_trace.agent_traces IN SHARE MODE;
    IF traces IS NOT NULL THEN
        -- Enabled already: rebuild the copy.
        EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
        EXECUTE format('DROP TABLE %s', traces);
    END IF;
    EXECUTE format($ddl$
        CREATE TABLE %1$I.agno_traces OF agent_trace.agno_trace (
            trace_id PRIMARY KEY, name WITH OPTIONS NOT NULL, status WITH OPTIONS NOT NULL,
            start_time WITH OPTIONS NOT NULL, end_time WITH OPTIONS NOT NULL,
            duration_ms WITH OPTIONS NOT NULL, created_at WITH OPTIONS NOT NULL);
        COMMENT ON TABLE %1$I.agno_traces IS
            'AgentOS''s traces table, as agent_trace.enable_agno_compat made it: one row per trace of agent_trace.agent_traces, kept current by agent_trace. Writes from elsewhere (AgentOS''s own trace upserts) are skipped.';
        -- The traces read first (on Citus, from the workers), then made into AgentOS's rows.
        WITH t AS MATERIALIZED (SELECT * FROM agent_trace.agent_traces AS a WHERE a.project_id = %2$s)
        INSERT INTO %1$I.agno_traces
        SELECT r.* FROM t, agent_trace._agno_trace(ROW(t.*)::agent_trace.agent_traces) AS r;
        -- What AgentOS filters and sorts by: the latest first, in a time range, by status, and by
        -- its ids. The ids are any length, so they get hash indexes (a btree refuses long entries).
        CREATE INDEX ON %1$I.agno_traces (start_time DESC);
        CREATE INDEX ON %1$I.agno_traces (created_at);
        CREATE INDEX ON %1$I.agno_traces (status, start_time DESC);
        CREATE INDEX ON %1$I.agno_traces USING hash (session_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (user_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (agent_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (run_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (team_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (workflow_id);
        CREATE TRIGGER agno_traces_written_by_agent_trace
            BEFORE INSERT OR UPDATE OR DELETE ON %1$I.agno_traces
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_traces_guard(%2$s);

        -- Readers read both (the spans' attributes are content: not for usage readers). Writers, as
        -- an AgentOS app's role, insert spans (stored by the view's trigger with the owner's rights)
        -- and may send AgentOS's trace upsert, which PostgreSQL checks against INSERT and UPDATE
        -- before the guard skips it. The copy is kept by triggers with the owner's rights.
        GRANT USAGE ON SCHEMA %1$I TO agent_trace_reader, agent_trace_writer;
        GRANT SELECT ON %1$I.agno_traces TO agent_trace_reader;
        GRANT INSERT, UPDATE ON %1$I.agno_traces TO agent_trace_writer;

        -- AgentOS opens a span by its id alone (GET /traces/{id}?span_id=, `WHERE span_id = '...'` on
        -- the view): this index finds the span's trace row once the one below has found the span.
        CREATE INDEX agno_traces_trace_id_idx ON %1$I.agno_traces USING hash ((trace_id::agent_trace.trace_id));
    $ddl$, schema_name, project_id);
    PERFORM agent_trace._agno_create_spans_view(schema_name, project_id);
    -- The span by its text id, as the view shows it (agent_spans' key starts with the trace). One for
    -- all compatible schemas; only they pay for it on every span stored. Not part of the extension,
    -- so pg_dump leaves it out: enabling again after a restore makes it again.
    IF to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NULL AND NOT agent_trace.distributed() THEN
        CREATE INDEX agent_spans_agno_span_id_idx ON agent_trace.agent_spans
            USING hash (((span_id::text) COLLATE "C"));
    END IF;
    IF citus THEN
        PERFORM set_config('citus.enable_ddl_propagation', propagation, true);
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.agno_traces', schema_name) INTO copied;
    RETURN copied;
END
$$;
COMMENT ON FUNCTION agent_trace.enable_agno_compat(text, text) IS
    'Prepares schema_name (created if missing) for an AgentOS app whose db is PostgresDb(db_schema = schema_name), showing one project (by default, default): a table agno_traces, a copy of the project''s agent_traces kept current by agent_trace, and a view agno_spans over its agent_spans whose INSERTs are stored in agent_spans, in the project. AgentOS then lists and opens every trace of the project, and its own spans are stored with their typed columns. Runs as the extension''s owner, which owns what it creates. Refuses a schema where AgentOS made its own trace tables. Running it again rebuilds the copy. Also indexes agent_spans by the span id as text (agent_spans_agno_span_id_idx, one for all compatible schemas, dropped with the last), so AgentOS opens a span by its id alone without a scan. Returns the number of traces copied. The objects are not part of the extension: pg_dump keeps the two (not the index on agent_spans: enable again after a restore); DROP EXTENSION needs disable_agno_compat first (or CASCADE).';

CREATE FUNCTION agent_trace.disable_agno_compat(schema_name text DEFAULT 'ai') RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass := to_regclass(format('%I.agno_traces', schema_name));
    last boolean;
BEGIN
    IF traces IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = traces
                      AND tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure) THEN
        RAISE EXCEPTION '%.agno_traces is AgentOS''s own table, not agent_trace''s', quote_ident(schema_name)
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'agent_trace drops only the tables enable_agno_compat made.';
    END IF;
    -- The span id index serves every compatible schema: the last one takes it along. Dropping it
    -- locks agent_spans; that lock comes first, as span writers take it (they go on to write
    -- agent_traces and this copy), so that none of them holds it while waiting for the copy this drops.
    last := NOT EXISTS (SELECT FROM agent_trace._agno_compat_tables() AS c WHERE c.compat_table <> traces);
    IF last THEN
        LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE;
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
    EXECUTE format('DROP TABLE %s', traces);
    IF last THEN
        DROP INDEX IF EXISTS agent_trace.agent_spans_agno_span_id_idx;
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION agent_trace.disable_agno_compat(text) IS
    'Drops what enable_agno_compat made in schema_name (agno_traces and agno_spans, and the span id index on agent_spans with the last compatible schema; no span or trace of agent_trace is touched). Returns false when there was nothing to drop. Refuses AgentOS''s own tables.';

-- Who may call what. Turning compatibility on or off is for the database owner (nothing granted);
-- the triggers write with the owner's rights; readers call the functions the view reads through.
REVOKE ALL ON FUNCTION agent_trace._first_present(jsonb, text[]), agent_trace._text(jsonb),
    agent_trace._parse_number(jsonb), agent_trace._token_count(jsonb), agent_trace._cost(jsonb),
    agent_trace._identity(jsonb, jsonb, text[]), agent_trace._lookup(text, text[]), agent_trace._span_type(text, jsonb),
    agent_trace._span_columns(text, jsonb, jsonb), agent_trace._agno_time(timestamptz),
    agent_trace._agno_trace(agent_trace.agent_traces), agent_trace._agno_attributes(agent_trace.agent_spans),
    agent_trace._agno_traces_guard(), agent_trace._agno_compat_tables(), agent_trace._agno_sync_traces(),
    agent_trace._agno_insert_span(), agent_trace._agno_copy_traces(agent_trace.trace_id[], integer[]),
    agent_trace._agno_trace_spans(text, integer), agent_trace._agno_create_spans_view(text, integer),
    agent_trace.enable_agno_compat(text, text), agent_trace.disable_agno_compat(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._agno_time(timestamptz), agent_trace._agno_attributes(agent_trace.agent_spans),
    agent_trace._agno_trace_spans(text, integer) TO agent_trace_reader;
