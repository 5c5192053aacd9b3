-- The query tool's limits, for this transaction only: the statement timeout and lock timeout ($1,
-- in milliseconds), the search path pinned to agent_trace then pg_catalog (pg_temp last, so nothing
-- temporary shadows them, and no schema of the login's own), and UTC.
SELECT pg_catalog.set_config('statement_timeout', $1::text, true),
       pg_catalog.set_config('lock_timeout', $1::text, true),
       pg_catalog.set_config('search_path', 'agent_trace, pg_catalog, pg_temp', true),
       pg_catalog.set_config('TimeZone', 'UTC', true)
