-- Two runs' scores side by side, per name (agent_trace_scores: their spans' scores count for the
-- run): the latest value and label of each, how many and their average. A name only one run has
-- gives NULLs on the other side. Each run is read by its trace id first, then the two are joined.
WITH a AS MATERIALIZED (
    SELECT s.name, s.latest_value, s.latest_label, s.score_count, s.avg_value
      FROM agent_trace.agent_trace_scores AS s
     WHERE s.trace_id = $1::text::agent_trace.trace_id
), b AS MATERIALIZED (
    SELECT s.name, s.latest_value, s.latest_label, s.score_count, s.avg_value
      FROM agent_trace.agent_trace_scores AS s
     WHERE s.trace_id = $2::text::agent_trace.trace_id
)
SELECT coalesce(a.name, b.name) AS name,
       a.latest_value AS value_a, a.latest_label AS label_a, a.score_count AS count_a, a.avg_value AS avg_a,
       b.latest_value AS value_b, b.latest_label AS label_b, b.score_count AS count_b, b.avg_value AS avg_b,
       b.latest_value - a.latest_value AS value_delta
  FROM a FULL JOIN b ON b.name = a.name
 ORDER BY 1, count_a, count_b
