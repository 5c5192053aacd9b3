-- After a batch stored spans carrying gen_ai.response.id, or scores naming one: the scores waiting on
-- them get their span, in the batch's transaction (on Citus right after its commit, as
-- refresh_traces.sql). extension/sql/scores.sql says how. $1: trace ids (hex; NULL for a score
-- without a run), $2: their projects, $3: the response ids.
SELECT agent_trace.link_written_scores($1::text[]::agent_trace.trace_id[], $2::integer[], $3::text[])
