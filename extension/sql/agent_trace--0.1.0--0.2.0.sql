-- agent_trace 0.1.0 -> 0.2.0: logs and metrics, prices and computed cost, sessions, and the SQL
-- API over traces. Drafted by scripts/draft-upgrade-script.py from the 0.2.0 install script;
-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.2.0 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.2.0'" to load this file. \quit

-- requires:
--   ids

-- The two roles access.sql grants to, created before anything else so that every file can grant
-- to them as it creates its objects:
--
--   agent_trace_reader  read every table (for psql, dashboards and BI tools)
--   agent_trace_writer  what the ingest service needs
--
-- Roles belong to the cluster, not to a database, so they are created only if missing, and
-- DROP EXTENSION leaves them in place (drop them with DROP ROLE once no database uses them).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_reader') THEN
        CREATE ROLE agent_trace_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_writer') THEN
        CREATE ROLE agent_trace_writer NOLOGIN;
    END IF;
END
$roles$;
/* </end connected objects> */

/* <begin connected objects> */

-- tables.sql: agent_traces gets its computed cost, as its last column (as in a fresh install),
-- and the tables' COMMENTs as 0.2.0 words them.
ALTER TABLE agent_trace.agent_traces ADD COLUMN computed_cost_usd numeric;
COMMENT ON TABLE agent_trace.agent_spans IS
    'One row per span: a unit of work in an agent run (an LLM call, a tool call, an agent step, ...). Spans of one run share a trace_id; parent_span_id links a span to the span that started it. Written once, never updated; a re-sent span (same trace_id, span_id, start_time) is ignored.';
COMMENT ON COLUMN agent_trace.agent_spans.trace_id IS 'Id of the run this span belongs to, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_spans.span_id IS 'Id of this span, as 16 hex digits (the OpenTelemetry span id).';
COMMENT ON COLUMN agent_trace.agent_spans.parent_span_id IS 'span_id of the span that started this one; NULL for the root span of a trace.';
COMMENT ON COLUMN agent_trace.agent_spans.start_time IS 'When the span started.';
COMMENT ON COLUMN agent_trace.agent_spans.end_time IS 'When the span ended.';
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
COMMENT ON TABLE agent_trace.agent_traces IS
    'One row per trace (an agent run), summarising its spans. Maintained by the database itself as spans are inserted, in any order and in any number of batches; do not write it directly.';
