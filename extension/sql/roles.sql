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
