-- agent_trace 0.2.0 -> 0.3.0: token totals that saturate instead of failing an insert, hash
-- indexes on text (no btree entry limit), diff_traces bounded (its alignment column), least
-- privilege (a writer that only inserts, triggers that write with the owner's rights, a usage
-- reader role without content, every function's search_path pinned), AgentOS compatibility
-- (enable_agno_compat).
-- Drafted by scripts/draft-upgrade-script.py from the 0.3.0 install script;
-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.3.0 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.3.0'" to load this file. \quit

-- requires:
--   ids

-- The three roles access.sql grants to, created before anything else so that every file can grant
-- to them as it creates its objects:
--
--   agent_trace_reader        read everything: numbers and content (prompts, outputs, attributes),
--                             and call every query function (psql, debugging, replay)
--   agent_trace_usage_reader  read the numbers only: ids, names, models, tokens, cost, times,
--                             status; not the content columns access.sql lists (dashboards, BI)
--   agent_trace_writer        what the ingest service needs: insert spans, log records and metric
--                             points, and nothing else (no SELECT, no UPDATE, no DELETE)
--
-- Roles belong to the cluster, not to a database, so they are created only if missing, and
-- DROP EXTENSION leaves them in place (drop them with DROP ROLE once no database uses them).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_reader') THEN
        CREATE ROLE agent_trace_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_usage_reader') THEN
        CREATE ROLE agent_trace_usage_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'agent_trace_writer') THEN
        CREATE ROLE agent_trace_writer NOLOGIN;
    END IF;
END
$roles$;
/* </end connected objects> */

/* <begin connected objects> */

-- Indexes on text columns: hash instead of btree (tables.sql, signals.sql, prices.sql).
DROP INDEX agent_trace.agent_traces_session_idx, agent_trace.agent_traces_user_idx,
    agent_trace.agent_traces_agent_idx, agent_trace.agent_logs_session_idx,
    agent_trace.agent_logs_event_idx, agent_trace.agent_metrics_name_idx,
    agent_trace.agent_metrics_session_idx;
CREATE INDEX agent_traces_session_idx ON agent_trace.agent_traces USING hash (session_id);
CREATE INDEX agent_traces_user_idx ON agent_trace.agent_traces USING hash (user_id);
CREATE INDEX agent_traces_agent_idx ON agent_trace.agent_traces USING hash (agent_name);
CREATE INDEX agent_logs_session_idx ON agent_trace.agent_logs USING hash (session_id);
CREATE INDEX agent_logs_event_idx ON agent_trace.agent_logs USING hash (event_name);
CREATE INDEX agent_metrics_name_idx ON agent_trace.agent_metrics USING hash (name);
CREATE INDEX agent_metrics_session_idx ON agent_trace.agent_metrics USING hash (session_id);
ALTER TABLE agent_trace.model_prices DROP CONSTRAINT model_prices_pkey;
CREATE UNIQUE INDEX model_prices_key ON agent_trace.model_prices (md5(model_pattern), md5(provider), effective_from);
CREATE INDEX model_prices_model_idx ON agent_trace.model_prices USING hash (model_pattern);

-- Every COMMENT of the files whose columns changed, as 0.3.0 words them.
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
COMMENT ON COLUMN agent_trace.agent_traces.input_tokens IS 'Sum of input_tokens over the LLM and embedding spans (wrapper spans that repeat their children''s usage are not counted again). NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.output_tokens IS 'Sum of output_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_read_tokens IS 'Sum of cache_read_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_write_tokens IS 'Sum of cache_write_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.reasoning_tokens IS 'Sum of reasoning_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.created_at IS 'When the first span of this trace was stored.';
COMMENT ON COLUMN agent_trace.agent_traces.updated_at IS 'When spans of this trace were last stored.';
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
COMMENT ON TABLE agent_trace.agent_logs IS
    'One row per OpenTelemetry log record: application logs, and the events coding assistants send (Claude Code api_request, Gemini CLI gemini_cli.api_response, Codex codex.sse_event, ...). Token and cost columns are filled only on records that report one model call''s usage, so summing them over a session counts each call once. Written once, never updated; a re-sent record (same record_key and time) is ignored.';
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
COMMENT ON TABLE agent_trace.agent_metrics IS
    'One row per OpenTelemetry metric data point, as sent: cumulative counters hold running totals (see agent_metric_deltas for per-interval amounts). Points of one series share a series_key. Written once, never updated; a re-sent point (same series_key, time and start_time) is ignored.';
