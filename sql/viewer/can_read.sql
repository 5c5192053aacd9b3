-- At start: whether the viewer's role may do what the viewer does: read the tables and views it
-- shows and run the trace functions. agent_trace_reader may; agent_trace_writer alone may not.
SELECT pg_catalog.has_table_privilege('agent_trace.agent_traces', 'SELECT')
   AND pg_catalog.has_table_privilege('agent_trace.agent_spans', 'SELECT')
   AND pg_catalog.has_table_privilege('agent_trace.agent_logs', 'SELECT')
   AND pg_catalog.has_table_privilege('agent_trace.agent_sessions', 'SELECT')
   AND pg_catalog.has_table_privilege('agent_trace.agent_metric_deltas', 'SELECT')
   AND pg_catalog.has_function_privilege(
           'agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id)', 'EXECUTE')
   AND pg_catalog.has_function_privilege(
           'agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)',
           'EXECUTE')
   AND pg_catalog.has_function_privilege(
           'agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id)', 'EXECUTE') AS may_read
