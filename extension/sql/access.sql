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
