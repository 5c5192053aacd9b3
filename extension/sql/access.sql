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
-- But not who may read what, nor the tokens: agent_trace.readable_projects() lists the projects a
-- role may read; the rest is for whoever manages projects (projects.sql).
REVOKE SELECT ON agent_trace.projects, agent_trace.project_grants, agent_trace.ingest_tokens
    FROM agent_trace_reader;
-- Nor how long data is kept and how much of it there is, across projects (partitions.sql), nor
-- the maintenance of a distributed install (citus.sql): the owner's business.
REVOKE SELECT ON agent_trace.retention, agent_trace.agent_partitions, agent_trace.distributed_maintenance
    FROM agent_trace_reader;

-- The writer inserts spans (agent_logs and agent_metrics: signals.sql). What the fold trigger
-- writes (agent_traces, agent_span_costs) it writes with the owner's rights (rollup.sql), so the
-- writer can neither read what it stored nor change a stored row.
GRANT INSERT ON agent_trace.agent_spans TO agent_trace_writer;
REVOKE ALL ON FUNCTION agent_trace._fold_inserted_spans() FROM PUBLIC;

GRANT SELECT (trace_id, project_id, span_id, parent_span_id, start_time, end_time, duration_ms, name, span_kind,
              span_type, status_code, service_name, scope_name, scope_version, model, provider,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
              workflow_id, correlation_id, created_at)
    ON agent_trace.agent_spans TO agent_trace_usage_reader;
GRANT SELECT (trace_id, project_id, name, status, start_time, end_time, duration_ms, span_count, error_count,
              llm_call_count, tool_call_count, input_tokens, output_tokens, cache_read_tokens,
              cache_write_tokens, reasoning_tokens, cost_usd, service_name, session_id, user_id,
              agent_name, agent_id, run_id, team_id, workflow_id, correlation_id, root_span_id,
              root_start_time, created_at, updated_at, computed_cost_usd)
    ON agent_trace.agent_traces TO agent_trace_usage_reader;
GRANT SELECT (record_key, project_id, time, observed_time, trace_id, span_id, event_name, severity_number,
              severity_text, service_name, scope_name, scope_version, session_id, user_id, model,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, duration_ms, created_at, computed_cost_usd)
    ON agent_trace.agent_logs TO agent_trace_usage_reader;
GRANT SELECT (series_key, project_id, name, kind, temporality, is_monotonic, start_time, time, value, count, sum,
              min, max, bucket_bounds, bucket_counts, exponential_buckets, quantiles, unit,
              description, service_name, scope_name, scope_version, session_id, model, token_type,
              created_at)
    ON agent_trace.agent_metrics TO agent_trace_usage_reader;
GRANT SELECT ON agent_trace.agent_metric_deltas TO agent_trace_usage_reader;
-- The views read their tables as the caller (security_invoker): what they show of content they read
-- with the caller's column privileges, so a usage reader reads their numbers only.
GRANT SELECT ON agent_trace.agent_sessions, agent_trace.agent_turns TO agent_trace_usage_reader;

-- Projects (projects.sql): which rows a role sees and may insert. Row-level security on every table
-- that holds a project's rows; a role reads the rows of the projects granted to it (or to a role it
-- belongs to) for read, and inserts rows only into those granted for write. The views read their
-- tables as the caller (security_invoker), and every function reads as its caller, so the same
-- policies hold through them. The triggers write agent_traces and agent_span_costs as the
-- extension's owner, which row-level security does not restrict, for whichever project the spans
-- were stored in.
--
-- A role subject to these policies cannot COPY into the tables (PostgreSQL refuses COPY FROM with
-- row-level security): it inserts. The ingest's login writes every project's rows, so it gets
-- BYPASSRLS (agent-trace up, docker/, sql/ingest/ingest_role.sql), which lets it COPY and still read
-- nothing: it holds no SELECT privilege.
ALTER TABLE agent_trace.agent_spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_traces ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_span_costs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_metrics ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_granted_projects ON agent_trace.agent_spans FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_spans FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_traces FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_span_costs FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_logs FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_logs FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_metrics FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_metrics FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));

-- pg_dump: the tables an extension creates belong to it, and a dump leaves their rows out unless
-- they are registered here (the default project's redaction settings, if changed, are not kept).
-- Spans, logs, metrics and computed costs live in partitions: the daily ones are not part of the
-- extension (maintain() makes them), so pg_dump keeps them like any table; the default partitions
-- register themselves in partitions.sql; model_prices in prices.sql. A restore loads each partition
-- directly, which fires no trigger on the parent: agent_traces, derived from the spans, is dumped
-- too, as it was (a restore through the parents, pg_dump --load-via-partition-root, would fold the
-- spans into it a second time; agent_trace.refresh_traces repairs that).
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_traces', '');
-- And the projects, their grants and tokens, which only the user makes: all but what the extension
-- itself makes (the default project and its three grants, which a restore's CREATE EXTENSION makes
-- again).
SELECT pg_catalog.pg_extension_config_dump('agent_trace.projects', 'WHERE project_id <> 1');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.projects_project_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.project_grants',
    'WHERE NOT (project_id = 1 AND grantee::text IN (''agent_trace_reader'', ''agent_trace_usage_reader'', ''agent_trace_writer''))');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.ingest_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.ingest_tokens_token_id_seq', '');
