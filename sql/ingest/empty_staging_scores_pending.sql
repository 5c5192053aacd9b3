-- The careful way's next try in the same transaction starts from an empty staging table (write/mod.rs).
TRUNCATE pg_temp.agent_trace_staging_scores_pending
