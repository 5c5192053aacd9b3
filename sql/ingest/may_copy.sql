-- Whether the ingest's login may COPY into the tables: PostgreSQL refuses COPY FROM to a role that
-- row-level security applies to (extension/sql/access.sql). The ingest's own login bypasses it
-- (ingest_role.sql); any other writer inserts through the session's staging table instead.
SELECT NOT (pg_catalog.row_security_active('agent_trace.agent_spans')
            OR pg_catalog.row_security_active('agent_trace.agent_logs')
            OR pg_catalog.row_security_active('agent_trace.agent_metrics'))
