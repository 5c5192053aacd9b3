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
