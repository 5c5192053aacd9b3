-- Staged scores without a run -> agent_scores_pending, where they wait for the span of the response
-- they name (extension/sql/scores.sql; link_scores.sql moves them). DISTINCT ON drops copies inside
-- the batch; ON CONFLICT DO NOTHING skips scores waiting since an earlier request. Rows go in key
-- order so concurrent batches take their locks in the same order.
INSERT INTO agent_trace.agent_scores_pending (
    score_key, project_id, name, value, label, explanation, response_id, scored_at, attributes)
SELECT DISTINCT ON (s.score_key, s.project_id)
       s.score_key, s.project_id, s.name, s.value, s.label, s.explanation, s.response_id, s.scored_at,
       s.attributes
  FROM pg_temp.agent_trace_staging_scores_pending AS s
 ORDER BY s.score_key, s.project_id
    ON CONFLICT DO NOTHING
