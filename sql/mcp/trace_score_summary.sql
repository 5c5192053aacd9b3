-- Per score name of trace $1: the latest score, how many, their average (agent_trace_scores).
SELECT s.name, s.latest_value, s.latest_label, s.latest_source, s.latest_scorer, s.latest_scored_at,
       s.score_count, s.avg_value
  FROM agent_trace.agent_trace_scores AS s
 WHERE s.trace_id = $1::text::agent_trace.trace_id
 ORDER BY s.name
