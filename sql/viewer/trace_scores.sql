-- The scores of a trace, each as given: of the run itself (span_id NULL) and of its spans, newest
-- first (the first 1,000), through agent_scores' primary key. The viewer shows them on their spans.
SELECT s.span_id, s.name, s.value, s.label, s.explanation, s.source, s.scorer, s.scored_at, s.score_key
  FROM agent_trace.agent_scores AS s
 WHERE s.trace_id = $1::text::agent_trace.trace_id
 ORDER BY s.scored_at DESC, s.created_at DESC, s.score_key, s.project_id
 LIMIT 1000
