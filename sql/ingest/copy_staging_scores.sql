COPY pg_temp.agent_trace_staging_scores FROM STDIN (FORMAT binary)
