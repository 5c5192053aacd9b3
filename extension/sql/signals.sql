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
-- Both keys also hold the row's time: the tables are partitioned BY RANGE (time), one partition per
-- UTC day (partitions.sql), and can be distributed by the key column (Citus), as agent_spans can.

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
    cost_usd            numeric CHECK (cost_usd >= 0),
    tool_name           text,
    duration_ms         double precision,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    computed_cost_usd   numeric,
    project_id          integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_logs_pkey PRIMARY KEY (record_key, time, project_id)
) PARTITION BY RANGE (time);

-- First questions: the events of a session (how much did it use), of an event type in a time range,
-- the logs of one trace, and anything in a time range (BRIN: tiny; records arrive roughly in time
-- order). Session ids and event names are text as clients send it, of any length: hash indexes
-- (as in tables.sql), which a btree's 2,704-byte limit cannot break; a time range is filtered after
-- the equality, or combined with the BRIN index. Partial index: many records have no trace.
CREATE INDEX agent_logs_session_idx ON agent_trace.agent_logs USING hash (session_id);
CREATE INDEX agent_logs_event_idx ON agent_trace.agent_logs USING hash (event_name);
CREATE INDEX agent_logs_trace_idx ON agent_trace.agent_logs (trace_id, time) WHERE trace_id IS NOT NULL;
CREATE INDEX agent_logs_time_brin ON agent_trace.agent_logs USING brin (time);

COMMENT ON TABLE agent_trace.agent_logs IS
    'One row per OpenTelemetry log record: application logs, and the events coding assistants send (Claude Code api_request, Gemini CLI gemini_cli.api_response, Codex codex.sse_event, ...). Token and cost columns are filled only on records that report one model call''s usage, so summing them over a session counts each call once. Written once, never updated; a re-sent record (same record_key, time and project_id) is ignored. Stored in one partition per UTC day of time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_logs.project_id IS 'The project the record belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_logs.record_key IS 'Dedupe key computed by the ingest: the first 16 bytes of a SHA-256 over the resource, the instrumentation scope and the record''s protobuf encoding. Identical records of one resource and scope are one row.';
COMMENT ON COLUMN agent_trace.agent_logs.time IS 'When the event happened: the record''s time, else (Codex sends none) the time the client observed it.';
COMMENT ON COLUMN agent_trace.agent_logs.observed_time IS 'When the client''s logging pipeline observed the record. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_logs.trace_id IS 'Trace the record was emitted in, as 32 hex digits; NULL outside any trace (an empty or all-zero id means none).';
COMMENT ON COLUMN agent_trace.agent_logs.span_id IS 'Span the record was emitted in, as 16 hex digits; NULL outside any span.';
COMMENT ON COLUMN agent_trace.agent_logs.event_name IS 'Event type: the event.name attribute, else the record''s event_name field (Codex puts a source location such as "event otel/src/...rs:1089" there, so the attribute wins), e.g. "api_request", "gemini_cli.api_response", "codex.sse_event". NULL for plain logs. Indexed by hash, so values of any length are stored and WHERE event_name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_logs.severity_number IS 'OpenTelemetry severity 1-24 (1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL). NULL when unspecified.';
COMMENT ON COLUMN agent_trace.agent_logs.severity_text IS 'Severity as the source names it, e.g. "INFO", "ERROR".';
COMMENT ON COLUMN agent_trace.agent_logs.body IS 'The log message. A body that is not a string (a map, a list, a number) is stored as its JSON text.';
COMMENT ON COLUMN agent_trace.agent_logs.service_name IS 'Name of the application that sent the record (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_logs.scope_name IS 'Instrumentation scope (logger) that emitted the record.';
COMMENT ON COLUMN agent_trace.agent_logs.scope_version IS 'Version of the instrumentation scope.';
COMMENT ON COLUMN agent_trace.agent_logs.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id (Claude Code, Gemini CLI), agno.session.id or conversation.id (Codex), on the record, else on the resource. Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
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
    project_id          integer NOT NULL DEFAULT 1,
    -- Not a primary key: gauges usually have no start time, and a primary key cannot hold NULL.
    -- NULLS NOT DISTINCT makes a re-sent point without start_time a conflict too.
    CONSTRAINT agent_metrics_point_key UNIQUE NULLS NOT DISTINCT (series_key, time, start_time, project_id)
) PARTITION BY RANGE (time);