COMMENT ON COLUMN agent_trace.agent_metrics.series_key IS 'Series id computed by the ingest: the first 16 bytes of a SHA-256 over the metric name, kind, resource attributes, instrumentation scope and point attributes (attributes in key order).';
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
COMMENT ON TABLE agent_trace.model_prices IS
    'Prices of models per million tokens, in US dollars, for computing the cost of calls that report tokens but no cost. Edit with plain INSERT/UPDATE; `agent-trace prices import` adds LiteLLM''s prices. Which row applies to a call: agent_trace.price_for (most specific model match, own provider first, latest effective_from not after the call). After changing prices, run agent_trace.recompute_costs(from, to) to re-cost stored calls.';
COMMENT ON COLUMN agent_trace.model_prices.model_pattern IS 'Model name in lower case, e.g. "gpt-4o", "claude-sonnet-4-5". Holding a % it is a LIKE pattern ("ft:gpt-4o-mini%"; _ is a plain character). Matched against the name of the call without a "vendor/" prefix; exact names beat patterns, longer patterns beat shorter ones. Any length: unique per provider and effective_from through md5(model_pattern), and indexed by hash, so WHERE model_pattern = ''...'' uses an index.';
COMMENT ON COLUMN agent_trace.model_prices.provider IS 'Provider the price applies to, as agent_trace.normalize_provider names it: "openai", "anthropic", "gcp.gemini" (Gemini API), "gcp.vertex_ai", "aws.bedrock", "azure.ai.openai", ...; "*" for any provider. Calls of an unknown provider match rows of any provider. Any length: part of the key through md5(provider).';
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
COMMENT ON FUNCTION agent_trace.normalize_provider(text) IS
    'The provider name model_prices uses for a provider as clients send it: lower case, and the OpenTelemetry GenAI name (gen_ai.provider.name) for common older or vendor spellings: gcp.gen_ai, gemini, google -> gcp.gemini; vertex_ai, vertexai -> gcp.vertex_ai; azure -> azure.ai.openai; bedrock -> aws.bedrock. NULL for NULL or empty.';
COMMENT ON FUNCTION agent_trace.price_for(text, text, timestamptz) IS
    'The model_prices row that prices a call of this model and provider made at this time, or no row. Most specific model match first (exact name, name without "vendor/" prefix, name without date stamp, longest LIKE pattern), then the call''s own provider before "*", then the latest effective_from not after the call''s UTC date. Example: SELECT * FROM agent_trace.price_for(''claude-sonnet-4-5-20250929'', ''anthropic'', now());';
COMMENT ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) IS
    'agent_trace.cost_at_price of many calls at one price: the i-th cost from the i-th element of each token array (arrays of equal length). Internal: the insert trigger and recompute_costs price a batch with one call.';
COMMENT ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call at this price row, from token counts with the meaning of the agent_spans columns: input_tokens includes cache_read_tokens and cache_write_tokens, output_tokens includes reasoning_tokens. Charges (input - cache_read - cache_write) at the input price, cache reads at the cache-read price, cache writes at the cache-write price (else the input price), (output - reasoning) at the output price and reasoning at the reasoning price (else the output price); above long_context_above_tokens input tokens, the long-context prices. A missing count is 0. NULL when price is NULL, when both input_tokens and output_tokens are NULL, or when tokens fall on an unpriced (NULL) price.';
COMMENT ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call of this model and provider at this time with these token counts (agent_spans meaning: input_tokens includes cache reads and writes, output_tokens includes reasoning): agent_trace.cost_at_price of the row agent_trace.price_for picks. NULL when no price applies, the tokens are missing, or tokens fall on an unpriced component. Example: SELECT agent_trace.compute_cost(''gpt-4o'', ''openai'', now(), 1200, 300, 1000, NULL, NULL);';
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
COMMENT ON FUNCTION agent_trace._log_provider(jsonb) IS
    'Provider of a log record for pricing: its gen_ai.provider.name, else gen_ai.system attribute. Internal.';
COMMENT ON FUNCTION agent_trace._cost_inserted_log() IS
    'Trigger function: sets computed_cost_usd of a log record that reports tokens but no cost_usd, reading model_prices with the rights of the extension''s owner (SECURITY DEFINER). Internal.';
COMMENT ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) IS
    'Re-computes the computed cost of the spans and log records whose start_time / time lies in [from_time, to_time) against model_prices as they are now, after you changed, added or deleted prices: adds, changes or removes agent_span_costs rows, updates the computed_cost_usd of their traces and of agent_logs rows. Changes only what differs, so a second run changes nothing. Returns how many span costs were added, changed and removed, traces updated and log costs changed. Example: SELECT * FROM agent_trace.recompute_costs(''2026-01-01'', now());';

