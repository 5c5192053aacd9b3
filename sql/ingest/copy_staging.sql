COPY pg_temp.agent_trace_staging FROM STDIN (FORMAT binary)
