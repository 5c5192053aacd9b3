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

-- One UNION ALL of both sources grouped by (session_id, project_id), not two groupings joined: a
-- filter on session_id (or project_id) then reaches both tables' session indexes, so one session's
-- row reads that session's records and runs only, not every session (BENCHMARKS.md, at 10 million
-- spans). Each aggregate takes its own source's rows (FILTER), as the two groupings did.
CREATE VIEW agent_trace.agent_sessions WITH (security_invoker = true) AS
SELECT u.session_id,
       coalesce(agent_trace.tool_label(min(u.service_name) FILTER (WHERE u.from_logs)),
                agent_trace.tool_label(min(u.service_name) FILTER (WHERE NOT u.from_logs))) AS tool,
       coalesce(min(u.user_id) FILTER (WHERE u.from_logs), min(u.user_id) FILTER (WHERE NOT u.from_logs)) AS user_id,
       min(u.first_time) AS first_activity,
       max(u.last_time) AS last_activity,
       -- A traced agent's run is one prompt; a CLI logs its prompts.
       CASE WHEN count(*) FILTER (WHERE u.from_logs AND u.is_prompt) > 0
            THEN count(*) FILTER (WHERE u.from_logs AND u.is_prompt)
            ELSE count(*) FILTER (WHERE NOT u.from_logs) END AS prompts,
       count(*) FILTER (WHERE NOT u.from_logs) AS traces,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs)
            THEN count(*) FILTER (WHERE u.from_logs AND u.has_usage)
            ELSE coalesce(sum(u.model_calls) FILTER (WHERE NOT u.from_logs), 0) END AS model_calls,
       greatest(count(*) FILTER (WHERE u.from_logs AND u.is_tool_call),
                coalesce(sum(u.tool_calls) FILTER (WHERE NOT u.from_logs), 0)) AS tool_calls,
       greatest(count(*) FILTER (WHERE u.from_logs AND u.is_error),
                coalesce(sum(u.errors) FILTER (WHERE NOT u.from_logs), 0)) AS errors,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.input_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.input_tokens) FILTER (WHERE NOT u.from_logs) END AS input_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.output_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.output_tokens) FILTER (WHERE NOT u.from_logs) END AS output_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cache_read_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.cache_read_tokens) FILTER (WHERE NOT u.from_logs) END AS cache_read_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cache_write_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.cache_write_tokens) FILTER (WHERE NOT u.from_logs) END AS cache_write_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.reasoning_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.reasoning_tokens) FILTER (WHERE NOT u.from_logs) END AS reasoning_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cost_usd) FILTER (WHERE u.from_logs)
            ELSE sum(u.cost_usd) FILTER (WHERE NOT u.from_logs) END AS cost_usd,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.computed_cost_usd) FILTER (WHERE u.from_logs)
            ELSE sum(u.computed_cost_usd) FILTER (WHERE NOT u.from_logs) END AS computed_cost_usd,
       u.project_id
  FROM (SELECT true AS from_logs, l.session_id, l.project_id, l.service_name, l.user_id,
               l.time AS first_time, l.time AS last_time,
               l.event_name IN ('user_prompt', 'gemini_cli.user_prompt', 'codex.user_prompt') AS is_prompt,
               l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL AS has_usage,
               l.event_name IN ('tool_result', 'gemini_cli.tool_call', 'codex.tool_result') AS is_tool_call,
               l.event_name IN ('api_error', 'gemini_cli.api_error', 'codex.api_error') OR l.severity_number >= 17 AS is_error,
               NULL::integer AS model_calls, NULL::integer AS tool_calls, NULL::integer AS errors,
               l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens, l.reasoning_tokens,
               l.cost_usd, l.computed_cost_usd
          FROM agent_trace.agent_logs AS l
         WHERE l.session_id IS NOT NULL
        UNION ALL
        SELECT false, t.session_id, t.project_id, t.service_name, t.user_id, t.start_time, t.end_time,
               NULL, NULL, NULL, NULL, t.llm_call_count, t.tool_call_count, t.error_count,
               t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens, t.reasoning_tokens,
               t.cost_usd, t.computed_cost_usd
          FROM agent_trace.agent_traces AS t
         WHERE t.session_id IS NOT NULL) AS u
 GROUP BY u.session_id, u.project_id;

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
