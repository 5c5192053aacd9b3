COPY pg_temp.agent_trace_staging_logs FROM STDIN (FORMAT binary)
