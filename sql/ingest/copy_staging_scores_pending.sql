COPY pg_temp.agent_trace_staging_scores_pending FROM STDIN (FORMAT binary)
