-- The two tables users query: one row per span, one row per trace.
--
-- Column names follow Agno's agno_spans/agno_traces where they overlap, so people coming from Agno
-- (or Phoenix, Langfuse) recognise them; times are timestamptz and ids are the compact hex-printing
-- types from ids.sql. Every table and column carries a COMMENT: BI tools show them as descriptions.
--
-- Every row carries its project (projects.sql): a span sent to project B is stored in B even with
-- the ids of a span of project A, so the keys hold project_id too, and no write to one project can
-- change another's trace.
--
-- Keys: every unique key starts with trace_id, and agent_spans' key also holds start_time. That is
-- what the two ways of scaling out need:
--   * Citus distributes by a column every unique key contains: `create_distributed_table(..., 'trace_id')`
--     keeps all spans of a trace, and its agent_traces row, on one node.
--   * Native partitioning needs the partition column in every unique key: agent_spans is partitioned
--     BY RANGE (start_time), one partition per UTC day (partitions.sql). A retried span carries the
--     same start time, so it lands in the same partition and the key still stores it once.
--
-- A span ends no earlier than it starts (the ingest makes an earlier end the start). So every span
-- of a trace starts within [agent_traces.start_time, agent_traces.end_time], and reading one trace
-- needs only the partitions of those days.

CREATE TABLE agent_trace.agent_spans (
    trace_id            agent_trace.trace_id NOT NULL,
    span_id             agent_trace.span_id NOT NULL,
    parent_span_id      agent_trace.span_id,
    start_time          timestamptz NOT NULL,
    end_time            timestamptz NOT NULL,
    duration_ms         double precision GENERATED ALWAYS AS
                            (EXTRACT(epoch FROM end_time - start_time)::double precision * 1000) STORED,
    name                text NOT NULL,
    span_kind           text NOT NULL DEFAULT 'INTERNAL'
                            CHECK (span_kind IN ('UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER')),
    span_type           text NOT NULL DEFAULT 'other'
                            CHECK (span_type IN ('agent', 'llm', 'tool', 'retriever', 'embedding', 'reranker',
                                                 'chain', 'workflow', 'guardrail', 'evaluator', 'prompt',
                                                 'hook', 'team', 'other')),
    status_code         text NOT NULL DEFAULT 'UNSET' CHECK (status_code IN ('UNSET', 'OK', 'ERROR')),
    status_message      text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    model               text,
    provider            text,
    input_tokens        bigint CHECK (input_tokens >= 0),
    output_tokens       bigint CHECK (output_tokens >= 0),
    cache_read_tokens   bigint CHECK (cache_read_tokens >= 0),
    cache_write_tokens  bigint CHECK (cache_write_tokens >= 0),
    reasoning_tokens    bigint CHECK (reasoning_tokens >= 0),
    cost_usd            numeric CHECK (cost_usd >= 0),
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
    output              text,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    events              jsonb NOT NULL DEFAULT '[]',
    links               jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    project_id          integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_spans_pkey PRIMARY KEY (trace_id, span_id, start_time, project_id),
    CONSTRAINT agent_spans_end_after_start CHECK (end_time >= start_time)
) PARTITION BY RANGE (start_time);

-- One trace's spans come from the primary key (its leading column is trace_id). These cover the
-- other first questions: a span's children, and spans in a time range (BRIN: tiny, and spans
-- arrive roughly in time order).
CREATE INDEX agent_spans_parent_idx ON agent_trace.agent_spans (trace_id, parent_span_id);
CREATE INDEX agent_spans_start_time_brin ON agent_trace.agent_spans USING brin (start_time);

COMMENT ON TABLE agent_trace.agent_spans IS
    'One row per span: a unit of work in an agent run (an LLM call, a tool call, an agent step, ...). Spans of one run share a trace_id; parent_span_id links a span to the span that started it. Written once, never updated; a re-sent span (same trace_id, span_id, start_time, project_id) is ignored. Token counts and costs are never negative, and a span never ends before it starts. Stored in one partition per UTC day of start_time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_spans.trace_id IS 'Id of the run this span belongs to, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_spans.project_id IS 'The project the span belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_spans.span_id IS 'Id of this span, as 16 hex digits (the OpenTelemetry span id).';