-- First questions: one metric over time (tokens per hour), one session's metrics, anything in a
-- time range. One series' points come from the unique key (its leading column is series_key).
-- Metric names and session ids are text of any length: hash indexes, as for agent_logs.
CREATE INDEX agent_metrics_name_idx ON agent_trace.agent_metrics USING hash (name);
CREATE INDEX agent_metrics_session_idx ON agent_trace.agent_metrics USING hash (session_id);
CREATE INDEX agent_metrics_time_brin ON agent_trace.agent_metrics USING brin (time);

COMMENT ON TABLE agent_trace.agent_metrics IS
    'One row per OpenTelemetry metric data point, as sent: cumulative counters hold running totals (see agent_metric_deltas for per-interval amounts). Points of one series share a series_key. Written once, never updated; a re-sent point (same series_key, time, start_time and project_id) is ignored. Stored in one partition per UTC day of time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_metrics.series_key IS 'Series id computed by the ingest: the first 16 bytes of a SHA-256 over the metric name, kind, resource attributes, instrumentation scope and point attributes (attributes in key order).';
COMMENT ON COLUMN agent_trace.agent_metrics.project_id IS 'The project the point belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_metrics.name IS 'Metric name, e.g. "claude_code.token.usage", "gen_ai.client.token.usage". Indexed by hash, so values of any length are stored and WHERE name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
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
COMMENT ON COLUMN agent_trace.agent_metrics.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id, agno.session.id or conversation.id, on the point, else on the resource. Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
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
-- The view reads agent_metrics as its caller (security_invoker), so row-level security shows each
-- role its projects' points; it names only columns usage readers may read, so they may read it
-- whole. A point's attributes are in agent_metrics (join on series_key, time, start_time,
-- project_id).
--
-- Every column after series_key in the window's PARTITION BY is fixed per series, so the groups are
-- the series; listing them lets PostgreSQL apply a filter on them (WHERE name = ..., session_id = ...)
-- before computing the window. A filter on time is applied after it: the first point in the range
-- still gets its delta against the point before the range.
CREATE VIEW agent_trace.agent_metric_deltas WITH (security_invoker = true) AS
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
       p.service_name, p.session_id, p.model, p.token_type, p.scope_name, p.project_id
  FROM (SELECT m.series_key, m.project_id, m.name, m.kind, m.temporality, m.unit, m.start_time,
               m.time, m.value, m.count, m.sum, m.service_name, m.session_id, m.model,
               m.token_type, m.scope_name,
               lag(m.value) OVER series AS previous_value,
               lag(m.count) OVER series AS previous_count,
               lag(m.sum) OVER series AS previous_sum,
               lag(m.time) OVER series IS NOT NULL
                   AND lag(m.start_time) OVER series IS NOT DISTINCT FROM m.start_time AS continues
          FROM agent_trace.agent_metrics AS m
         WHERE m.value IS NOT NULL OR m.count IS NOT NULL
        WINDOW series AS (PARTITION BY m.name, m.kind, m.service_name, m.session_id, m.model,
                                       m.token_type, m.series_key, m.project_id
                          ORDER BY m.time, m.start_time)) AS p;

COMMENT ON VIEW agent_trace.agent_metric_deltas IS
    'Every stored metric point with its per-interval amount: for cumulative counters and histograms the increase since the previous point of the same series (restarts detected by a new start_time or a decrease), for delta ones the point itself. Sum delta, delta_count or delta_sum over a time range for "per hour" or "per session" totals. Computed at query time, so points may arrive in any order. The points'' attributes are in agent_metrics (join on series_key, time, start_time, project_id).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.series_key IS 'Series the point belongs to (see agent_metrics.series_key).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.project_id IS 'Project of the point.';
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

-- The ingest inserts into both tables (binary COPY, or INSERT .. ON CONFLICT DO NOTHING for
-- retries, which needs no SELECT when it names no conflict target) and may not read them back: log
-- bodies and attributes hold prompts. access.sql grants the readers.
GRANT INSERT ON agent_trace.agent_logs, agent_trace.agent_metrics TO agent_trace_writer;
