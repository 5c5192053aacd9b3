-- Staged scores of known runs -> agent_scores. DISTINCT ON drops copies of one score inside the batch
-- (PostgreSQL refuses an ON CONFLICT statement that touches one key twice); ON CONFLICT DO NOTHING
-- skips scores stored by an earlier request (a client retry). Rows go in key order so concurrent
-- batches take their locks in the same order. The id casts only relabel the same bytes.
INSERT INTO agent_trace.agent_scores (
    score_key, project_id, trace_id, span_id, name, value, label, explanation, response_id, scored_at,
    attributes)
SELECT DISTINCT ON (s.trace_id, s.score_key, s.project_id)
       s.score_key, s.project_id, s.trace_id::agent_trace.trace_id, s.span_id::agent_trace.span_id, s.name,
       s.value, s.label, s.explanation, s.response_id, s.scored_at, s.attributes
  FROM pg_temp.agent_trace_staging_scores AS s
 ORDER BY s.trace_id, s.score_key, s.project_id
    ON CONFLICT DO NOTHING
