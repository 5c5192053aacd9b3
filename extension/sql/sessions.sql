-- Sessions across traced agents and coding-assistant CLIs: one row per session, whichever way its
-- telemetry came.
--
-- Two sources, each counted once:
--   * log events (agent_logs): the truth for Claude Code, Gemini CLI and Codex CLI, which put
--     tokens and cost on one event per model call (the ingest fills the usage columns on exactly
--     that event, see ingest/src/map/logs.rs);
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

CREATE VIEW agent_trace.agent_sessions WITH (security_invoker = true) AS
WITH from_logs AS (
    SELECT l.session_id, l.project_id,
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
     GROUP BY l.session_id, l.project_id
), from_traces AS (
    SELECT t.session_id, t.project_id,
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
     GROUP BY t.session_id, t.project_id
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
       CASE WHEN l.has_usage THEN l.computed_cost_usd ELSE t.computed_cost_usd END AS computed_cost_usd,
       coalesce(l.project_id, t.project_id) AS project_id
  FROM from_logs AS l
  FULL JOIN from_traces AS t ON t.session_id = l.session_id AND t.project_id = l.project_id;

COMMENT ON VIEW agent_trace.agent_sessions IS
    'One row per session, from coding-assistant log events (Claude Code, Gemini CLI, Codex CLI) and from traced agents, each counted once: when a session has usage in its log events, tokens and cost come from those alone (what the tool reported); otherwise from its traces. Computed when read; filter by session_id, tool or time.';
COMMENT ON COLUMN agent_trace.agent_sessions.session_id IS 'Session id as the tool sends it (session.id, conversation.id, gen_ai.conversation.id).';
COMMENT ON COLUMN agent_trace.agent_sessions.project_id IS 'Project of the session (a session id used in two projects is two sessions).';
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
GRANT EXECUTE ON FUNCTION agent_trace.tool_label(text) TO agent_trace_reader, agent_trace_usage_reader;
