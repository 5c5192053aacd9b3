-- The scores of trace $1 (of the run and of its spans), oldest first, their explanations cut to $2
-- characters (NULL: whole); at most $3.
SELECT s.span_id, s.name, s.value, s.label, s.source, s.scorer, s.scored_at,
       CASE WHEN $2::text IS NULL THEN s.explanation ELSE left(s.explanation, $2::text::integer) END AS explanation
  FROM agent_trace.agent_scores AS s
 WHERE s.trace_id = $1::text::agent_trace.trace_id
 ORDER BY s.scored_at, s.created_at, s.score_key
 LIMIT $3::bigint
