-- The viewer's login role for `agent-trace up` (ingest/src/cli/cluster.rs): a member of
-- agent_trace_reader, so it reads everything agent_trace shows and writes nothing, and not a
-- superuser, so a query it runs can never reach beyond the database (no COPY ... TO PROGRAM, no
-- role changes). BYPASSRLS: `up` is one person's store, and its viewer shows every project (with a
-- filter by project). Run with psql in the database that has the extension, with two psql
-- variables: role (the login's name) and password (its SCRAM verifier). Running it again sets the
-- password again.
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role')
\gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION BYPASSRLS PASSWORD %L',
              :'role', :'password')
\gexec
GRANT agent_trace_reader TO :"role";
