-- The ingest's login role: a member of agent_trace_writer and nothing more, so it can insert spans,
-- log records and metric points and can neither read nor change anything (extension/sql/access.sql).
-- BYPASSRLS: it stores every project's rows (each in the project of the token it came with), and
-- row-level security would refuse it COPY; it still holds no privilege to read any of them.
-- Run with psql in the database that has the extension, by `agent-trace up` (ingest/src/cli/cluster.rs)
-- and by the compose file's database on its first start (docker/initdb/20-ingest-role.sh), with two
-- psql variables: role (the login's name) and password (the password, or its SCRAM verifier).
-- Running it again sets the password again.
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS PASSWORD %L',
              :'role', :'password')
\gexec
GRANT agent_trace_writer TO :"role";
