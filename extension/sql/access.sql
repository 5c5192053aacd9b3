-- Who may do what. Nothing is granted to PUBLIC: the schema is private until a role is granted.
--
--   agent_trace_reader  read every table (for psql, dashboards and BI tools)
--   agent_trace_writer  what the ingest service needs: insert spans (which updates agent_traces)
--
-- Roles belong to the cluster, not to a database, so they are created only if missing, and
-- DROP EXTENSION leaves them in place (drop them with DROP ROLE once no database uses them).
-- Grant them to login roles: GRANT agent_trace_reader TO grafana;

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

GRANT USAGE ON SCHEMA agent_trace TO agent_trace_reader, agent_trace_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA agent_trace TO agent_trace_reader;

-- The trigger runs as the inserting role, so the writer also needs to upsert agent_traces (and
-- read it: ON CONFLICT DO UPDATE reads the existing row).
GRANT SELECT, INSERT ON agent_trace.agent_spans TO agent_trace_writer;
GRANT SELECT, INSERT, UPDATE ON agent_trace.agent_traces TO agent_trace_writer;

REVOKE ALL ON FUNCTION agent_trace._fold_inserted_spans() FROM PUBLIC;
