-- DROP EXTENSION removes everything the extension created; CREATE EXTENSION brings it back.
-- (The three roles are cluster objects and stay: see extension/sql/roles.sql.)
DROP EXTENSION agent_trace;
SELECT count(*) AS schemas_left FROM pg_namespace WHERE nspname = 'agent_trace';
SELECT count(*) AS types_left FROM pg_type WHERE typname IN ('trace_id', 'span_id');
SELECT count(*) AS casts_left FROM pg_cast
 WHERE castsource::regtype::text LIKE '%trace_id%' OR castsource::regtype::text LIKE '%span_id%';
SELECT rolname AS roles_kept FROM pg_roles WHERE rolname LIKE 'agent\_trace\_%' ORDER BY 1;
CREATE EXTENSION agent_trace;
SELECT extversion IS NOT NULL AS reinstalled FROM pg_extension WHERE extname = 'agent_trace';
