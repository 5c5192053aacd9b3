-- The installed agent_trace version, or no row when the extension is not created in this database.
SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'agent_trace'
