COPY pg_temp.agent_trace_staging_metrics FROM STDIN (FORMAT binary)