-- prices.sql: costs computed in numeric; log records priced with the owner's rights.
CREATE OR REPLACE FUNCTION agent_trace._costs_at_price(
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
           -- In numeric: the differences of two bigints need not fit a bigint.
           SELECT greatest(coalesce(c.input, 0)::numeric - coalesce(c.cache_read, 0) - coalesce(c.cache_write, 0), 0) AS uncached,
                  coalesce(c.cache_read, 0) AS cache_read,
                  coalesce(c.cache_write, 0) AS cache_write,
                  greatest(coalesce(c.output, 0)::numeric - coalesce(c.reasoning, 0), 0) AS answer,
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
CREATE OR REPLACE FUNCTION agent_trace._cost_inserted_log() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_logs'::regclass OR TG_WHEN <> 'BEFORE' OR TG_LEVEL <> 'ROW'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._cost_inserted_log runs only as the BEFORE INSERT row trigger of agent_trace.agent_logs'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.computed_cost_usd := agent_trace.compute_cost(
        NEW.model, agent_trace._log_provider(NEW.attributes), NEW.time, NEW.input_tokens,
        NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens);
    RETURN NEW;
END
$$;

-- rollup.sql: token totals saturate; spans folded with the owner's rights.
CREATE FUNCTION agent_trace._saturate_bigint(value numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT least(greatest(value, -9223372036854775808), 9223372036854775807)::bigint
$$;
COMMENT ON FUNCTION agent_trace._saturate_bigint(numeric) IS
    'The bigint nearest to value: value itself, or bigint''s least or greatest value when it lies outside; NULL for NULL. How agent_traces keeps token totals that would overflow. Internal.';
REVOKE ALL ON FUNCTION agent_trace._saturate_bigint(numeric) FROM PUBLIC;

CREATE OR REPLACE FUNCTION agent_trace._fold_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_spans'::regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._fold_inserted_spans runs only as the AFTER INSERT statement trigger of agent_trace.agent_spans'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
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
               agent_trace._saturate_bigint(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS input_tokens,
               agent_trace._saturate_bigint(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS output_tokens,
               agent_trace._saturate_bigint(sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_read_tokens,
               agent_trace._saturate_bigint(sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_write_tokens,
               agent_trace._saturate_bigint(sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS reasoning_tokens,
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
           -- NULL + n is NULL, so: the sum when both are known, else whichever is known. Token
           -- sums in numeric, saturated to bigint (see the top of this file).
           input_tokens = coalesce(agent_trace._saturate_bigint(t.input_tokens::numeric + excluded.input_tokens), t.input_tokens, excluded.input_tokens),
           output_tokens = coalesce(agent_trace._saturate_bigint(t.output_tokens::numeric + excluded.output_tokens), t.output_tokens, excluded.output_tokens),
           cache_read_tokens = coalesce(agent_trace._saturate_bigint(t.cache_read_tokens::numeric + excluded.cache_read_tokens), t.cache_read_tokens, excluded.cache_read_tokens),
           cache_write_tokens = coalesce(agent_trace._saturate_bigint(t.cache_write_tokens::numeric + excluded.cache_write_tokens), t.cache_write_tokens, excluded.cache_write_tokens),
           reasoning_tokens = coalesce(agent_trace._saturate_bigint(t.reasoning_tokens::numeric + excluded.reasoning_tokens), t.reasoning_tokens, excluded.reasoning_tokens),
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
COMMENT ON FUNCTION agent_trace._saturate_bigint(numeric) IS
    'The bigint nearest to value: value itself, or bigint''s least or greatest value when it lies outside; NULL for NULL. How agent_traces keeps token totals that would overflow. Internal.';
COMMENT ON FUNCTION agent_trace._fold_inserted_spans() IS
    'Trigger function: folds the spans an INSERT statement stored into their agent_traces rows, and prices those without a provided cost into agent_span_costs, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs no privilege on either table. Internal.';

-- diff_traces has a new column: it is created again (diff_summary reads it by name).
DROP FUNCTION agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id);
-- agent_trace::api::agent_trace::diff_traces
-- requires:
--   critical_path
CREATE  FUNCTION agent_trace."diff_traces"(
	"trace_a" agent_trace.trace_id, /* Option < TraceId > */
	"trace_b" agent_trace.trace_id, /* Option < TraceId > */
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
	"output_differs" bool,  /* Option < bool > */
	"alignment" TEXT  /* String */
)
STABLE PARALLEL SAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'diff_traces_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- functions.sql: the trace functions run under a pinned search_path; their COMMENTs as 0.3.0
-- words them.
ALTER FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id) SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) IS
    'The spans of a trace as a tree: one row per span in depth-first order (siblings by start time). path is the rank among siblings at each level ("1.2.1"; deeper than 24 levels the middle shows as "…"). self_time_ms is the time no child covered; subtree_* sum the span and everything below it (tokens and cost over llm and embedding spans only, as agent_traces does, since wrapper spans repeat their children''s usage). is_orphan: the parent never arrived (shown at the top level). is_cycle: the parent chain looped and was cut here. With root_span_id: that span''s subtree only, depths, paths and offsets counted from it.';
COMMENT ON FUNCTION agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id) IS
    'The same tree as trace_tree, as one nested jsonb document for applications: {trace_id, span_count, spans: [{span_id, name, span_type, status, model, start_offset_ms, duration_ms, self_time_ms, input_tokens, output_tokens, cost_usd, computed_cost_usd, subtree: {spans, input_tokens, output_tokens, cost_usd, computed_cost_usd, errors}, children: [...]}]}. NULL for an unknown (or NULL) trace or span.';
COMMENT ON FUNCTION agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'Two runs aligned node by node, depth-first. Spans correspond when they have the same span type and name at every level from the top (an LLM call''s name without its model, so a run against another model still lines up); siblings are aligned as sequences with a minimal edit script, so one extra call does not shift the later ones. change: same, changed (status, model, input, output or tokens differ; duration alone does not count), added (only in B) or removed (only in A). Deltas are B minus A (token deltas saturate at bigint''s range). cost_usd_* are reported costs, computed_cost_usd_* those computed from model_prices. alignment: exact when the row''s sibling list was aligned with a minimal edit script; positional when the diff had spent its budget of agent_trace.diff_alignment_budget million comparisons (the exact alignment of N and M siblings that differ in D places costs about (N + M) x D, quadratic for runs that do not resemble each other): then that list and every later one match their common start and end exactly and pair the rest by position, in linear time, and a call added or removed in the middle shifts the pairs after it. No rows when a trace is unknown or NULL.';
COMMENT ON FUNCTION agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain of spans that determined the trace''s wall time: from the span that finished last, walking back through the child that finished last before each point (a child ending exactly when the next starts counts as before it). critical_ms is the part of the wall time a span accounts for itself; over all rows it adds up to the wall time, minus gaps when nothing ran. No rows for an unknown or NULL trace.';
COMMENT ON FUNCTION agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id) IS
    'Everything below one span (not the span itself), as trace_tree rows of the whole trace, depth-first. No rows for an unknown span.';
COMMENT ON FUNCTION agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain above one span, from the top of the trace down to its parent, as trace_tree rows. Stops where a loop was cut (is_cycle). No rows for an unknown span or a top-level one.';
COMMENT ON FUNCTION agent_trace._json_or_text(text) IS
    'Internal: text holding a JSON object or array as that jsonb, other text as a jsonb string.';
COMMENT ON FUNCTION agent_trace.replay(agent_trace.trace_id, agent_trace.span_id) IS
    'The run as chronological steps (by start time; a parent before a child that starts with it), with the full input and output of each: the messages an LLM call was sent and what it answered, a tool''s arguments (tool_arguments) and result (tool_result). error is the status message of a failed step.';
COMMENT ON FUNCTION agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id) IS
    'What a harness needs to re-run the agent: the LLM requests (model, messages, parameters as recorded, and the recorded response) and the tool results, in chronological order, as {trace_id, steps: [{step: "llm_request", ...} | {step: "tool_result", tool_name, arguments, result, ...}]}. Messages and results that hold JSON are embedded as JSON. NULL when the trace (or span) has no LLM or tool steps.';
COMMENT ON FUNCTION agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'One row comparing two runs: spans, wall time, LLM and tool calls, errors, tokens by kind, reported and computed cost for A and B, with deltas (B minus A; tokens and cost over llm and embedding spans only), and the first divergence: the earliest point where run B''s recorded data differs from A''s (kind input, output, added or removed, at offset_ms on B''s clock), from diff_traces. No divergence columns when the runs match; zero spans for an unknown trace.';

-- Privileges, as a fresh install grants them: everything the three roles held is revoked, then
-- every file's grants run again in install order (so each ACL lists its roles in the same order).
REVOKE ALL ON SCHEMA agent_trace FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;
REVOKE ALL ON ALL TABLES IN SCHEMA agent_trace FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;
-- Functions: only those with privileges (REVOKE on one that has none would write its default
-- privileges out into its ACL, which a fresh install leaves empty).
DO $revoke$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p
              WHERE p.pronamespace = 'agent_trace'::regnamespace AND p.proacl IS NOT NULL LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer', f);
    END LOOP;
END
$revoke$;
GRANT INSERT ON agent_trace.agent_logs, agent_trace.agent_metrics TO agent_trace_writer;
GRANT SELECT ON agent_trace.model_prices, agent_trace.agent_span_costs
    TO agent_trace_reader, agent_trace_usage_reader;

REVOKE ALL ON FUNCTION agent_trace.normalize_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.price_for(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._log_provider(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._cost_inserted_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    agent_trace.normalize_provider(text),
    agent_trace.price_for(text, text, timestamptz),
    agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]),
    agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint),
    agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint)
    TO agent_trace_reader, agent_trace_usage_reader;