COMMENT ON COLUMN agent_trace.agent_traces.trace_id IS 'Id of the run, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_traces.root_span_id IS 'span_id of the root span (the span without a parent; if several, the earliest). NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.start_time IS 'Start of the earliest span received so far.';
COMMENT ON COLUMN agent_trace.agent_traces.end_time IS 'End of the latest-ending span received so far.';
COMMENT ON COLUMN agent_trace.agent_traces.duration_ms IS 'end_time - start_time in milliseconds (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.root_start_time IS 'start_time of the root span; decides which span is the root when several have no parent.';
COMMENT ON COLUMN agent_trace.agent_traces.span_count IS 'Number of spans received.';
COMMENT ON COLUMN agent_trace.agent_traces.error_count IS 'Number of spans with status ERROR.';
COMMENT ON COLUMN agent_trace.agent_traces.llm_call_count IS 'Number of spans of span_type llm.';
COMMENT ON COLUMN agent_trace.agent_traces.tool_call_count IS 'Number of spans of span_type tool.';
COMMENT ON COLUMN agent_trace.agent_traces.input_tokens IS 'Sum of input_tokens over the LLM and embedding spans (wrapper spans that repeat their children''s usage are not counted again). NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.output_tokens IS 'Sum of output_tokens over the LLM and embedding spans. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_read_tokens IS 'Sum of cache_read_tokens over the LLM and embedding spans. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_write_tokens IS 'Sum of cache_write_tokens over the LLM and embedding spans. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.reasoning_tokens IS 'Sum of reasoning_tokens over the LLM and embedding spans. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.created_at IS 'When the first span of this trace was stored.';
COMMENT ON COLUMN agent_trace.agent_traces.updated_at IS 'When spans of this trace were last stored.';
COMMENT ON COLUMN agent_trace.agent_traces.cost_usd IS 'Sum of cost_usd over the LLM and embedding spans, in US dollars. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.status IS 'ERROR if any span has status ERROR, else OK (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.name IS 'Name of the root span. NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.service_name IS 'service_name of the root span (until it arrives: the smallest service_name seen).';
COMMENT ON COLUMN agent_trace.agent_traces.session_id IS 'Session of the run (the smallest session_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.user_id IS 'End user of the run (the smallest user_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_name IS 'Agent of the run (the smallest agent_name among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_id IS 'Agent id of the run (the smallest agent_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.run_id IS 'Framework run id (the smallest run_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.team_id IS 'Team of the run (the smallest team_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.workflow_id IS 'Workflow of the run (the smallest workflow_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.correlation_id IS 'Caller-supplied correlation id (the smallest among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.input IS 'First 500 characters of the root span''s input.';
COMMENT ON COLUMN agent_trace.agent_traces.output IS 'First 500 characters of the root span''s output.';
COMMENT ON COLUMN agent_trace.agent_traces.computed_cost_usd IS 'Sum of the computed cost of the LLM and embedding spans that reported tokens but no cost_usd, in US dollars, from agent_trace.model_prices (one row per span in agent_span_costs). NULL when no such span could be priced. Each span counts in cost_usd or here, never both: cost_usd + computed_cost_usd is the cost of the run as far as it is known.';

-- requires:
--   rollup

-- Logs and metrics (issue 5): OTLP log records and metric data points, next to the spans.
--
-- Coding-assistant CLIs (Claude Code, Codex, Gemini CLI) report most of their usage here rather than
-- on spans: token counts and cost on log events, counters and histograms as metrics. Both tables
-- follow tables.sql: typed columns for what people ask first, every original attribute kept as
-- jsonb, times as timestamptz, ids as the compact agent_trace.trace_id / span_id types.
--
-- Idempotency. OTLP clients retry after a lost acknowledgement, and log records and data points have
-- no id of their own, so each row carries a key computed by the ingest from its content:
--   * agent_logs.record_key: the first 16 bytes of a SHA-256 over (resource, scope, the log record's
--     protobuf encoding). A retried request stores nothing twice, also when it is re-sent as OTLP/JSON
--     instead of protobuf (both decode to the same message, which encodes to the same bytes).
--   * agent_metrics.series_key: the first 16 bytes of a SHA-256 over (metric name, kind, resource
--     attributes, scope, point attributes; attributes sorted by key). A series is what a client
--     reports repeatedly; the point of a series at (time, start_time) is stored once.
-- Both keys also hold the row's time, so the tables can be partitioned BY RANGE (time) without a key
-- change, and distributed by the key column (Citus), as agent_spans can.

CREATE TABLE agent_trace.agent_logs (
    record_key          uuid NOT NULL,
    time                timestamptz NOT NULL,
    observed_time       timestamptz,
    trace_id            agent_trace.trace_id,
    span_id             agent_trace.span_id,
    event_name          text,
    severity_number     smallint CHECK (severity_number BETWEEN 1 AND 24),
    severity_text       text,
    body                text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    session_id          text,
    user_id             text,
    model               text,
    input_tokens        bigint CHECK (input_tokens >= 0),
    output_tokens       bigint CHECK (output_tokens >= 0),
    cache_read_tokens   bigint CHECK (cache_read_tokens >= 0),
    cache_write_tokens  bigint CHECK (cache_write_tokens >= 0),
    reasoning_tokens    bigint CHECK (reasoning_tokens >= 0),
    cost_usd            numeric,
    tool_name           text,
    duration_ms         double precision,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    computed_cost_usd   numeric,
    CONSTRAINT agent_logs_pkey PRIMARY KEY (record_key, time)
);

-- First questions: the events of a session (how much did it use), of an event type in a time range,
-- the logs of one trace, and anything in a time range (BRIN: tiny; records arrive roughly in time
-- order). Partial indexes: many records have no session, trace or event name.
CREATE INDEX agent_logs_session_idx ON agent_trace.agent_logs (session_id, time) WHERE session_id IS NOT NULL;
CREATE INDEX agent_logs_event_idx ON agent_trace.agent_logs (event_name, time) WHERE event_name IS NOT NULL;
CREATE INDEX agent_logs_trace_idx ON agent_trace.agent_logs (trace_id, time) WHERE trace_id IS NOT NULL;
CREATE INDEX agent_logs_time_brin ON agent_trace.agent_logs USING brin (time);

COMMENT ON TABLE agent_trace.agent_logs IS
    'One row per OpenTelemetry log record: application logs, and the events coding assistants send (Claude Code api_request, Gemini CLI gemini_cli.api_response, Codex codex.sse_event, ...). Token and cost columns are filled only on records that report one model call''s usage, so summing them over a session counts each call once. Written once, never updated; a re-sent record (same record_key and time) is ignored.';
COMMENT ON COLUMN agent_trace.agent_logs.record_key IS 'Dedupe key computed by the ingest: the first 16 bytes of a SHA-256 over the resource, the instrumentation scope and the record''s protobuf encoding. Identical records of one resource and scope are one row.';
COMMENT ON COLUMN agent_trace.agent_logs.time IS 'When the event happened: the record''s time, else (Codex sends none) the time the client observed it.';
COMMENT ON COLUMN agent_trace.agent_logs.observed_time IS 'When the client''s logging pipeline observed the record. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_logs.trace_id IS 'Trace the record was emitted in, as 32 hex digits; NULL outside any trace (an empty or all-zero id means none).';
COMMENT ON COLUMN agent_trace.agent_logs.span_id IS 'Span the record was emitted in, as 16 hex digits; NULL outside any span.';
COMMENT ON COLUMN agent_trace.agent_logs.event_name IS 'Event type: the event.name attribute, else the record''s event_name field (Codex puts a source location such as "event otel/src/...rs:1089" there, so the attribute wins), e.g. "api_request", "gemini_cli.api_response", "codex.sse_event". NULL for plain logs.';
COMMENT ON COLUMN agent_trace.agent_logs.severity_number IS 'OpenTelemetry severity 1-24 (1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL). NULL when unspecified.';
COMMENT ON COLUMN agent_trace.agent_logs.severity_text IS 'Severity as the source names it, e.g. "INFO", "ERROR".';
COMMENT ON COLUMN agent_trace.agent_logs.body IS 'The log message. A body that is not a string (a map, a list, a number) is stored as its JSON text.';
COMMENT ON COLUMN agent_trace.agent_logs.service_name IS 'Name of the application that sent the record (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_logs.scope_name IS 'Instrumentation scope (logger) that emitted the record.';
COMMENT ON COLUMN agent_trace.agent_logs.scope_version IS 'Version of the instrumentation scope.';
COMMENT ON COLUMN agent_trace.agent_logs.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id (Claude Code, Gemini CLI), agno.session.id or conversation.id (Codex), on the record, else on the resource.';
COMMENT ON COLUMN agent_trace.agent_logs.user_id IS 'End user: user.id (Claude Code) or agno.user.id, on the record, else on the resource.';
COMMENT ON COLUMN agent_trace.agent_logs.model IS 'Model the record is about: gen_ai.request.model, gen_ai.response.model, ..., else model (Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_logs.input_tokens IS 'Prompt tokens of one model call, including cached ones (as on agent_spans). Claude Code api_request: input_tokens + cache_read_tokens + cache_creation_tokens (Anthropic reports them apart). Gemini CLI gemini_cli.api_response: input_token_count (includes cached_content_token_count) + tool_token_count. Codex codex.sse_event: input_token_count (includes cached). GenAI: gen_ai.usage.input_tokens. NULL on other records.';
COMMENT ON COLUMN agent_trace.agent_logs.output_tokens IS 'Completion tokens of one model call, including reasoning tokens (as on agent_spans). Claude Code: output_tokens. Gemini CLI: output_token_count + thoughts_token_count (Gemini reports them apart). Codex: output_token_count (includes reasoning). GenAI: gen_ai.usage.output_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cache_read_tokens IS 'Input tokens served from the prompt cache (a part of input_tokens). Claude Code: cache_read_tokens. Gemini CLI: cached_content_token_count. Codex: cached_token_count. GenAI: gen_ai.usage.cache_read.input_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cache_write_tokens IS 'Input tokens written to the prompt cache (a part of input_tokens). Claude Code: cache_creation_tokens. Codex: cache_write_token_count. GenAI: gen_ai.usage.cache_creation.input_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.reasoning_tokens IS 'Output tokens spent on reasoning (a part of output_tokens). Gemini CLI: thoughts_token_count. Codex: reasoning_token_count. GenAI: gen_ai.usage.reasoning.output_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cost_usd IS 'Cost of the call in US dollars as reported by the client (Claude Code api_request cost_usd; gen_ai.usage.cost). NULL when not reported; see computed_cost_usd.';
COMMENT ON COLUMN agent_trace.agent_logs.tool_name IS 'Tool the record is about: gen_ai.tool.name, tool.name or tool_name.';
COMMENT ON COLUMN agent_trace.agent_logs.duration_ms IS 'Duration the record reports in milliseconds (its duration_ms attribute: Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_logs.attributes IS 'All record attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_logs.resource_attributes IS 'Attributes of the sending process (service.name, host, SDK version, ...) as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_logs.created_at IS 'When this row was stored.';
COMMENT ON COLUMN agent_trace.agent_logs.computed_cost_usd IS 'Cost of the call in US dollars computed from the model''s price and the token columns. NULL when no price is known.';

CREATE TABLE agent_trace.agent_metrics (
    series_key          uuid NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL
                            CHECK (kind IN ('sum', 'gauge', 'histogram', 'exponential_histogram', 'summary')),
    temporality         text CHECK (temporality IN ('cumulative', 'delta', 'unspecified')),
    is_monotonic        boolean,
    start_time          timestamptz,
    time                timestamptz NOT NULL,
    value               double precision,
    count               bigint CHECK (count >= 0),
    sum                 double precision,
    min                 double precision,
    max                 double precision,
    bucket_bounds       double precision[],
    bucket_counts       bigint[],
    exponential_buckets jsonb,
    quantiles           jsonb,
    unit                text,
    description         text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    session_id          text,
    model               text,
    token_type          text,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- Not a primary key: gauges usually have no start time, and a primary key cannot hold NULL.
    -- NULLS NOT DISTINCT makes a re-sent point without start_time a conflict too.
    CONSTRAINT agent_metrics_point_key UNIQUE NULLS NOT DISTINCT (series_key, time, start_time)
);

-- First questions: one metric over time (tokens per hour), one session's metrics, anything in a
-- time range. One series' points come from the unique key (its leading column is series_key).
CREATE INDEX agent_metrics_name_idx ON agent_trace.agent_metrics (name, time);
CREATE INDEX agent_metrics_session_idx ON agent_trace.agent_metrics (session_id, time) WHERE session_id IS NOT NULL;
CREATE INDEX agent_metrics_time_brin ON agent_trace.agent_metrics USING brin (time);

COMMENT ON TABLE agent_trace.agent_metrics IS
    'One row per OpenTelemetry metric data point, as sent: cumulative counters hold running totals (see agent_metric_deltas for per-interval amounts). Points of one series share a series_key. Written once, never updated; a re-sent point (same series_key, time and start_time) is ignored.';
COMMENT ON COLUMN agent_trace.agent_metrics.series_key IS 'Series id computed by the ingest: the first 16 bytes of a SHA-256 over the metric name, kind, resource attributes, instrumentation scope and point attributes (attributes in key order).';
COMMENT ON COLUMN agent_trace.agent_metrics.name IS 'Metric name, e.g. "claude_code.token.usage", "gen_ai.client.token.usage".';
COMMENT ON COLUMN agent_trace.agent_metrics.kind IS 'OpenTelemetry metric type: sum (a counter or up-down counter), gauge, histogram, exponential_histogram or summary.';
COMMENT ON COLUMN agent_trace.agent_metrics.temporality IS 'For sums and histograms: cumulative (value is the total since start_time), delta (value is the amount since the previous report) or unspecified. NULL for gauges and summaries.';
COMMENT ON COLUMN agent_trace.agent_metrics.is_monotonic IS 'For sums: true for a counter that only goes up, false for an up-down counter. NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metrics.start_time IS 'Start of the interval the point covers (cumulative: since the series started or last reset). NULL when not sent (most gauges).';
COMMENT ON COLUMN agent_trace.agent_metrics.time IS 'When the point was measured: the end of its interval.';
COMMENT ON COLUMN agent_trace.agent_metrics.value IS 'Value of a sum or gauge point (integers as double precision: exact up to 2^53). NULL for other kinds and for points flagged "no recorded value".';
COMMENT ON COLUMN agent_trace.agent_metrics.count IS 'Number of measurements in a histogram, exponential histogram or summary point. NULL for sums and gauges.';
COMMENT ON COLUMN agent_trace.agent_metrics.sum IS 'Sum of the measurements in a histogram, exponential histogram or summary point (e.g. tokens in gen_ai.client.token.usage). NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.min IS 'Smallest measurement of a histogram point. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.max IS 'Largest measurement of a histogram point. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.bucket_bounds IS 'Upper bounds of a histogram''s buckets (explicit_bounds); bucket i holds values <= bucket_bounds[i], the last bucket the rest.';
COMMENT ON COLUMN agent_trace.agent_metrics.bucket_counts IS 'Measurements per histogram bucket: one more element than bucket_bounds.';
COMMENT ON COLUMN agent_trace.agent_metrics.exponential_buckets IS 'Buckets of an exponential histogram point as JSON: {scale, zero_count, zero_threshold, positive: {offset, bucket_counts}, negative: {offset, bucket_counts}}.';
COMMENT ON COLUMN agent_trace.agent_metrics.quantiles IS 'Quantiles of a summary point as a JSON array of {quantile, value}.';
COMMENT ON COLUMN agent_trace.agent_metrics.unit IS 'Unit of the values, e.g. "tokens", "USD", "ms". NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.description IS 'Description of the metric given by the instrumentation.';
COMMENT ON COLUMN agent_trace.agent_metrics.service_name IS 'Name of the application that sent the point (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_metrics.scope_name IS 'Instrumentation scope (meter) that reported the metric.';
COMMENT ON COLUMN agent_trace.agent_metrics.scope_version IS 'Version of the instrumentation scope.';
COMMENT ON COLUMN agent_trace.agent_metrics.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id, agno.session.id or conversation.id, on the point, else on the resource.';
COMMENT ON COLUMN agent_trace.agent_metrics.model IS 'Model the point is about: gen_ai.request.model, gen_ai.response.model, ..., else model (Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_metrics.token_type IS 'Kind of tokens a token metric counts, as the client names it: gen_ai.token.type (input, output), token_type (Codex: input, cached_input, output, reasoning_output, total, ...), or type on claude_code.token.usage (input, output, cacheRead, cacheCreation) and gemini_cli.token.usage (input, output, cache, thought, tool).';
COMMENT ON COLUMN agent_trace.agent_metrics.attributes IS 'Point attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_metrics.resource_attributes IS 'Attributes of the sending process as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_metrics.created_at IS 'When this row was stored.';

-- Per-interval amounts. A cumulative counter reports running totals; charts and "per hour" sums need
-- the increase between consecutive points of a series. Computed at query time with window functions
-- over the stored points, so the answer does not depend on the order the points arrived in.
--
-- Rules per point (previous = the point of the same series just before it by (time, start_time)):
--   * cumulative sum or histogram: value - previous value when the previous point has the same
--     start_time and the value did not decrease; otherwise (the first point of a series, a new
--     start_time, or a decrease: the counter restarted) the value itself, accrued since start_time.
--     Histograms: the same for count and sum, with the restart decided by count.
--   * delta sum or histogram: the point's own value, count and sum.
--   * gauge, summary, unspecified temporality: no delta (NULL): a level is not an amount.
-- Points flagged "no recorded value" (value and count NULL) are left out.
--
-- Every column after series_key in the window's PARTITION BY is fixed per series, so the groups are
-- the series; listing them lets PostgreSQL apply a filter on them (WHERE name = ..., session_id = ...)
-- before computing the window. A filter on time is applied after it: the first point in the range
-- still gets its delta against the point before the range.
CREATE VIEW agent_trace.agent_metric_deltas AS
SELECT p.series_key, p.name, p.kind, p.temporality, p.unit, p.start_time, p.time,
       p.value,
       CASE
           WHEN p.kind = 'sum' AND p.temporality = 'delta' THEN p.value
           WHEN p.kind = 'sum' AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.value >= p.previous_value THEN p.value - p.previous_value
                    ELSE p.value END
       END AS delta,
       p.count,
       CASE
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'delta' THEN p.count
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.count >= p.previous_count THEN p.count - p.previous_count
                    ELSE p.count END
       END AS delta_count,
       p.sum,
       CASE
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'delta' THEN p.sum
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.count >= p.previous_count THEN p.sum - p.previous_sum
                    ELSE p.sum END
       END AS delta_sum,
       p.service_name, p.session_id, p.model, p.token_type, p.scope_name, p.attributes,
       p.resource_attributes
  FROM (SELECT m.*,
               lag(m.value) OVER series AS previous_value,
               lag(m.count) OVER series AS previous_count,
               lag(m.sum) OVER series AS previous_sum,
               lag(m.time) OVER series IS NOT NULL
                   AND lag(m.start_time) OVER series IS NOT DISTINCT FROM m.start_time AS continues
          FROM agent_trace.agent_metrics AS m
         WHERE m.value IS NOT NULL OR m.count IS NOT NULL
        WINDOW series AS (PARTITION BY m.name, m.kind, m.service_name, m.session_id, m.model,
                                       m.token_type, m.series_key
                          ORDER BY m.time, m.start_time)) AS p;

COMMENT ON VIEW agent_trace.agent_metric_deltas IS
    'Every stored metric point with its per-interval amount: for cumulative counters and histograms the increase since the previous point of the same series (restarts detected by a new start_time or a decrease), for delta ones the point itself. Sum delta, delta_count or delta_sum over a time range for "per hour" or "per session" totals. Computed at query time, so points may arrive in any order.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.series_key IS 'Series the point belongs to (see agent_metrics.series_key).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.name IS 'Metric name.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.kind IS 'sum, gauge, histogram, exponential_histogram or summary.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.temporality IS 'cumulative, delta or unspecified; NULL for gauges and summaries.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.unit IS 'Unit of the values.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.start_time IS 'Start of the interval the stored point covers.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.time IS 'When the point was measured: the end of the interval delta covers.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.value IS 'Value of a sum or gauge point as stored (a running total for cumulative sums).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta IS 'Amount of a sum in this interval: value minus the previous value of the series, or the value itself at the first point, after a restart, and for delta temporality. NULL for gauges, histograms, summaries and unspecified temporality.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.count IS 'Measurement count of a histogram or summary point as stored.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta_count IS 'Measurements of a histogram in this interval, by the same rules as delta (a restart is a new start_time or a smaller count). NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.sum IS 'Sum of a histogram or summary point as stored.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta_sum IS 'Sum of a histogram''s measurements in this interval (e.g. tokens of gen_ai.client.token.usage), restarting where delta_count does. NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.service_name IS 'Name of the application that sent the point.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.session_id IS 'Conversation or session of the point.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.model IS 'Model the point is about.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.token_type IS 'Kind of tokens a token metric counts (see agent_metrics.token_type).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.scope_name IS 'Instrumentation scope that reported the metric.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.attributes IS 'Point attributes as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.resource_attributes IS 'Attributes of the sending process as a JSON object.';

-- The ingest writes both tables (binary COPY, or INSERT .. ON CONFLICT DO NOTHING for retries,
-- which reads the unique index: hence SELECT). access.sql grants SELECT on every table and view to
-- agent_trace_reader.
GRANT SELECT, INSERT ON agent_trace.agent_logs, agent_trace.agent_metrics TO agent_trace_writer;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   signals

-- Model prices and the cost computed from them (issue 5).
--
-- Two kinds of cost, never mixed:
--   * cost_usd (agent_spans, agent_traces, agent_logs): what the client reported. Stored as sent.
--   * computed_cost_usd: tokens x the price in agent_trace.model_prices, for the LLM and embedding
--     calls that came without a reported cost. A span's computed cost lives in agent_span_costs (so
--     agent_spans stays written once by COPY), its trace's sum in agent_traces.computed_cost_usd; a log
--     record's in agent_logs.computed_cost_usd.
-- Each call is counted in exactly one of the two, so cost_usd + computed_cost_usd is the whole cost
-- of what could be priced.
--
-- Where the prices come from: `agent-trace prices import` reads LiteLLM's
-- model_prices_and_context_window.json (the binary carries a dated snapshot of it for the OpenAI,
-- Anthropic and Gemini API models; scripts/update-price-snapshot.sh refreshes it). The extension
-- itself ships no prices: prices change every few weeks, extension versions do not, and a price list
-- inside the install script would be frozen into every release script and need an upgrade script
-- for each refresh. The table is plain data: INSERT and UPDATE it like any other table, and it is
-- registered with pg_extension_config_dump, so pg_dump keeps every row (imported or your own).
--
-- Which price applies to a call (agent_trace.price_for), given its model name, provider and time:
--   1. Only rows in effect at the call's time: effective_from <= the call's UTC date. Of the rows of
--      one (model_pattern, provider), the latest effective_from wins. An import adds a dated row when
--      a price changes and never rewrites an older one, so old calls keep their old price.
--   2. The model name is lower-cased and matched, most specific first:
--        a. exactly, as sent                      'openai/gpt-4o' = a row 'openai/gpt-4o'
--        b. exactly, without a "vendor/" prefix    'openai/gpt-4o' -> 'gpt-4o', 'models/gemini-2.5-pro'
--           (everything up to the last '/')           -> 'gemini-2.5-pro'
--        c. exactly, without a trailing date stamp 'claude-sonnet-4-5-20250929' -> 'claude-sonnet-4-5',
--           (-YYYYMMDD, -YYYY-MM-DD or @YYYYMMDD)     'gpt-4o-2024-08-06' -> 'gpt-4o' (only when the
--                                                     dated name has no row of its own: LiteLLM lists
--                                                     most dated names, and some cost differently)
--        d. by LIKE pattern: a model_pattern holding '%' matches the name of (b) as LIKE does, except
--           that '_' is a plain character ('ft:gpt-4o-mini%'). The longest pattern wins.
--   3. The provider: the span's provider is normalised by agent_trace.normalize_provider (so
--      'gcp.gen_ai', 'gemini' and 'google' all mean 'gcp.gemini'); a "vendor/" prefix that names a
--      provider ('openai/', 'anthropic/', 'gemini/') overrides it for (b)-(d). A row matches its own
--      provider, a row with provider '*' matches any, and a call whose provider is unknown (NULL)
--      matches rows of any provider. Within one step of (2), a row of the call's own provider beats
--      a '*' row.
-- No match: no computed cost (NULL). A price is never guessed from a similar model.

CREATE TABLE agent_trace.model_prices (
    model_pattern                     text NOT NULL
                                          CHECK (model_pattern <> '' AND model_pattern = lower(model_pattern)),
    provider                          text NOT NULL
                                          CHECK (provider <> '' AND provider = lower(provider)),
    effective_from                    date NOT NULL DEFAULT '-infinity',
    input_usd_per_mtok                numeric CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok               numeric CHECK (output_usd_per_mtok >= 0),
    cache_read_usd_per_mtok           numeric CHECK (cache_read_usd_per_mtok >= 0),
    cache_write_usd_per_mtok          numeric CHECK (cache_write_usd_per_mtok >= 0),
    reasoning_usd_per_mtok            numeric CHECK (reasoning_usd_per_mtok >= 0),
    long_context_above_tokens         bigint CHECK (long_context_above_tokens > 0),
    long_context_input_usd_per_mtok   numeric CHECK (long_context_input_usd_per_mtok >= 0),
    long_context_output_usd_per_mtok  numeric CHECK (long_context_output_usd_per_mtok >= 0),
    long_context_cache_read_usd_per_mtok  numeric CHECK (long_context_cache_read_usd_per_mtok >= 0),
    long_context_cache_write_usd_per_mtok numeric CHECK (long_context_cache_write_usd_per_mtok >= 0),
    source                            text NOT NULL DEFAULT 'manual',
    source_date                       date,
    created_at                        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT model_prices_pkey PRIMARY KEY (model_pattern, provider, effective_from)
);

COMMENT ON TABLE agent_trace.model_prices IS
    'Prices of models per million tokens, in US dollars, for computing the cost of calls that report tokens but no cost. Edit with plain INSERT/UPDATE; `agent-trace prices import` adds LiteLLM''s prices. Which row applies to a call: agent_trace.price_for (most specific model match, own provider first, latest effective_from not after the call). After changing prices, run agent_trace.recompute_costs(from, to) to re-cost stored calls.';
COMMENT ON COLUMN agent_trace.model_prices.model_pattern IS 'Model name in lower case, e.g. "gpt-4o", "claude-sonnet-4-5". Holding a % it is a LIKE pattern ("ft:gpt-4o-mini%"; _ is a plain character). Matched against the name of the call without a "vendor/" prefix; exact names beat patterns, longer patterns beat shorter ones.';
COMMENT ON COLUMN agent_trace.model_prices.provider IS 'Provider the price applies to, as agent_trace.normalize_provider names it: "openai", "anthropic", "gcp.gemini" (Gemini API), "gcp.vertex_ai", "aws.bedrock", "azure.ai.openai", ...; "*" for any provider. Calls of an unknown provider match rows of any provider.';
COMMENT ON COLUMN agent_trace.model_prices.effective_from IS 'First day (UTC) this price applies, up to the next row of the same model_pattern and provider. -infinity: since always (the first price known for a model).';
COMMENT ON COLUMN agent_trace.model_prices.input_usd_per_mtok IS 'Price of one million input tokens that are neither read from nor written to the prompt cache. NULL: not priced (calls with such tokens get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.output_usd_per_mtok IS 'Price of one million output tokens (reasoning tokens too, unless reasoning_usd_per_mtok is set). NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.cache_read_usd_per_mtok IS 'Price of one million input tokens read from the prompt cache. NULL: not priced (calls that read the cache get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.cache_write_usd_per_mtok IS 'Price of one million input tokens written to the prompt cache (Anthropic: the 5-minute cache write). NULL: cache writes cost the input price (OpenAI and Gemini charge nothing extra for them).';
COMMENT ON COLUMN agent_trace.model_prices.reasoning_usd_per_mtok IS 'Price of one million reasoning tokens. NULL: they cost the output price.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_above_tokens IS 'Long-context tier: a call whose input_tokens exceed this many is priced entirely at the long_context_* prices (as Google, Anthropic and OpenAI bill long prompts). NULL: one price at any length.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_input_usd_per_mtok IS 'Input price above long_context_above_tokens. NULL: not priced (such calls get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.long_context_output_usd_per_mtok IS 'Output (and reasoning) price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_read_usd_per_mtok IS 'Cache-read price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_write_usd_per_mtok IS 'Cache-write price above long_context_above_tokens. NULL: cache writes cost the long-context input price.';
COMMENT ON COLUMN agent_trace.model_prices.source IS 'Where the price comes from, e.g. "litellm 1.106.2 model_prices_and_context_window_backup.json"; "manual" for rows entered by hand.';
COMMENT ON COLUMN agent_trace.model_prices.source_date IS 'Date of the source (the price list''s publication date for imports). NULL when unknown.';
COMMENT ON COLUMN agent_trace.model_prices.created_at IS 'When this row was stored.';

-- pg_dump skips the data of extension tables unless they are registered here; prices are user data.
SELECT pg_catalog.pg_extension_config_dump('agent_trace.model_prices', '');

------------------------------------------------------------------------------------------------------
-- Matching a call to its price
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.normalize_provider(provider text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE lower(btrim(provider))
               WHEN '' THEN NULL
               -- Google: the Gemini API (AI Studio). gcp.gen_ai is "any Google GenAI endpoint" in
               -- the semantic conventions; Gemini CLI sends it for the Gemini API it uses by default.
               WHEN 'gcp.gen_ai' THEN 'gcp.gemini'
               WHEN 'gemini' THEN 'gcp.gemini'
               WHEN 'google' THEN 'gcp.gemini'
               WHEN 'google_genai' THEN 'gcp.gemini'
               WHEN 'google-genai' THEN 'gcp.gemini'
               WHEN 'google_ai_studio' THEN 'gcp.gemini'
               WHEN 'vertex_ai' THEN 'gcp.vertex_ai'
               WHEN 'vertexai' THEN 'gcp.vertex_ai'
               WHEN 'azure' THEN 'azure.ai.openai'
               WHEN 'az.ai.openai' THEN 'azure.ai.openai'
               WHEN 'bedrock' THEN 'aws.bedrock'
               WHEN 'aws' THEN 'aws.bedrock'
               WHEN 'mistral' THEN 'mistral_ai'
               WHEN 'mistralai' THEN 'mistral_ai'
               WHEN 'xai' THEN 'x_ai'
               ELSE lower(btrim(provider))
           END
$$;
COMMENT ON FUNCTION agent_trace.normalize_provider(text) IS
    'The provider name model_prices uses for a provider as clients send it: lower case, and the OpenTelemetry GenAI name (gen_ai.provider.name) for common older or vendor spellings: gcp.gen_ai, gemini, google -> gcp.gemini; vertex_ai, vertexai -> gcp.vertex_ai; azure -> azure.ai.openai; bedrock -> aws.bedrock. NULL for NULL or empty.';

CREATE FUNCTION agent_trace.price_for(model text, provider text, at timestamptz)
    RETURNS SETOF agent_trace.model_prices
    LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, not SQL: its plan is kept for the session, so the insert trigger's lookup per batch
    -- costs an execution, not a planning.
    RETURN QUERY
    WITH call AS (
        SELECT n.full_name, n.base_name,
               regexp_replace(n.base_name, '(-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$', '') AS undated_name,
               agent_trace.normalize_provider(price_for.provider) AS full_provider,
               coalesce(CASE WHEN EXISTS (SELECT FROM agent_trace.model_prices AS k
                                          WHERE k.provider = agent_trace.normalize_provider(n.prefix))
                             THEN agent_trace.normalize_provider(n.prefix) END,
                        agent_trace.normalize_provider(price_for.provider)) AS base_provider,
               (price_for.at AT TIME ZONE 'UTC')::date AS day
          FROM (SELECT lower(btrim(price_for.model)) AS full_name,
                       regexp_replace(lower(btrim(price_for.model)), '^.*/', '') AS base_name,
                       CASE WHEN strpos(price_for.model, '/') > 0
                            THEN split_part(lower(btrim(price_for.model)), '/', 1) END AS prefix
               ) AS n
         WHERE n.full_name <> ''
    ), candidates AS (
        SELECT p, m.step,
               CASE WHEN p.provider = m.call_provider THEN 0 WHEN p.provider = '*' THEN 1 ELSE 2 END AS provider_rank
          FROM call AS c
          JOIN agent_trace.model_prices AS p ON p.effective_from <= c.day
         CROSS JOIN LATERAL (
               SELECT CASE
                          WHEN p.model_pattern = c.full_name THEN 1
                          WHEN p.model_pattern = c.base_name THEN 2
                          WHEN p.model_pattern = c.undated_name THEN 3
                          WHEN strpos(p.model_pattern, '%') > 0
                               AND c.base_name LIKE replace(replace(p.model_pattern, '\', '\\'), '_', '\_') THEN 4
                      END AS step,
                      CASE WHEN p.model_pattern = c.full_name THEN c.full_provider ELSE c.base_provider END AS call_provider
               ) AS m
         WHERE m.step IS NOT NULL
           AND (p.provider = m.call_provider OR p.provider = '*' OR m.call_provider IS NULL)
    )
    SELECT (c.p).*
      FROM candidates AS c
     ORDER BY c.step, c.provider_rank, length((c.p).model_pattern) DESC, (c.p).model_pattern,
              (c.p).provider, (c.p).effective_from DESC
     LIMIT 1;
END
$$;
COMMENT ON FUNCTION agent_trace.price_for(text, text, timestamptz) IS
    'The model_prices row that prices a call of this model and provider made at this time, or no row. Most specific model match first (exact name, name without "vendor/" prefix, name without date stamp, longest LIKE pattern), then the call''s own provider before "*", then the latest effective_from not after the call''s UTC date. Example: SELECT * FROM agent_trace.price_for(''claude-sonnet-4-5-20250929'', ''anthropic'', now());';

-- The arithmetic, once, over arrays: the insert trigger and recompute_costs price a whole batch of
-- calls of one model with one call (a function with a pinned search_path cannot be inlined, and
-- calling one per span would cost more than storing the span); cost_at_price wraps it for one call.
CREATE FUNCTION agent_trace._costs_at_price(
    price agent_trace.model_prices, input_tokens bigint[], output_tokens bigint[],
    cache_read_tokens bigint[], cache_write_tokens bigint[], reasoning_tokens bigint[]) RETURNS numeric[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Per component: tokens x price per million; 0 tokens cost 0 even when unpriced, and tokens at
    -- an unpriced component make the whole cost unknown (NULL). PL/pgSQL keeps the plan for the
    -- session.
    RETURN (SELECT array_agg(
               CASE WHEN price IS NULL OR (c.input IS NULL AND c.output IS NULL) THEN NULL ELSE
               trim_scale(
                   (CASE WHEN t.uncached = 0 THEN 0 ELSE t.uncached * r.input END
                  + CASE WHEN t.cache_read = 0 THEN 0 ELSE t.cache_read * r.cache_read END
                  + CASE WHEN t.cache_write = 0 THEN 0 ELSE t.cache_write * r.cache_write END
                  + CASE WHEN t.answer = 0 THEN 0 ELSE t.answer * r.output END
                  + CASE WHEN t.reasoning = 0 THEN 0 ELSE t.reasoning * r.reasoning END) * 0.000001)
               END
               ORDER BY c.n)
      FROM unnest(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
           WITH ORDINALITY AS c(input, output, cache_read, cache_write, reasoning, n)
     CROSS JOIN LATERAL (
           SELECT greatest(coalesce(c.input, 0) - coalesce(c.cache_read, 0) - coalesce(c.cache_write, 0), 0) AS uncached,
                  coalesce(c.cache_read, 0) AS cache_read,
                  coalesce(c.cache_write, 0) AS cache_write,
                  greatest(coalesce(c.output, 0) - coalesce(c.reasoning, 0), 0) AS answer,
                  coalesce(c.reasoning, 0) AS reasoning,
                  (price).long_context_above_tokens IS NOT NULL
                      AND coalesce(c.input, 0) > (price).long_context_above_tokens AS long_context
           ) AS t
     CROSS JOIN LATERAL (
           SELECT CASE WHEN t.long_context THEN (price).long_context_input_usd_per_mtok ELSE (price).input_usd_per_mtok END AS input,
                  CASE WHEN t.long_context THEN (price).long_context_output_usd_per_mtok ELSE (price).output_usd_per_mtok END AS output,
                  CASE WHEN t.long_context THEN (price).long_context_cache_read_usd_per_mtok ELSE (price).cache_read_usd_per_mtok END AS cache_read,
                  CASE WHEN t.long_context
                       THEN coalesce((price).long_context_cache_write_usd_per_mtok, (price).long_context_input_usd_per_mtok)
                       ELSE coalesce((price).cache_write_usd_per_mtok, (price).input_usd_per_mtok) END AS cache_write,
                  CASE WHEN t.long_context
                       THEN (price).long_context_output_usd_per_mtok
                       ELSE coalesce((price).reasoning_usd_per_mtok, (price).output_usd_per_mtok) END AS reasoning
           ) AS r);
END
$$;
COMMENT ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) IS
    'agent_trace.cost_at_price of many calls at one price: the i-th cost from the i-th element of each token array (arrays of equal length). Internal: the insert trigger and recompute_costs price a batch with one call.';

CREATE FUNCTION agent_trace.cost_at_price(
    price agent_trace.model_prices, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (agent_trace._costs_at_price(price, ARRAY[input_tokens], ARRAY[output_tokens],
                ARRAY[cache_read_tokens], ARRAY[cache_write_tokens], ARRAY[reasoning_tokens]))[1]
$$;
COMMENT ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call at this price row, from token counts with the meaning of the agent_spans columns: input_tokens includes cache_read_tokens and cache_write_tokens, output_tokens includes reasoning_tokens. Charges (input - cache_read - cache_write) at the input price, cache reads at the cache-read price, cache writes at the cache-write price (else the input price), (output - reasoning) at the output price and reasoning at the reasoning price (else the output price); above long_context_above_tokens input tokens, the long-context prices. A missing count is 0. NULL when price is NULL, when both input_tokens and output_tokens are NULL, or when tokens fall on an unpriced (NULL) price.';

CREATE FUNCTION agent_trace.compute_cost(
    model text, provider text, at timestamptz, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT agent_trace.cost_at_price(p, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
      FROM agent_trace.price_for(model, provider, at) AS p
$$;
COMMENT ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call of this model and provider at this time with these token counts (agent_spans meaning: input_tokens includes cache reads and writes, output_tokens includes reasoning): agent_trace.cost_at_price of the row agent_trace.price_for picks. NULL when no price applies, the tokens are missing, or tokens fall on an unpriced component. Example: SELECT agent_trace.compute_cost(''gpt-4o'', ''openai'', now(), 1200, 300, 1000, NULL, NULL);';

------------------------------------------------------------------------------------------------------
-- Computed cost of spans
------------------------------------------------------------------------------------------------------
-- agent_spans is written by binary COPY and never updated; a BEFORE ROW trigger would turn COPY's
-- batched inserts into row-at-a-time ones. So the computed cost is not a column of agent_spans: the
-- statement trigger that folds new spans into agent_traces (rollup.sql) also prices them, one lookup
-- per (model, provider, day) of the batch, inserts one narrow row here per span it could price, and
-- adds their sum to agent_traces.computed_cost_usd in the same upsert. Join it to agent_spans on
-- (trace_id, span_id, start_time). No foreign key: it would forbid TRUNCATE agent_spans alone; delete
-- the rows here with their spans.

CREATE TABLE agent_trace.agent_span_costs (
    trace_id              agent_trace.trace_id NOT NULL,
    span_id               agent_trace.span_id NOT NULL,
    start_time            timestamptz NOT NULL,
    computed_cost_usd     numeric NOT NULL,
    price_model_pattern   text NOT NULL,
    price_provider        text NOT NULL,
    price_effective_from  date NOT NULL,
    computed_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT agent_span_costs_pkey PRIMARY KEY (trace_id, span_id, start_time)
);
CREATE INDEX agent_span_costs_start_time_brin ON agent_trace.agent_span_costs USING brin (start_time);

COMMENT ON TABLE agent_trace.agent_span_costs IS
    'Computed cost of each LLM or embedding span that reported tokens and a model but no cost_usd, and that a model_prices row prices: one row per such span, keyed like agent_spans (join on trace_id, span_id, start_time). Written by the database as spans are inserted; agent_trace.recompute_costs rewrites it after prices change. Spans without a row here have a provided cost_usd or could not be priced.';
COMMENT ON COLUMN agent_trace.agent_span_costs.trace_id IS 'trace_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.span_id IS 'span_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.start_time IS 'start_time of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_cost_usd IS 'Cost of the span in US dollars computed from its tokens and the price row named by the price_* columns (agent_trace.cost_at_price).';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_model_pattern IS 'model_pattern of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_provider IS 'provider of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_effective_from IS 'effective_from of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_at IS 'When this cost was computed (at insert, or by the last recompute_costs that changed it).';

------------------------------------------------------------------------------------------------------
-- Computed cost of log records
------------------------------------------------------------------------------------------------------
-- Log records are few (one per model call at most), so a BEFORE INSERT row trigger sets
-- agent_logs.computed_cost_usd directly, only on records that report tokens and a model but no cost.
-- agent_logs has no provider column: the record's gen_ai.provider.name (else gen_ai.system) attribute
-- is used, and without one any provider's price of the model matches.

CREATE FUNCTION agent_trace._log_provider(attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(attributes ->> 'gen_ai.provider.name', attributes ->> 'gen_ai.system')
$$;
COMMENT ON FUNCTION agent_trace._log_provider(jsonb) IS
    'Provider of a log record for pricing: its gen_ai.provider.name, else gen_ai.system attribute. Internal.';

CREATE FUNCTION agent_trace._cost_inserted_log() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.computed_cost_usd := agent_trace.compute_cost(
        NEW.model, agent_trace._log_provider(NEW.attributes), NEW.time, NEW.input_tokens,
        NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._cost_inserted_log() IS
    'Trigger function: sets computed_cost_usd of a log record that reports tokens but no cost_usd. Internal.';

CREATE TRIGGER agent_logs_compute_cost
    BEFORE INSERT ON agent_trace.agent_logs
    FOR EACH ROW
    WHEN (NEW.cost_usd IS NULL AND NEW.model IS NOT NULL
          AND (NEW.input_tokens IS NOT NULL OR NEW.output_tokens IS NOT NULL))
    EXECUTE FUNCTION agent_trace._cost_inserted_log();

------------------------------------------------------------------------------------------------------
-- Re-costing after a price change
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.recompute_costs(
    from_time timestamptz, to_time timestamptz,
    OUT span_costs_added bigint, OUT span_costs_changed bigint, OUT span_costs_removed bigint,
    OUT traces_updated bigint, OUT log_costs_changed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    affected agent_trace.trace_id[];
BEGIN
    -- 1. Spans that started in [from_time, to_time): what their computed cost is now, against what
    --    agent_span_costs holds; write only the differences.
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_spans AS s
         WHERE s.start_time >= from_time AND s.start_time < to_time
           AND s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.trace_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider, p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
    ), stored AS (
        SELECT c.* FROM agent_trace.agent_span_costs AS c
         WHERE c.start_time >= from_time AND c.start_time < to_time
    ), changes AS MATERIALIZED (
        SELECT coalesce(w.trace_id, s.trace_id) AS trace_id, coalesce(w.span_id, s.span_id) AS span_id,
               coalesce(w.start_time, s.start_time) AS start_time, w.cost, w.model_pattern, w.provider,
               w.effective_from, s.trace_id IS NULL AS added
          FROM wanted AS w
          FULL JOIN stored AS s
            ON s.trace_id = w.trace_id AND s.span_id = w.span_id AND s.start_time = w.start_time
         WHERE (w.cost, w.model_pattern, w.provider, w.effective_from)
               IS DISTINCT FROM (s.computed_cost_usd, s.price_model_pattern, s.price_provider, s.price_effective_from)
    ), written AS (
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, span_id, start_time, computed_cost_usd,
               price_model_pattern, price_provider, price_effective_from)
        SELECT ch.trace_id, ch.span_id, ch.start_time, ch.cost, ch.model_pattern, ch.provider, ch.effective_from
          FROM changes AS ch
         WHERE ch.cost IS NOT NULL
         ORDER BY ch.trace_id, ch.span_id, ch.start_time
            ON CONFLICT (trace_id, span_id, start_time) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = now()
    ), removed AS (
        DELETE FROM agent_trace.agent_span_costs AS c
         USING changes AS ch
         WHERE ch.cost IS NULL
           AND c.trace_id = ch.trace_id AND c.span_id = ch.span_id AND c.start_time = ch.start_time
    )
    SELECT count(*) FILTER (WHERE ch.cost IS NOT NULL AND ch.added),
           count(*) FILTER (WHERE ch.cost IS NOT NULL AND NOT ch.added),
           count(*) FILTER (WHERE ch.cost IS NULL),
           array_agg(DISTINCT ch.trace_id)
      INTO span_costs_added, span_costs_changed, span_costs_removed, affected
      FROM changes AS ch;

    -- 2. Their traces' totals, from agent_span_costs. Lock the trace rows first (in trace_id order, as
    --    the insert trigger does): a concurrent insert that already added to a total has then
    --    committed and its cost rows are seen by the sum below (a new statement, a new snapshot); one
    --    that has not reached the trace row yet adds its own spans on top afterwards.
    PERFORM FROM agent_trace.agent_traces AS t
      WHERE t.trace_id = ANY (affected)
      ORDER BY t.trace_id
        FOR UPDATE;
    UPDATE agent_trace.agent_traces AS t
       SET computed_cost_usd = x.total
      FROM (SELECT a.trace_id,
                   (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c
                     WHERE c.trace_id = a.trace_id) AS total
              FROM unnest(affected) AS a(trace_id)) AS x
     WHERE t.trace_id = x.trace_id AND t.computed_cost_usd IS DISTINCT FROM x.total;
    GET DIAGNOSTICS traces_updated = ROW_COUNT;

    -- 3. Log records of [from_time, to_time) (few: one per model call).
    WITH batches AS (
        SELECT l.model, agent_trace._log_provider(l.attributes) AS provider,
               (l.time AT TIME ZONE 'UTC')::date AS day, array_agg(l.record_key) AS record_keys,
               array_agg(l.time) AS times, array_agg(l.input_tokens) AS input_tokens,
               array_agg(l.output_tokens) AS output_tokens, array_agg(l.cache_read_tokens) AS cache_read_tokens,
               array_agg(l.cache_write_tokens) AS cache_write_tokens, array_agg(l.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_logs AS l
         WHERE l.time >= from_time AND l.time < to_time
           AND l.cost_usd IS NULL AND l.model IS NOT NULL
           AND (l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.record_key, u.time, u.cost
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.record_keys, b.times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(record_key, time, cost)
    ), target AS (
        -- Records that get a cost now, and records that had one (it may go).
        SELECT l.record_key, l.time, l.computed_cost_usd AS stored_cost, w.cost
          FROM agent_trace.agent_logs AS l
          LEFT JOIN wanted AS w ON w.record_key = l.record_key AND w.time = l.time
         WHERE l.time >= from_time AND l.time < to_time
           AND (w.cost IS NOT NULL OR l.computed_cost_usd IS NOT NULL)
    )
    UPDATE agent_trace.agent_logs AS l
       SET computed_cost_usd = t.cost
      FROM target AS t
     WHERE l.record_key = t.record_key AND l.time = t.time AND t.cost IS DISTINCT FROM t.stored_cost;
    GET DIAGNOSTICS log_costs_changed = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) IS
    'Re-computes the computed cost of the spans and log records whose start_time / time lies in [from_time, to_time) against model_prices as they are now, after you changed, added or deleted prices: adds, changes or removes agent_span_costs rows, updates the computed_cost_usd of their traces and of agent_logs rows. Changes only what differs, so a second run changes nothing. Returns how many span costs were added, changed and removed, traces updated and log costs changed. Example: SELECT * FROM agent_trace.recompute_costs(''2026-01-01'', now());';

------------------------------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------------------------------
-- access.sql creates the two roles and grants SELECT on every table to agent_trace_reader; it runs
-- last, and these grants need the roles now, so make sure they exist (access.sql then finds them).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_writer') THEN
        CREATE ROLE agent_trace_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_reader') THEN
        CREATE ROLE agent_trace_reader NOLOGIN;
    END IF;
END
$roles$;

-- The span insert trigger runs as the inserting role: it reads prices and upserts span costs (ON
-- CONFLICT DO UPDATE: a span that is re-inserted after being deleted gets its cost rewritten). The
-- log insert trigger reads prices too.
GRANT SELECT ON agent_trace.model_prices TO agent_trace_writer;
GRANT SELECT, INSERT, UPDATE ON agent_trace.agent_span_costs TO agent_trace_writer;

REVOKE ALL ON FUNCTION agent_trace.normalize_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.price_for(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._log_provider(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._cost_inserted_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION agent_trace.normalize_provider(text) TO agent_trace_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace.price_for(text, text, timestamptz) TO agent_trace_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[])
    TO agent_trace_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint)
    TO agent_trace_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint)
    TO agent_trace_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace._log_provider(jsonb) TO agent_trace_writer;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   tables

-- agent_traces is maintained by the database, not by whoever writes spans.
--
-- An AFTER INSERT statement trigger on agent_spans folds the rows that statement actually inserted
-- (its transition table) into agent_traces. Rows that `INSERT ... ON CONFLICT DO NOTHING` skipped are
-- not in the transition table, so a re-sent span never counts twice. Every fold is order-free (sums,
-- counts, least/greatest, "the earliest root wins"), so spans arriving in any order and in any
-- batches give the same agent_traces row.
--
-- Token and cost totals add up only LLM and embedding spans: agent and chain spans often repeat the
-- usage of the LLM calls beneath them, and summing those too would count it twice.
--
-- Rows are upserted in trace_id order, so concurrent writers lock agent_traces rows in the same
-- order and cannot deadlock on them.
--
-- The same statement prices the new LLM and embedding spans that report tokens and a model but no
-- cost (prices.sql): one agent_trace.price_for lookup and one _costs_at_price call per (model,
-- provider, UTC day) of the batch, not per span; one narrow agent_span_costs row per span it could
-- price; their sum folded into agent_traces.computed_cost_usd in the same upsert. agent_spans itself
-- is never updated and gets no row trigger, so COPY keeps inserting in batches. price_for,
-- _costs_at_price and agent_span_costs are created by prices.sql, after this file; PL/pgSQL resolves
-- them when the trigger first runs.

CREATE OR REPLACE FUNCTION agent_trace._fold_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    WITH batches AS (
        -- The new LLM and embedding spans to price, one row per (model, provider, UTC day): one
        -- price lookup and one cost computation each. The array_aggs of one group see the same rows
        -- in the same order, so their elements line up.
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM new_spans AS s
         WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), costed AS (
        -- ON CONFLICT: a row left behind by a span that was deleted and is now stored again.
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, span_id, start_time, computed_cost_usd,
               price_model_pattern, price_provider, price_effective_from)
        SELECT u.trace_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider, p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
         ORDER BY u.trace_id, u.span_id, u.start_time
            ON CONFLICT (trace_id, span_id, start_time) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = now()
        RETURNING c.trace_id, c.computed_cost_usd
    ), computed_per_trace AS (
        SELECT c.trace_id, sum(c.computed_cost_usd) AS computed_cost_usd
          FROM costed AS c
         GROUP BY c.trace_id
    ), per_trace AS (
        SELECT s.trace_id,
               min(s.start_time) AS start_time,
               max(s.end_time) AS end_time,
               count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm') AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool') AS tool_call_count,
               sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS input_tokens,
               sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS output_tokens,
               sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cache_read_tokens,
               sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cache_write_tokens,
               sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS reasoning_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               min(s.service_name) AS service_name,
               min(s.session_id) AS session_id,
               min(s.user_id) AS user_id,
               min(s.agent_name) AS agent_name,
               min(s.agent_id) AS agent_id,
               min(s.run_id) AS run_id,
               min(s.team_id) AS team_id,
               min(s.workflow_id) AS workflow_id,
               min(s.correlation_id) AS correlation_id
          FROM new_spans AS s
         GROUP BY s.trace_id
    ), root_candidates AS (
        -- The earliest parentless span of this batch, per trace.
        SELECT DISTINCT ON (s.trace_id) s.trace_id, s.span_id, s.start_time, s.name, s.service_name, s.input, s.output
          FROM new_spans AS s
         WHERE s.parent_span_id IS NULL
         ORDER BY s.trace_id, s.start_time, s.span_id
    )
    INSERT INTO agent_trace.agent_traces AS t (
        trace_id, name, start_time, end_time, span_count, error_count, llm_call_count, tool_call_count,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        service_name, session_id, user_id, agent_name, agent_id, run_id, team_id, workflow_id,
        correlation_id, input, output, root_span_id, root_start_time, computed_cost_usd)
    SELECT p.trace_id, r.name, p.start_time, p.end_time, p.span_count, p.error_count, p.llm_call_count,
           p.tool_call_count, p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens,
           p.reasoning_tokens, p.cost_usd, coalesce(r.service_name, p.service_name), p.session_id,
           p.user_id, p.agent_name, p.agent_id, p.run_id, p.team_id, p.workflow_id, p.correlation_id,
           left(r.input, 500), left(r.output, 500), r.span_id, r.start_time, cc.computed_cost_usd
      FROM per_trace AS p
      LEFT JOIN root_candidates AS r ON r.trace_id = p.trace_id
      LEFT JOIN computed_per_trace AS cc ON cc.trace_id = p.trace_id
     ORDER BY p.trace_id
        ON CONFLICT (trace_id) DO UPDATE SET
           start_time = least(t.start_time, excluded.start_time),
           end_time = greatest(t.end_time, excluded.end_time),
           span_count = t.span_count + excluded.span_count,
           error_count = t.error_count + excluded.error_count,
           llm_call_count = t.llm_call_count + excluded.llm_call_count,
           tool_call_count = t.tool_call_count + excluded.tool_call_count,
           -- NULL + n is NULL, so: the sum when both are known, else whichever is known.
           input_tokens = coalesce(t.input_tokens + excluded.input_tokens, t.input_tokens, excluded.input_tokens),
           output_tokens = coalesce(t.output_tokens + excluded.output_tokens, t.output_tokens, excluded.output_tokens),
           cache_read_tokens = coalesce(t.cache_read_tokens + excluded.cache_read_tokens, t.cache_read_tokens, excluded.cache_read_tokens),
           cache_write_tokens = coalesce(t.cache_write_tokens + excluded.cache_write_tokens, t.cache_write_tokens, excluded.cache_write_tokens),
           reasoning_tokens = coalesce(t.reasoning_tokens + excluded.reasoning_tokens, t.reasoning_tokens, excluded.reasoning_tokens),
           cost_usd = coalesce(t.cost_usd + excluded.cost_usd, t.cost_usd, excluded.cost_usd),
           computed_cost_usd = coalesce(t.computed_cost_usd + excluded.computed_cost_usd,
                                        t.computed_cost_usd, excluded.computed_cost_usd),
           -- least() skips NULLs: the smallest value seen, whatever order the spans came in.
           session_id = least(t.session_id, excluded.session_id),
           user_id = least(t.user_id, excluded.user_id),
           agent_name = least(t.agent_name, excluded.agent_name),
           agent_id = least(t.agent_id, excluded.agent_id),
           run_id = least(t.run_id, excluded.run_id),
           team_id = least(t.team_id, excluded.team_id),
           workflow_id = least(t.workflow_id, excluded.workflow_id),
           correlation_id = least(t.correlation_id, excluded.correlation_id),
           -- The root-derived columns change only when this batch brings an earlier root than the
           -- one stored (a missing stored root counts as infinitely late; a missing new one is
           -- never earlier, since the comparison is then NULL).
           service_name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.service_name
               WHEN t.root_span_id IS NULL THEN least(t.service_name, excluded.service_name)
               ELSE t.service_name END,
           name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.name ELSE t.name END,
           input = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.input ELSE t.input END,
           output = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.output ELSE t.output END,
           root_span_id = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_span_id ELSE t.root_span_id END,
           root_start_time = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_start_time ELSE t.root_start_time END,
           updated_at = now();
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._fold_inserted_spans() IS
    'Trigger function: folds the spans an INSERT statement stored into their agent_traces rows, and prices those without a provided cost into agent_span_costs. Internal.';


-- requires:
--   prices

-- Sessions across traced agents and coding-assistant CLIs: one row per session, whichever way its
-- telemetry came.
--
-- Two sources, each counted once:
--   * log events (agent_logs): the truth for Claude Code, Gemini CLI and Codex CLI, which put
--     tokens and cost on one event per model call (the ingest fills the usage columns on exactly
--     that event, see ingest/src/map_logs.rs);
--   * traces (agent_traces): every traced agent with a session id.
-- A session can arrive both ways (Claude Code sends traces and logs with the same session.id).
-- Usage then comes from the logs alone, which carry what the tool billed; counts of runs and
-- times merge. Metrics are not summed here: Claude Code and Gemini CLI report the same usage as
-- cumulative counters too (agent_metric_deltas charts them).

CREATE FUNCTION agent_trace.tool_label(service_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
               WHEN service_name = 'claude-code' THEN 'Claude Code'
               WHEN service_name = 'gemini-cli' THEN 'Gemini CLI'
               WHEN service_name LIKE 'codex%' THEN 'Codex'
               ELSE service_name
           END
$$;
COMMENT ON FUNCTION agent_trace.tool_label(text) IS
    'The product behind a service.name: Claude Code, Gemini CLI, Codex, else the service name itself.';

CREATE VIEW agent_trace.agent_sessions AS
WITH from_logs AS (
    SELECT l.session_id,
           agent_trace.tool_label(min(l.service_name)) AS tool,
           min(l.user_id) AS user_id,
           min(l.time) AS first_activity,
           max(l.time) AS last_activity,
           count(*) FILTER (WHERE l.event_name IN ('user_prompt', 'gemini_cli.user_prompt', 'codex.user_prompt')) AS prompts,
           count(*) FILTER (WHERE l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL) AS model_calls,
           count(*) FILTER (WHERE l.event_name IN ('tool_result', 'gemini_cli.tool_call', 'codex.tool_result')) AS tool_calls,
           count(*) FILTER (WHERE l.event_name IN ('api_error', 'gemini_cli.api_error', 'codex.api_error')
                               OR l.severity_number >= 17) AS errors,
           sum(l.input_tokens) AS input_tokens,
           sum(l.output_tokens) AS output_tokens,
           sum(l.cache_read_tokens) AS cache_read_tokens,
           sum(l.cache_write_tokens) AS cache_write_tokens,
           sum(l.reasoning_tokens) AS reasoning_tokens,
           sum(l.cost_usd) AS cost_usd,
           sum(l.computed_cost_usd) AS computed_cost_usd,
           bool_or(l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL) AS has_usage
      FROM agent_trace.agent_logs AS l
     WHERE l.session_id IS NOT NULL
     GROUP BY l.session_id
), from_traces AS (
    SELECT t.session_id,
           agent_trace.tool_label(min(t.service_name)) AS tool,
           min(t.user_id) AS user_id,
           min(t.start_time) AS first_activity,
           max(t.end_time) AS last_activity,
           count(*) AS runs,
           sum(t.llm_call_count) AS model_calls,
           sum(t.tool_call_count) AS tool_calls,
           sum(t.error_count) AS errors,
           sum(t.input_tokens) AS input_tokens,
           sum(t.output_tokens) AS output_tokens,
           sum(t.cache_read_tokens) AS cache_read_tokens,
           sum(t.cache_write_tokens) AS cache_write_tokens,
           sum(t.reasoning_tokens) AS reasoning_tokens,
           sum(t.cost_usd) AS cost_usd,
           sum(t.computed_cost_usd) AS computed_cost_usd
      FROM agent_trace.agent_traces AS t
     WHERE t.session_id IS NOT NULL
     GROUP BY t.session_id
)
SELECT coalesce(l.session_id, t.session_id) AS session_id,
       coalesce(l.tool, t.tool) AS tool,
       coalesce(l.user_id, t.user_id) AS user_id,
       least(l.first_activity, t.first_activity) AS first_activity,
       greatest(l.last_activity, t.last_activity) AS last_activity,
       -- A traced agent's run is one prompt; a CLI logs its prompts.
       CASE WHEN l.prompts > 0 THEN l.prompts ELSE coalesce(t.runs, 0) END AS prompts,
       coalesce(t.runs, 0) AS traces,
       CASE WHEN l.has_usage THEN l.model_calls ELSE coalesce(t.model_calls, 0) END AS model_calls,
       greatest(coalesce(l.tool_calls, 0), coalesce(t.tool_calls, 0)) AS tool_calls,
       greatest(coalesce(l.errors, 0), coalesce(t.errors, 0)) AS errors,
       CASE WHEN l.has_usage THEN l.input_tokens ELSE t.input_tokens END AS input_tokens,
       CASE WHEN l.has_usage THEN l.output_tokens ELSE t.output_tokens END AS output_tokens,
       CASE WHEN l.has_usage THEN l.cache_read_tokens ELSE t.cache_read_tokens END AS cache_read_tokens,
       CASE WHEN l.has_usage THEN l.cache_write_tokens ELSE t.cache_write_tokens END AS cache_write_tokens,
       CASE WHEN l.has_usage THEN l.reasoning_tokens ELSE t.reasoning_tokens END AS reasoning_tokens,
       CASE WHEN l.has_usage THEN l.cost_usd ELSE t.cost_usd END AS cost_usd,
       CASE WHEN l.has_usage THEN l.computed_cost_usd ELSE t.computed_cost_usd END AS computed_cost_usd
  FROM from_logs AS l
  FULL JOIN from_traces AS t ON t.session_id = l.session_id;

COMMENT ON VIEW agent_trace.agent_sessions IS
    'One row per session, from coding-assistant log events (Claude Code, Gemini CLI, Codex CLI) and from traced agents, each counted once: when a session has usage in its log events, tokens and cost come from those alone (what the tool reported); otherwise from its traces. Computed when read; filter by session_id, tool or time.';
COMMENT ON COLUMN agent_trace.agent_sessions.session_id IS 'Session id as the tool sends it (session.id, conversation.id, gen_ai.conversation.id).';
COMMENT ON COLUMN agent_trace.agent_sessions.tool IS 'What ran the session: Claude Code, Gemini CLI, Codex, else the service name.';
COMMENT ON COLUMN agent_trace.agent_sessions.user_id IS 'User of the session (user.id), the smallest if several.';
COMMENT ON COLUMN agent_trace.agent_sessions.first_activity IS 'Time of the session''s first event or span.';
COMMENT ON COLUMN agent_trace.agent_sessions.last_activity IS 'Time of the session''s last event, or end of its last span.';
COMMENT ON COLUMN agent_trace.agent_sessions.prompts IS 'User prompts: prompt events of a CLI, else the number of traced runs.';
COMMENT ON COLUMN agent_trace.agent_sessions.traces IS 'Traces (runs) recorded for the session.';
COMMENT ON COLUMN agent_trace.agent_sessions.model_calls IS 'LLM calls: events that reported usage, else LLM spans.';
COMMENT ON COLUMN agent_trace.agent_sessions.tool_calls IS 'Tool calls: tool result events or tool spans, whichever saw more.';
COMMENT ON COLUMN agent_trace.agent_sessions.errors IS 'API error events and events of severity ERROR or worse, or spans with status ERROR, whichever saw more.';
COMMENT ON COLUMN agent_trace.agent_sessions.input_tokens IS 'Input tokens, cache reads and writes included.';
COMMENT ON COLUMN agent_trace.agent_sessions.output_tokens IS 'Output tokens, reasoning included.';
COMMENT ON COLUMN agent_trace.agent_sessions.cache_read_tokens IS 'Input tokens served from the prompt cache.';
COMMENT ON COLUMN agent_trace.agent_sessions.cache_write_tokens IS 'Input tokens written to the prompt cache.';
COMMENT ON COLUMN agent_trace.agent_sessions.reasoning_tokens IS 'Output tokens spent on reasoning.';
COMMENT ON COLUMN agent_trace.agent_sessions.cost_usd IS 'Cost in US dollars as the tool reported it (e.g. Claude Code''s cost_usd).';
COMMENT ON COLUMN agent_trace.agent_sessions.computed_cost_usd IS 'Cost computed from agent_trace.model_prices for the calls that reported none. cost_usd + computed_cost_usd is the session''s cost as far as it is known.';

REVOKE ALL ON FUNCTION agent_trace.tool_label(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.tool_label(text) TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::trace_tree_json
CREATE  FUNCTION agent_trace."trace_tree_json"(
	"trace_id" agent_trace.trace_id, /* TraceId */
	"root_span_id" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS jsonb /* Option < JsonB > */
STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'trace_tree_json_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::critical_path
CREATE  FUNCTION agent_trace."critical_path"(
	"trace_id" agent_trace.trace_id, /* TraceId */
	"root_span_id" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS TABLE (
	"step" INT,  /* i32 */
	"depth" INT,  /* i32 */
	"span_id" agent_trace.span_id,  /* SpanId */
	"name" TEXT,  /* String */
	"span_type" TEXT,  /* String */
	"status" TEXT,  /* String */
	"start_offset_ms" double precision,  /* f64 */
	"duration_ms" double precision,  /* f64 */
	"critical_ms" double precision  /* f64 */
)
STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'critical_path_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::diff_traces
CREATE  FUNCTION agent_trace."diff_traces"(
	"trace_a" agent_trace.trace_id, /* TraceId */
	"trace_b" agent_trace.trace_id, /* TraceId */
	"root_span_a" agent_trace.span_id DEFAULT NULL, /* Option < SpanId > */
	"root_span_b" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS TABLE (
	"step" INT,  /* i32 */
	"depth" INT,  /* i32 */
	"path" TEXT,  /* String */
	"change" TEXT,  /* String */
	"span_type" TEXT,  /* String */
	"name" TEXT,  /* String */
	"span_id_a" agent_trace.span_id,  /* Option < SpanId > */
	"span_id_b" agent_trace.span_id,  /* Option < SpanId > */
	"status_a" TEXT,  /* Option < String > */
	"status_b" TEXT,  /* Option < String > */
	"model_a" TEXT,  /* Option < String > */
	"model_b" TEXT,  /* Option < String > */
	"start_offset_ms_a" double precision,  /* Option < f64 > */
	"start_offset_ms_b" double precision,  /* Option < f64 > */
	"duration_ms_a" double precision,  /* Option < f64 > */
	"duration_ms_b" double precision,  /* Option < f64 > */
	"duration_delta_ms" double precision,  /* Option < f64 > */
	"tokens_a" bigint,  /* Option < i64 > */
	"tokens_b" bigint,  /* Option < i64 > */
	"tokens_delta" bigint,  /* Option < i64 > */
	"cost_usd_a" NUMERIC,  /* Option < AnyNumeric > */
	"cost_usd_b" NUMERIC,  /* Option < AnyNumeric > */
	"cost_delta_usd" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_usd_a" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_usd_b" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_delta_usd" NUMERIC,  /* Option < AnyNumeric > */
	"input_differs" bool,  /* Option < bool > */
	"output_differs" bool  /* Option < bool > */
)
STABLE PARALLEL SAFE 
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'diff_traces_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   tables
--   api::agent_trace::trace_tree_json
--   api::agent_trace::diff_traces
--   api::agent_trace::critical_path

-- The SQL API over traces: trees, diffs, replay, critical path.
--
-- Four functions need an algorithm and are Rust (extension/src/api.rs): trace_tree (depth-first
-- order with cycle cuts, O(n log n) where a recursive CTE is quadratic on deep chains),
-- trace_tree_json (nesting), diff_traces (sequence alignment) and critical_path (a backward walk).
-- What is set-based is plain SQL here, built on those: ancestors and descendants (a subtree is a
-- contiguous range of tree_order), replay (a join and a sort), replay_json (an aggregate) and
-- diff_summary (aggregates plus one ordered pick from diff_traces).
--
-- Every function takes trace ids as the hex text users copy from logs
-- (trace_tree('4bf92f3577b34da6a3ce929d0e0e4736')) and an optional span id: with one, it works on
-- that span's subtree alone, e.g. one turn of a long session (see agent_turns).
-- An unknown trace or span gives no rows (NULL for the JSON functions), never an error.

-- One span in a trace's tree: the row type of trace_tree, span_ancestors and span_descendants.
CREATE TYPE agent_trace.tree_node AS (
    tree_order              integer,
    depth                   integer,
    path                    text,
    span_id                 agent_trace.span_id,
    parent_span_id          agent_trace.span_id,
    start_time              timestamptz,
    name                    text,
    span_type               text,
    status                  text,
    model                   text,
    start_offset_ms         double precision,
    duration_ms             double precision,
    self_time_ms            double precision,
    input_tokens            bigint,
    output_tokens           bigint,
    cost_usd                numeric,
    computed_cost_usd       numeric,
    subtree_spans           integer,
    subtree_input_tokens    bigint,
    subtree_output_tokens   bigint,
    subtree_cost_usd        numeric,
    subtree_computed_cost_usd numeric,
    subtree_errors          integer,
    is_orphan               boolean,
    is_cycle                boolean
);
COMMENT ON TYPE agent_trace.tree_node IS 'One span in a trace''s tree, as trace_tree, span_ancestors and span_descendants return it.';
COMMENT ON COLUMN agent_trace.tree_node.tree_order IS 'Position in depth-first order (siblings by start time), from 1.';
COMMENT ON COLUMN agent_trace.tree_node.depth IS 'Levels below the top (0 for a root, an orphan, or the span a subtree was asked for).';
COMMENT ON COLUMN agent_trace.tree_node.path IS 'Rank among siblings at each level from the top, e.g. "1.2.1"; deeper than 24 levels the middle shows as "…".';
COMMENT ON COLUMN agent_trace.tree_node.span_id IS 'The span.';
COMMENT ON COLUMN agent_trace.tree_node.parent_span_id IS 'Its parent as recorded (also when that parent never arrived: see is_orphan).';
COMMENT ON COLUMN agent_trace.tree_node.start_time IS 'When the span started.';
COMMENT ON COLUMN agent_trace.tree_node.name IS 'Span name.';
COMMENT ON COLUMN agent_trace.tree_node.span_type IS 'agent, llm, tool, ... as in agent_spans.';
COMMENT ON COLUMN agent_trace.tree_node.status IS 'OK, ERROR or UNSET.';
COMMENT ON COLUMN agent_trace.tree_node.model IS 'Model of an LLM or embedding call.';
COMMENT ON COLUMN agent_trace.tree_node.start_offset_ms IS 'Milliseconds from the start of the trace (or of the subtree asked for) to the span''s start.';
COMMENT ON COLUMN agent_trace.tree_node.duration_ms IS 'How long the span took, in milliseconds.';
COMMENT ON COLUMN agent_trace.tree_node.self_time_ms IS 'Milliseconds of the span not covered by any of its children.';
COMMENT ON COLUMN agent_trace.tree_node.input_tokens IS 'The span''s own input tokens, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.output_tokens IS 'The span''s own output tokens, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.cost_usd IS 'The span''s own cost in US dollars, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.computed_cost_usd IS 'The span''s cost computed from model_prices (agent_span_costs), when it reported tokens but no cost.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_spans IS 'Spans in the subtree, the span itself included.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_input_tokens IS 'Input tokens of the LLM and embedding spans in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_output_tokens IS 'Output tokens of the LLM and embedding spans in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_cost_usd IS 'Reported cost of the LLM and embedding spans in the subtree, in US dollars.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_computed_cost_usd IS 'Computed cost of the LLM and embedding spans in the subtree; subtree_cost_usd + subtree_computed_cost_usd is its cost as far as it is known.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_errors IS 'Spans with status ERROR in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.is_orphan IS 'The span names a parent that never arrived; it is shown at the top level.';
COMMENT ON COLUMN agent_trace.tree_node.is_cycle IS 'The span''s parent chain looped back to it; the loop was cut here and the span shown at the top level.';

-- Rust (extension/src/api.rs), returning its rows in materialize mode: a plain C-language function.
CREATE FUNCTION agent_trace.trace_tree(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS SETOF agent_trace.tree_node
LANGUAGE c STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'agent_trace_trace_tree';
COMMENT ON FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) IS
    'The spans of a trace as a tree: one row per span in depth-first order (siblings by start time). path is the rank among siblings at each level ("1.2.1"; deeper than 24 levels the middle shows as "…"). self_time_ms is the time no child covered; subtree_* sum the span and everything below it (tokens and cost over llm and embedding spans only, as agent_traces does, since wrapper spans repeat their children''s usage). is_orphan: the parent never arrived (shown at the top level). is_cycle: the parent chain looped and was cut here. With root_span_id: that span''s subtree only, depths, paths and offsets counted from it.';
COMMENT ON FUNCTION agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id) IS
    'The same tree as trace_tree, as one nested jsonb document for applications: {trace_id, span_count, spans: [{span_id, name, span_type, status, model, start_offset_ms, duration_ms, self_time_ms, input_tokens, output_tokens, cost_usd, computed_cost_usd, subtree: {spans, input_tokens, output_tokens, cost_usd, computed_cost_usd, errors}, children: [...]}]}. NULL for an unknown trace or span.';
COMMENT ON FUNCTION agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'Two runs aligned node by node, depth-first. Spans correspond when they have the same span type and name at every level from the top (an LLM call''s name without its model, so a run against another model still lines up); siblings are aligned as sequences with a minimal edit script, so one extra call does not shift the later ones. change: same, changed (status, model, input, output or tokens differ; duration alone does not count), added (only in B) or removed (only in A). Deltas are B minus A. cost_usd_* are reported costs, computed_cost_usd_* those computed from model_prices.';
COMMENT ON FUNCTION agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain of spans that determined the trace''s wall time: from the span that finished last, walking back through the child that finished last before each point (a child ending exactly when the next starts counts as before it). critical_ms is the part of the wall time a span accounts for itself; over all rows it adds up to the wall time, minus gaps when nothing ran.';

CREATE FUNCTION agent_trace.span_descendants(trace_id agent_trace.trace_id, span_id agent_trace.span_id)
RETURNS SETOF agent_trace.tree_node
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- In depth-first order a subtree is the range of rows right after its root.
    WITH tree AS MATERIALIZED (SELECT * FROM agent_trace.trace_tree(trace_id))
    SELECT t.*
      FROM tree AS t,
           (SELECT tree_order, subtree_spans FROM tree WHERE tree.span_id = span_descendants.span_id
             ORDER BY tree_order LIMIT 1) AS me
     WHERE t.tree_order > me.tree_order AND t.tree_order < me.tree_order + me.subtree_spans
     ORDER BY t.tree_order
$$;
COMMENT ON FUNCTION agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id) IS
    'Everything below one span (not the span itself), as trace_tree rows of the whole trace, depth-first. No rows for an unknown span.';

CREATE FUNCTION agent_trace.span_ancestors(trace_id agent_trace.trace_id, span_id agent_trace.span_id)
RETURNS SETOF agent_trace.tree_node
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- An ancestor is a row whose subtree range contains the span's row.
    WITH tree AS MATERIALIZED (SELECT * FROM agent_trace.trace_tree(trace_id))
    SELECT t.*
      FROM tree AS t,
           (SELECT tree_order FROM tree WHERE tree.span_id = span_ancestors.span_id
             ORDER BY tree_order LIMIT 1) AS me
     WHERE t.tree_order < me.tree_order AND t.tree_order + t.subtree_spans > me.tree_order
     ORDER BY t.tree_order
$$;
COMMENT ON FUNCTION agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain above one span, from the top of the trace down to its parent, as trace_tree rows. Stops where a loop was cut (is_cycle). No rows for an unknown span or a top-level one.';

-- Text that holds JSON (recorded messages usually do) as that JSON, anything else as a JSON string.
CREATE FUNCTION agent_trace._json_or_text(value text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF left(ltrim(value), 1) IN ('{', '[') THEN
        BEGIN
            RETURN value::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
            NULL; -- not JSON after all: keep it as text
        END;
    END IF;
    RETURN to_jsonb(value);
END
$$;
COMMENT ON FUNCTION agent_trace._json_or_text(text) IS
    'Internal: text holding a JSON object or array as that jsonb, other text as a jsonb string.';

CREATE FUNCTION agent_trace.replay(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS TABLE (
    step bigint, start_offset_ms double precision, depth integer, span_type text, name text,
    model text, input text, output text, tool_name text, tool_arguments text, tool_result text,
    status text, error text, input_tokens bigint, output_tokens bigint, cost_usd numeric,
    computed_cost_usd numeric, span_id agent_trace.span_id)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT row_number() OVER (ORDER BY t.start_time, t.tree_order),
           t.start_offset_ms, t.depth, t.span_type, t.name, t.model, s.input, s.output, s.tool_name,
           CASE WHEN t.span_type = 'tool' THEN s.input END,
           CASE WHEN t.span_type = 'tool' THEN s.output END,
           t.status, s.status_message, t.input_tokens, t.output_tokens, t.cost_usd, t.computed_cost_usd,
           t.span_id
      FROM agent_trace.trace_tree(trace_id, root_span_id) AS t
      JOIN agent_trace.agent_spans AS s
        ON s.trace_id = replay.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
     ORDER BY t.start_time, t.tree_order
$$;
COMMENT ON FUNCTION agent_trace.replay(agent_trace.trace_id, agent_trace.span_id) IS
    'The run as chronological steps (by start time; a parent before a child that starts with it), with the full input and output of each: the messages an LLM call was sent and what it answered, a tool''s arguments (tool_arguments) and result (tool_result). error is the status message of a failed step.';

CREATE FUNCTION agent_trace.replay_json(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
               'trace_id', replay_json.trace_id::text,
               'steps', jsonb_agg(step ORDER BY start_time, tree_order))
           END
      FROM (
        SELECT t.start_time, t.tree_order,
               CASE WHEN t.span_type = 'llm' THEN jsonb_build_object(
                   'step', 'llm_request',
                   'span_id', t.span_id::text,
                   'name', t.name,
                   'model', t.model,
                   'provider', s.provider,
                   'messages', agent_trace._json_or_text(s.input),
                   -- The request parameters as recorded: GenAI's gen_ai.request.* (but the model)
                   -- and OpenInference's llm.invocation_parameters.
                   'parameters', coalesce(
                       (SELECT jsonb_object_agg(substr(a.key, length('gen_ai.request.') + 1), a.value)
                          FROM jsonb_each(s.attributes) AS a
                         WHERE a.key LIKE 'gen\_ai.request.%' AND a.key <> 'gen_ai.request.model'), '{}')
                       || coalesce(agent_trace._json_or_text(s.attributes ->> 'llm.invocation_parameters'), '{}'),
                   'response', agent_trace._json_or_text(s.output),
                   'status', t.status,
                   'input_tokens', t.input_tokens,
                   'output_tokens', t.output_tokens)
               ELSE jsonb_build_object(
                   'step', 'tool_result',
                   'span_id', t.span_id::text,
                   'tool_name', coalesce(s.tool_name, t.name),
                   'arguments', agent_trace._json_or_text(s.input),
                   'result', agent_trace._json_or_text(s.output),
                   'status', t.status,
                   'error', s.status_message)
               END AS step
          FROM agent_trace.trace_tree(trace_id, root_span_id) AS t
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = replay_json.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
         WHERE t.span_type IN ('llm', 'tool')
      ) AS steps
$$;
COMMENT ON FUNCTION agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id) IS
    'What a harness needs to re-run the agent: the LLM requests (model, messages, parameters as recorded, and the recorded response) and the tool results, in chronological order, as {trace_id, steps: [{step: "llm_request", ...} | {step: "tool_result", tool_name, arguments, result, ...}]}. Messages and results that hold JSON are embedded as JSON. NULL when the trace (or span) has no LLM or tool steps.';

CREATE FUNCTION agent_trace.diff_summary(
    trace_a agent_trace.trace_id, trace_b agent_trace.trace_id,
    root_span_a agent_trace.span_id DEFAULT NULL, root_span_b agent_trace.span_id DEFAULT NULL)
RETURNS TABLE (
    spans_a bigint, spans_b bigint, spans_delta bigint,
    duration_ms_a double precision, duration_ms_b double precision, duration_delta_ms double precision,
    llm_calls_a bigint, llm_calls_b bigint, llm_calls_delta bigint,
    tool_calls_a bigint, tool_calls_b bigint, tool_calls_delta bigint,
    errors_a bigint, errors_b bigint, errors_delta bigint,
    input_tokens_a numeric, input_tokens_b numeric, input_tokens_delta numeric,
    output_tokens_a numeric, output_tokens_b numeric, output_tokens_delta numeric,
    cache_read_tokens_a numeric, cache_read_tokens_b numeric, cache_read_tokens_delta numeric,
    cache_write_tokens_a numeric, cache_write_tokens_b numeric, cache_write_tokens_delta numeric,
    reasoning_tokens_a numeric, reasoning_tokens_b numeric, reasoning_tokens_delta numeric,
    cost_usd_a numeric, cost_usd_b numeric, cost_delta_usd numeric,
    computed_cost_usd_a numeric, computed_cost_usd_b numeric, computed_cost_delta_usd numeric,
    first_divergence_step integer, first_divergence_kind text, first_divergence_path text,
    first_divergence_offset_ms double precision,
    first_divergence_span_a agent_trace.span_id, first_divergence_span_b agent_trace.span_id)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH runs AS (
        SELECT side,
               count(*) AS spans,
               max(t.start_offset_ms + t.duration_ms) - min(t.start_offset_ms) AS duration_ms,
               count(*) FILTER (WHERE t.span_type = 'llm') AS llm_calls,
               count(*) FILTER (WHERE t.span_type = 'tool') AS tool_calls,
               count(*) FILTER (WHERE t.status = 'ERROR') AS errors,
               -- Usage over llm and embedding spans only, as agent_traces and trace_tree count it.
               sum(s.input_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS input_tokens,
               sum(s.output_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS output_tokens,
               sum(s.cache_read_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cache_read_tokens,
               sum(s.cache_write_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cache_write_tokens,
               sum(s.reasoning_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS reasoning_tokens,
               sum(t.cost_usd) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cost_usd,
               sum(t.computed_cost_usd) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS computed_cost_usd
          FROM (VALUES ('a', trace_a, root_span_a), ('b', trace_b, root_span_b)) AS run (side, trace_id, root)
          CROSS JOIN LATERAL agent_trace.trace_tree(run.trace_id, run.root) AS t
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = run.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
         GROUP BY side
    ), a AS (
        SELECT * FROM runs WHERE side = 'a'
    ), b AS (
        SELECT * FROM runs WHERE side = 'b'
    ), divergence AS (
        -- Where run B went a different way: the first moment its recorded data differs from A's.
        -- A differing input shows at the step's start, a differing output at its end, a step only
        -- one run has at its start; B's clock, or A's for a step B lacks.
        SELECT d.step, d.path, d.span_id_a, d.span_id_b,
               CASE WHEN d.change IN ('added', 'removed') THEN d.change
                    WHEN d.input_differs THEN 'input'
                    ELSE 'output' END AS kind,
               CASE WHEN d.change = 'added' THEN d.start_offset_ms_b
                    WHEN d.change = 'removed' THEN d.start_offset_ms_a
                    WHEN d.input_differs THEN d.start_offset_ms_b
                    ELSE d.start_offset_ms_b + d.duration_ms_b END AS offset_ms
          FROM agent_trace.diff_traces(trace_a, trace_b, root_span_a, root_span_b) AS d
         WHERE d.change IN ('added', 'removed') OR d.input_differs OR d.output_differs
         ORDER BY offset_ms, d.step
         LIMIT 1
    )
    SELECT coalesce(a.spans, 0), coalesce(b.spans, 0), coalesce(b.spans, 0) - coalesce(a.spans, 0),
           a.duration_ms, b.duration_ms, b.duration_ms - a.duration_ms,
           coalesce(a.llm_calls, 0), coalesce(b.llm_calls, 0), coalesce(b.llm_calls, 0) - coalesce(a.llm_calls, 0),
           coalesce(a.tool_calls, 0), coalesce(b.tool_calls, 0), coalesce(b.tool_calls, 0) - coalesce(a.tool_calls, 0),
           coalesce(a.errors, 0), coalesce(b.errors, 0), coalesce(b.errors, 0) - coalesce(a.errors, 0),
           a.input_tokens, b.input_tokens, b.input_tokens - a.input_tokens,
           a.output_tokens, b.output_tokens, b.output_tokens - a.output_tokens,
           a.cache_read_tokens, b.cache_read_tokens, b.cache_read_tokens - a.cache_read_tokens,
           a.cache_write_tokens, b.cache_write_tokens, b.cache_write_tokens - a.cache_write_tokens,
           a.reasoning_tokens, b.reasoning_tokens, b.reasoning_tokens - a.reasoning_tokens,
           a.cost_usd, b.cost_usd, b.cost_usd - a.cost_usd,
           a.computed_cost_usd, b.computed_cost_usd, b.computed_cost_usd - a.computed_cost_usd,
           d.step, d.kind, d.path, d.offset_ms, d.span_id_a, d.span_id_b
      FROM (SELECT) AS one
      LEFT JOIN a ON true
      LEFT JOIN b ON true
      LEFT JOIN divergence AS d ON true
$$;
COMMENT ON FUNCTION agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'One row comparing two runs: spans, wall time, LLM and tool calls, errors, tokens by kind, reported and computed cost for A and B, with deltas (B minus A; tokens and cost over llm and embedding spans only), and the first divergence: the earliest point where run B''s recorded data differs from A''s (kind input, output, added or removed, at offset_ms on B''s clock), from diff_traces. No divergence columns when the runs match; zero spans for an unknown trace.';

-- Turns: the first-level steps under a trace's root. Codex CLI sends one trace per session with
-- thousands of spans, a turn (one prompt and everything it caused) being a child of the session's
-- root; every function above takes such a turn's span id to work on it alone.
CREATE VIEW agent_trace.agent_turns AS
SELECT t.trace_id,
       t.session_id,
       row_number() OVER (PARTITION BY t.trace_id ORDER BY n.start_time, n.tree_order) AS turn,
       n.span_id AS turn_span_id,
       n.name,
       n.span_type,
       n.status,
       n.start_time,
       n.duration_ms,
       n.subtree_spans AS span_count,
       n.subtree_input_tokens AS input_tokens,
       n.subtree_output_tokens AS output_tokens,
       n.subtree_cost_usd AS cost_usd,
       n.subtree_computed_cost_usd AS computed_cost_usd,
       n.subtree_errors AS error_count
  FROM agent_trace.agent_traces AS t
 CROSS JOIN LATERAL agent_trace.trace_tree(t.trace_id, t.root_span_id) AS n
 WHERE t.root_span_id IS NOT NULL AND n.depth = 1;
COMMENT ON VIEW agent_trace.agent_turns IS
    'One row per turn: a first-level step under a trace''s root span (for Codex CLI, whose trace is a whole session, one prompt and everything it caused). turn_span_id is what trace_tree, diff_traces, replay and critical_path take to work on that turn alone. Computed from the tree when read: filter by trace_id or session_id.';
COMMENT ON COLUMN agent_trace.agent_turns.trace_id IS 'The trace (session) the turn belongs to.';
COMMENT ON COLUMN agent_trace.agent_turns.session_id IS 'Session id of the trace, as in agent_traces.';
COMMENT ON COLUMN agent_trace.agent_turns.turn IS 'Turn number within the trace, 1 for the first, by start time.';
COMMENT ON COLUMN agent_trace.agent_turns.turn_span_id IS 'Span id of the turn: pass it to trace_tree, diff_traces, replay or critical_path.';
COMMENT ON COLUMN agent_trace.agent_turns.name IS 'Name of the turn''s span.';
COMMENT ON COLUMN agent_trace.agent_turns.span_type IS 'span_type of the turn''s span.';
COMMENT ON COLUMN agent_trace.agent_turns.status IS 'Status of the turn''s span: OK, ERROR or UNSET.';
COMMENT ON COLUMN agent_trace.agent_turns.start_time IS 'When the turn started.';
COMMENT ON COLUMN agent_trace.agent_turns.duration_ms IS 'How long the turn''s span took, in milliseconds.';
COMMENT ON COLUMN agent_trace.agent_turns.span_count IS 'Spans in the turn, its own included.';
COMMENT ON COLUMN agent_trace.agent_turns.input_tokens IS 'Input tokens of the LLM and embedding calls in the turn.';
COMMENT ON COLUMN agent_trace.agent_turns.output_tokens IS 'Output tokens of the LLM and embedding calls in the turn.';
COMMENT ON COLUMN agent_trace.agent_turns.cost_usd IS 'Reported cost of the LLM and embedding calls in the turn, in US dollars.';
COMMENT ON COLUMN agent_trace.agent_turns.computed_cost_usd IS 'Cost computed from model_prices for the calls in the turn that reported none.';
COMMENT ON COLUMN agent_trace.agent_turns.error_count IS 'Spans with status ERROR in the turn.';

-- Readers may call every function, the internal _json_or_text too: replay_json calls it as its caller.
REVOKE ALL ON FUNCTION
    agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id),
    agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id),
    agent_trace._json_or_text(text),
    agent_trace.replay(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id),
    agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id),
    agent_trace._json_or_text(text),
    agent_trace.replay(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)
    TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- finalize
-- Who may do what. Nothing is granted to PUBLIC: the schema is private until a role is granted.
--
--   agent_trace_reader  read every table (for psql, dashboards and BI tools)
--   agent_trace_writer  what the ingest service needs: insert spans (which updates agent_traces)
--
-- The roles themselves are created first (roles.sql), so every file can grant to them.
-- Grant them to login roles: GRANT agent_trace_reader TO grafana;

GRANT USAGE ON SCHEMA agent_trace TO agent_trace_reader, agent_trace_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA agent_trace TO agent_trace_reader;

-- The trigger runs as the inserting role, so the writer also needs to upsert agent_traces (and
-- read it: ON CONFLICT DO UPDATE reads the existing row).
GRANT SELECT, INSERT ON agent_trace.agent_spans TO agent_trace_writer;
GRANT SELECT, INSERT, UPDATE ON agent_trace.agent_traces TO agent_trace_writer;

REVOKE ALL ON FUNCTION agent_trace._fold_inserted_spans() FROM PUBLIC;

-- pg_dump: the tables an extension creates belong to it, and a dump leaves their rows out unless
-- they are registered here. Registered: what was received (spans, logs, metrics; model_prices
-- registers itself in prices.sql). Not registered: what the database derives from those, which
-- restoring them rebuilds: agent_traces (the fold trigger refills it as spans are restored) and
-- agent_span_costs (run agent_trace.recompute_costs('-infinity', 'infinity') after a restore, once
-- the prices are back). Dumping derived rows too would count them twice on restore.
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_spans', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_logs', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_metrics', '');
/* </end connected objects> */

