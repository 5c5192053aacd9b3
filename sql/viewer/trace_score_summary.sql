-- A trace's scores per name (agent_trace_scores): the latest value and label, who gave it, how many
-- were given (its spans' included) and their average. What the trace's header shows.
SELECT s.name, s.latest_value, s.latest_label, s.latest_source, s.latest_scorer, s.latest_scored_at,
       s.score_count, s.avg_value
  FROM agent_trace.agent_trace_scores AS s
 WHERE s.trace_id = $1::text::agent_trace.trace_id
 ORDER BY s.name, s.project_id
