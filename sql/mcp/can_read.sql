-- At start: whether the MCP server's login may read agent_trace at all. A usage reader may (it reads
-- every column but the content, agent_trace_usage_reader): its tools that show content answer
-- with PostgreSQL's permission error, the others work.
SELECT pg_catalog.has_any_column_privilege('agent_trace.agent_traces', 'SELECT')
   AND pg_catalog.has_function_privilege('agent_trace.readable_projects()', 'EXECUTE') AS may_read