/* </end connected objects> */

/* <begin connected objects> */
REVOKE ALL ON FUNCTION agent_trace.tool_label(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.tool_label(text) TO agent_trace_reader, agent_trace_usage_reader;
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
    agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id)
    TO agent_trace_reader, agent_trace_usage_reader;
GRANT EXECUTE ON FUNCTION
    agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id),
    agent_trace._json_or_text(text),
    agent_trace.replay(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)
    TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- agno.sql: AgentOS compatibility, new in 0.3.0 (after the revokes above, as it grants on its
-- own functions).
-- requires:
--   functions

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
-- the ingest's mapping crate (and its OTLP types) inside PostgreSQL. The key lists below are spans.rs's,
-- in the same order (a test in spans.rs compares them name for name), and the rules are attrs.rs's:
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

-- The helpers below run for every span AgentOS inserts, so they are PL/pgSQL loops: a SQL function
-- with a FROM clause is not inlined and costs a planned query per call.

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
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' ELSE value::text END
$$;
COMMENT ON FUNCTION agent_trace._text(jsonb) IS
    'Internal: a text column''s value: a JSON string as its text, any other value as its JSON text.';

CREATE FUNCTION agent_trace._identity(attributes jsonb, resource_attributes jsonb, keys text[]) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT agent_trace._text(coalesce(agent_trace._first_present(attributes, keys),
                                      agent_trace._first_present(resource_attributes, keys)))
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
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- As the ingest stores a reported cost: the double, as the shortest decimal that reads back as it
    -- (the double's text with extra_float_digits = 1, which _span_columns sets).
    SELECT (agent_trace._parse_number(value)).as_double::text::numeric
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

CREATE FUNCTION agent_trace._agno_time(value timestamptz) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- Python's datetime.isoformat() of a UTC time, always with microseconds, so text order is time order.
    SELECT to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') COLLATE "C"
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
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.trace_id::text,
           -- Until the root span arrives, the name of the earliest span (AgentOS needs a name).
           coalesce(t.name, (SELECT s.name FROM agent_trace.agent_spans AS s WHERE s.trace_id = t.trace_id
                              ORDER BY s.start_time, s.span_id LIMIT 1)),
           t.status,
           agent_trace._agno_time(t.start_time),
           agent_trace._agno_time(t.end_time),
           trunc(t.duration_ms)::bigint,
           t.run_id,
           t.session_id,
           t.user_id,
           -- AgentOS filters and groups by agent id; clients of the GenAI conventions often send only
           -- a name.
           coalesce(t.agent_id, t.agent_name),
           t.team_id,
           t.workflow_id,
           agent_trace._agno_time(t.created_at),
           t.root_span_id::text
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
    -- (SECURITY DEFINER): those pass. Anything else (AgentOS's upsert of its trace summary, which
    -- agent_trace derives from the spans itself, or a writer forging a row) is skipped.
    IF pg_trigger_depth() > 1
       AND current_user = (SELECT proowner::regrole::name FROM pg_proc
                            WHERE oid = 'agent_trace._agno_sync_traces()'::regprocedure) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_traces_guard() IS
    'Trigger function: lets through the writes to an AgentOS agno_traces table that agent_trace''s own trigger makes (as its owner) and skips every other (AgentOS''s own trace upserts, a forged row). Its presence on a table marks the table''s schema as compatible.';

CREATE FUNCTION agent_trace._agno_sync_traces() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
BEGIN
    -- The fold's upsert fires the INSERT and the UPDATE trigger; one of them usually has no rows.
    IF TG_OP <> 'TRUNCATE' THEN
        IF NOT EXISTS (SELECT FROM changed_traces) THEN
            RETURN NULL;
        END IF;
    END IF;
    -- Every compatible schema: the tables named agno_traces that carry the guard trigger (looked up
    -- by name in both catalogs' indexes: this runs for every statement that writes agent_traces, and
    -- pg_trigger can hold many rows).
    FOR target IN
        SELECT c.oid::regclass FROM pg_class AS c
         WHERE c.relname = 'agno_traces' AND c.relkind = 'r'
           AND EXISTS (SELECT FROM pg_trigger AS tg
                        WHERE tg.tgrelid = c.oid AND tg.tgname = 'agno_traces_written_by_agent_trace'
                          AND tg.tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure)
         ORDER BY c.oid
    LOOP
        -- A compatible schema must never cost a span: if its table cannot be written (dropped
        -- columns, missing privileges), the spans are stored all the same and a warning says why.
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                EXECUTE format('DELETE FROM %s', target);
            ELSIF TG_OP = 'DELETE' THEN
                EXECUTE format('DELETE FROM %s AS c USING changed_traces AS o WHERE c.trace_id = o.trace_id::text',
                               target);
            ELSE
                -- In trace_id order, as the fold writes agent_traces: concurrent writers lock rows in
                -- one order.
                EXECUTE format(
                    'INSERT INTO %s AS c SELECT r.* FROM changed_traces AS n, agent_trace._agno_trace(n) AS r
                      ORDER BY r.trace_id
                         ON CONFLICT (trace_id) DO UPDATE SET
                            name = excluded.name, status = excluded.status, start_time = excluded.start_time,
                            end_time = excluded.end_time, duration_ms = excluded.duration_ms,
                            run_id = excluded.run_id, session_id = excluded.session_id,
                            user_id = excluded.user_id, agent_id = excluded.agent_id,
                            team_id = excluded.team_id, workflow_id = excluded.workflow_id,
                            created_at = excluded.created_at, root_span_id = excluded.root_span_id', target);
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
    'Trigger function: copies the agent_traces rows a statement inserted, updated or deleted into the agno_traces table of every schema prepared by enable_agno_compat, with the rights of the extension''s owner (SECURITY DEFINER). Internal.';

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
BEGIN
    -- A span stored already (re-sent, or received over OTLP too) is skipped: its ids identify it, and
    -- times written by AgentOS (microseconds of a double) may differ from the OTLP ones by a microsecond.
    IF NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                    WHERE s.trace_id = NEW.trace_id::agent_trace.trace_id
                      AND s.span_id = NEW.span_id::agent_trace.span_id) THEN
        INSERT INTO agent_trace.agent_spans (
            trace_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
            status_message, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
            workflow_id, correlation_id, input, output, attributes)
        VALUES (
            NEW.trace_id::agent_trace.trace_id, NEW.span_id::agent_trace.span_id,
            NEW.parent_span_id::agent_trace.span_id, started, greatest(NEW.end_time::timestamptz, started),
            NEW.name, coalesce(NEW.span_kind, 'INTERNAL'), m.span_type, coalesce(NEW.status_code, 'UNSET'),
            nullif(NEW.status_message, ''), m.model, m.provider, m.input_tokens, m.output_tokens,
            m.cache_read_tokens, m.cache_write_tokens, m.reasoning_tokens, m.cost_usd, m.tool_name,
            m.agent_name, m.agent_id, m.session_id, m.user_id, m.run_id, m.team_id, m.workflow_id,
            m.correlation_id, m.input, m.output, coalesce(NEW.attributes, '{}'))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_insert_span() IS
    'Trigger function (INSTEAD OF INSERT on an AgentOS agno_spans view): stores the span in agent_spans with its typed columns mapped from its attributes, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs INSERT on the view only; a span whose trace and span id are stored already is skipped. Internal.';

------------------------------------------------------------------------------------------------------
-- Turning a schema on and off
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.enable_agno_compat(schema_name text DEFAULT 'ai') RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass;
    spans regclass;
    copied bigint;
BEGIN
    IF schema_name IS NULL OR schema_name = '' THEN
        RAISE EXCEPTION 'schema_name must name a schema (AgentOS''s db_schema, by default ai)'
            USING ERRCODE = 'invalid_parameter_value';
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
    -- guard trigger that makes the schema visible to agent_trace's triggers.
    LOCK TABLE agent_trace.agent_traces IN SHARE MODE;
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
        INSERT INTO %1$I.agno_traces SELECT r.* FROM agent_trace.agent_traces AS t, agent_trace._agno_trace(t) AS r;
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
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_traces_guard();

        -- The trace comes from agno_traces, so `WHERE trace_id = '...'` finds it by that table's key
        -- and its spans by agent_spans' key. A span whose parent is missing (or a second parentless
        -- span) hangs from the trace's root: AgentOS builds its tree down from the parentless spans,
        -- and would drop it.
        CREATE VIEW %1$I.agno_spans AS
        SELECT s.span_id::text COLLATE "C" AS span_id,
               t.trace_id,
               CASE WHEN s.span_id::text = t.root_span_id THEN NULL
                    WHEN s.parent_span_id IS NOT NULL
                         AND EXISTS (SELECT FROM agent_trace.agent_spans AS p
                                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
                        THEN s.parent_span_id::text
                    ELSE t.root_span_id END COLLATE "C" AS parent_span_id,
               s.name,
               s.span_kind,
               s.status_code,
               s.status_message,
               agent_trace._agno_time(s.start_time) AS start_time,
               agent_trace._agno_time(s.end_time) AS end_time,
               trunc(s.duration_ms)::bigint AS duration_ms,
               agent_trace._agno_attributes(s) AS attributes,
               agent_trace._agno_time(s.created_at) AS created_at
          FROM %1$I.agno_traces AS t
          JOIN agent_trace.agent_spans AS s ON s.trace_id = t.trace_id::agent_trace.trace_id;
        COMMENT ON VIEW %1$I.agno_spans IS
            'AgentOS''s spans table, as agent_trace.enable_agno_compat made it: agent_trace.agent_spans with text ids and times and OpenInference attributes from the typed columns. INSERTs are stored in agent_trace.agent_spans.';
        CREATE TRIGGER agno_spans_into_agent_spans
            INSTEAD OF INSERT ON %1$I.agno_spans
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_insert_span();

        -- Readers read both (the spans' attributes are content: not for usage readers). Writers, as
        -- an AgentOS app's role, insert spans (stored by the view's trigger with the owner's rights)
        -- and may send AgentOS's trace upsert, which PostgreSQL checks against INSERT and UPDATE
        -- before the guard skips it. The copy is kept by triggers with the owner's rights.
        GRANT USAGE ON SCHEMA %1$I TO agent_trace_reader, agent_trace_writer;
        GRANT SELECT ON %1$I.agno_traces, %1$I.agno_spans TO agent_trace_reader;
        GRANT INSERT, UPDATE ON %1$I.agno_traces TO agent_trace_writer;
        GRANT INSERT ON %1$I.agno_spans TO agent_trace_writer;
    $ddl$, schema_name);
    EXECUTE format('SELECT count(*) FROM %I.agno_traces', schema_name) INTO copied;
    RETURN copied;
END
$$;
COMMENT ON FUNCTION agent_trace.enable_agno_compat(text) IS
    'Prepares schema_name (created if missing) for an AgentOS app whose db is PostgresDb(db_schema = schema_name): a table agno_traces, a copy of agent_traces kept current by agent_trace, and a view agno_spans over agent_spans whose INSERTs are stored in agent_spans. AgentOS then lists and opens every trace agent_trace holds, and its own spans are stored with their typed columns. Refuses a schema where AgentOS made its own trace tables. Running it again rebuilds the copy. Returns the number of traces copied. The objects are not part of the extension: pg_dump keeps them; DROP EXTENSION needs disable_agno_compat first (or CASCADE).';

CREATE FUNCTION agent_trace.disable_agno_compat(schema_name text DEFAULT 'ai') RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass := to_regclass(format('%I.agno_traces', schema_name));
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
    EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
    EXECUTE format('DROP TABLE %s', traces);
    RETURN true;
END
$$;
COMMENT ON FUNCTION agent_trace.disable_agno_compat(text) IS
    'Drops what enable_agno_compat made in schema_name (agno_traces and agno_spans; no span or trace of agent_trace is touched). Returns false when there was nothing to drop. Refuses AgentOS''s own tables.';

-- Who may call what. Turning compatibility on or off is for the database owner (nothing granted);
-- the triggers write with the owner's rights; readers call the two functions the view reads through.
REVOKE ALL ON FUNCTION agent_trace._first_present(jsonb, text[]), agent_trace._text(jsonb),
    agent_trace._parse_number(jsonb), agent_trace._token_count(jsonb), agent_trace._cost(jsonb),
    agent_trace._identity(jsonb, jsonb, text[]), agent_trace._lookup(text, text[]), agent_trace._span_type(text, jsonb),
    agent_trace._span_columns(text, jsonb, jsonb), agent_trace._agno_time(timestamptz),
    agent_trace._agno_trace(agent_trace.agent_traces), agent_trace._agno_attributes(agent_trace.agent_spans),
    agent_trace._agno_traces_guard(), agent_trace._agno_sync_traces(), agent_trace._agno_insert_span(),
    agent_trace.enable_agno_compat(text), agent_trace.disable_agno_compat(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._agno_time(timestamptz), agent_trace._agno_attributes(agent_trace.agent_spans)
    TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- finalize
-- Who may do what. Nothing is granted to PUBLIC: the schema is private until a role is granted.
--
--   agent_trace_reader        every table and view, every column; every query function
--   agent_trace_usage_reader  the numbers: every column but the content columns below; the tree
--                             functions, agent_sessions, agent_turns, prices and computed costs
--   agent_trace_writer        INSERT on agent_spans, agent_logs and agent_metrics; nothing else
--
-- The roles themselves are created first (roles.sql), so every file grants to them as it creates
-- its objects; this file, run last, grants on the tables and views.
-- Grant them to login roles: GRANT agent_trace_usage_reader TO grafana;
--
-- Content is what an agent read or wrote, and what may quote it: prompts and completions (input,
-- output, log bodies), tool arguments and results, error messages (status_message), and the raw
-- attributes, events and links, which hold all of those and more (user e-mails, file paths). Ids
-- (session_id, user_id, ...), names, models, tokens, cost, times and status are the numbers a cost
-- or latency dashboard needs, and usage readers see them. Column privileges, not views: the tables
-- keep one name, and a usage reader's query names its columns (SELECT * is refused, as it would
-- read content). The grants list the columns a usage reader may read, so a column added later
-- stays hidden from usage readers until it is listed here (tests/sql/schema.sql prints what they
-- cannot read).

GRANT USAGE ON SCHEMA agent_trace TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA agent_trace TO agent_trace_reader;

-- The writer inserts spans (agent_logs and agent_metrics: signals.sql). What the fold trigger
-- writes (agent_traces, agent_span_costs) it writes with the owner's rights (rollup.sql), so the
-- writer can neither read what it stored nor change a stored row.
GRANT INSERT ON agent_trace.agent_spans TO agent_trace_writer;
REVOKE ALL ON FUNCTION agent_trace._fold_inserted_spans() FROM PUBLIC;

GRANT SELECT (trace_id, span_id, parent_span_id, start_time, end_time, duration_ms, name, span_kind,
              span_type, status_code, service_name, scope_name, scope_version, model, provider,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
              workflow_id, correlation_id, created_at)
    ON agent_trace.agent_spans TO agent_trace_usage_reader;
GRANT SELECT (trace_id, name, status, start_time, end_time, duration_ms, span_count, error_count,
              llm_call_count, tool_call_count, input_tokens, output_tokens, cache_read_tokens,
              cache_write_tokens, reasoning_tokens, cost_usd, service_name, session_id, user_id,
              agent_name, agent_id, run_id, team_id, workflow_id, correlation_id, root_span_id,
              root_start_time, created_at, updated_at, computed_cost_usd)
    ON agent_trace.agent_traces TO agent_trace_usage_reader;
GRANT SELECT (record_key, time, observed_time, trace_id, span_id, event_name, severity_number,
              severity_text, service_name, scope_name, scope_version, session_id, user_id, model,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, duration_ms, created_at, computed_cost_usd)
    ON agent_trace.agent_logs TO agent_trace_usage_reader;
GRANT SELECT (series_key, name, kind, temporality, is_monotonic, start_time, time, value, count, sum,
              min, max, bucket_bounds, bucket_counts, exponential_buckets, quantiles, unit,
              description, service_name, scope_name, scope_version, session_id, model, token_type,
              created_at)
    ON agent_trace.agent_metrics TO agent_trace_usage_reader;
GRANT SELECT (series_key, name, kind, temporality, unit, start_time, time, value, delta, count,
              delta_count, sum, delta_sum, service_name, session_id, model, token_type, scope_name)
    ON agent_trace.agent_metric_deltas TO agent_trace_usage_reader;
-- Views read their tables with their owner's rights, so these show only what their columns show:
-- numbers (agent_turns calls trace_tree as its caller, which reads no content).
GRANT SELECT ON agent_trace.agent_sessions, agent_trace.agent_turns TO agent_trace_usage_reader;

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