COMMENT ON COLUMN agent_trace.agent_spans.parent_span_id IS 'span_id of the span that started this one; NULL for the root span of a trace.';
COMMENT ON COLUMN agent_trace.agent_spans.start_time IS 'When the span started.';
COMMENT ON COLUMN agent_trace.agent_spans.end_time IS 'When the span ended: never before start_time.';
COMMENT ON COLUMN agent_trace.agent_spans.duration_ms IS 'end_time - start_time in milliseconds (computed).';
COMMENT ON COLUMN agent_trace.agent_spans.input_tokens IS 'Prompt tokens of this LLM call, including cached ones. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.output_tokens IS 'Completion tokens of this LLM call, including reasoning tokens. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.cache_read_tokens IS 'Input tokens served from the provider''s prompt cache (a part of input_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.cache_write_tokens IS 'Input tokens written to the provider''s prompt cache (a part of input_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.reasoning_tokens IS 'Output tokens spent on reasoning (a part of output_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.created_at IS 'When this row was stored.';
COMMENT ON COLUMN agent_trace.agent_spans.cost_usd IS 'Cost of this span in US dollars as reported by the client. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.name IS 'Span name given by the instrumentation, e.g. "chat gpt-4o" or "execute_tool get_weather".';
COMMENT ON COLUMN agent_trace.agent_spans.span_kind IS 'OpenTelemetry span kind: INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED.';
COMMENT ON COLUMN agent_trace.agent_spans.span_type IS 'What the span does for the agent: agent, llm, tool, retriever, embedding, reranker, chain, workflow, guardrail, evaluator, prompt, hook, team or other.';
COMMENT ON COLUMN agent_trace.agent_spans.status_code IS 'OpenTelemetry status: OK, ERROR, or UNSET (nothing reported).';
COMMENT ON COLUMN agent_trace.agent_spans.status_message IS 'Error description that came with status ERROR.';
COMMENT ON COLUMN agent_trace.agent_spans.service_name IS 'Name of the application that sent the span (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_spans.scope_name IS 'Instrumentation library that created the span.';
COMMENT ON COLUMN agent_trace.agent_spans.scope_version IS 'Version of the instrumentation library.';
COMMENT ON COLUMN agent_trace.agent_spans.model IS 'Model name of an LLM or embedding call, e.g. "gpt-4o" (the requested model, else the responding one).';
COMMENT ON COLUMN agent_trace.agent_spans.provider IS 'Model provider, e.g. "openai", "anthropic".';
COMMENT ON COLUMN agent_trace.agent_spans.tool_name IS 'Name of the tool a tool span executed.';
COMMENT ON COLUMN agent_trace.agent_spans.agent_name IS 'Name of the agent this span belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.agent_id IS 'Id of the agent this span belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.session_id IS 'Conversation or session the run is part of.';
COMMENT ON COLUMN agent_trace.agent_spans.user_id IS 'End user the run was for.';
COMMENT ON COLUMN agent_trace.agent_spans.run_id IS 'Framework run id (e.g. Agno run_id), when it differs from the trace.';
COMMENT ON COLUMN agent_trace.agent_spans.team_id IS 'Team of agents the run belongs to (e.g. Agno team).';
COMMENT ON COLUMN agent_trace.agent_spans.workflow_id IS 'Workflow the run belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.correlation_id IS 'Caller-supplied id that ties the run to something outside it (a request, a ticket).';
COMMENT ON COLUMN agent_trace.agent_spans.input IS 'Full input of the step: the prompt or messages of an LLM call, the arguments of a tool call.';
COMMENT ON COLUMN agent_trace.agent_spans.output IS 'Full output of the step: the completion of an LLM call, the result of a tool call.';
COMMENT ON COLUMN agent_trace.agent_spans.attributes IS 'All span attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_spans.resource_attributes IS 'Attributes of the sending process (service.name, host, SDK version, ...) as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_spans.events IS 'Timestamped events of the span (exceptions, messages) as a JSON array of {name, time, attributes}.';
COMMENT ON COLUMN agent_trace.agent_spans.links IS 'Links to other spans as a JSON array of {trace_id, span_id, attributes}.';

CREATE TABLE agent_trace.agent_traces (
    trace_id            agent_trace.trace_id NOT NULL,
    name                text,
    status              text GENERATED ALWAYS AS (CASE WHEN error_count > 0 THEN 'ERROR' ELSE 'OK' END) STORED,
    start_time          timestamptz NOT NULL,
    end_time            timestamptz NOT NULL,
    duration_ms         double precision GENERATED ALWAYS AS
                            (EXTRACT(epoch FROM end_time - start_time)::double precision * 1000) STORED,
    span_count          integer NOT NULL,
    error_count         integer NOT NULL,
    llm_call_count      integer NOT NULL,
    tool_call_count     integer NOT NULL,
    input_tokens        bigint,
    output_tokens       bigint,
    cache_read_tokens   bigint,
    cache_write_tokens  bigint,
    reasoning_tokens    bigint,
    cost_usd            numeric,
    service_name        text,
    session_id          text,
    user_id             text,
    agent_name          text,
    agent_id            text,
    run_id              text,
    team_id             text,
    workflow_id         text,
    correlation_id      text,
    input               text,
    output              text,
    root_span_id        agent_trace.span_id,
    root_start_time     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    computed_cost_usd   numeric,
    project_id          integer NOT NULL,
    CONSTRAINT agent_traces_pkey PRIMARY KEY (trace_id, project_id)
);

-- The questions users ask of traces first: the latest ones, and those of one session, user or
-- agent. The ids are text as clients send it, of any length: a btree refuses an entry over 2,704
-- bytes (and with it the whole insert of the spans that made it), so they get hash indexes, which
-- store a 4-byte hash of any value and serve `WHERE session_id = '...'`; NULLs are not indexed.
-- A time range within a session is filtered after the equality (or combined with the start_time
-- index).
CREATE INDEX agent_traces_start_time_idx ON agent_trace.agent_traces (start_time DESC);
CREATE INDEX agent_traces_session_idx ON agent_trace.agent_traces USING hash (session_id);
CREATE INDEX agent_traces_user_idx ON agent_trace.agent_traces USING hash (user_id);
CREATE INDEX agent_traces_agent_idx ON agent_trace.agent_traces USING hash (agent_name);

COMMENT ON TABLE agent_trace.agent_traces IS
    'One row per trace (an agent run), summarising the spans stored for it. Maintained by the database itself as spans are inserted (in any order and in any number of batches), deleted (directly, by retention, by agent_trace.erase) or updated: always equal to an aggregation of the trace''s spans as they are now. Do not write it directly.';
COMMENT ON COLUMN agent_trace.agent_traces.trace_id IS 'Id of the run, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_traces.project_id IS 'The project of the trace''s spans (a trace id sent to two projects is two traces).';
COMMENT ON COLUMN agent_trace.agent_traces.root_span_id IS 'span_id of the root span (the span without a parent; if several, the earliest). NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.start_time IS 'Start of the trace''s earliest span.';
COMMENT ON COLUMN agent_trace.agent_traces.end_time IS 'End of the trace''s latest-ending span. Every span of the trace starts between start_time and end_time.';
COMMENT ON COLUMN agent_trace.agent_traces.duration_ms IS 'end_time - start_time in milliseconds (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.root_start_time IS 'start_time of the root span; decides which span is the root when several have no parent.';
COMMENT ON COLUMN agent_trace.agent_traces.span_count IS 'Number of the trace''s spans.';
COMMENT ON COLUMN agent_trace.agent_traces.error_count IS 'Number of spans with status ERROR.';
COMMENT ON COLUMN agent_trace.agent_traces.llm_call_count IS 'Number of spans of span_type llm.';
COMMENT ON COLUMN agent_trace.agent_traces.tool_call_count IS 'Number of spans of span_type tool.';
COMMENT ON COLUMN agent_trace.agent_traces.input_tokens IS 'Sum of input_tokens over the LLM and embedding spans (wrapper spans that repeat their children''s usage are not counted again). NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.output_tokens IS 'Sum of output_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_read_tokens IS 'Sum of cache_read_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_write_tokens IS 'Sum of cache_write_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.reasoning_tokens IS 'Sum of reasoning_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.created_at IS 'When the first span of this trace was stored.';
COMMENT ON COLUMN agent_trace.agent_traces.updated_at IS 'When spans of this trace were last stored or removed.';
COMMENT ON COLUMN agent_trace.agent_traces.cost_usd IS 'Sum of cost_usd over the LLM and embedding spans, in US dollars. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.status IS 'ERROR if any span has status ERROR, else OK (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.name IS 'Name of the root span. NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.service_name IS 'service_name of the root span (until it arrives: the smallest service_name seen).';
COMMENT ON COLUMN agent_trace.agent_traces.session_id IS 'Session of the run (the smallest session_id among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.user_id IS 'End user of the run (the smallest user_id among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE user_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_name IS 'Agent of the run (the smallest agent_name among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE agent_name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_id IS 'Agent id of the run (the smallest agent_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.run_id IS 'Framework run id (the smallest run_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.team_id IS 'Team of the run (the smallest team_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.workflow_id IS 'Workflow of the run (the smallest workflow_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.correlation_id IS 'Caller-supplied correlation id (the smallest among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.input IS 'First 500 characters of the root span''s input.';
COMMENT ON COLUMN agent_trace.agent_traces.output IS 'First 500 characters of the root span''s output.';
COMMENT ON COLUMN agent_trace.agent_traces.computed_cost_usd IS 'Sum of the computed cost of the LLM and embedding spans that reported tokens but no cost_usd, in US dollars, from agent_trace.model_prices (one row per span in agent_span_costs). NULL when no such span could be priced. Each span counts in cost_usd or here, never both: cost_usd + computed_cost_usd is the cost of the run as far as it is known.';
