-- The names of the scores given in [$1, $2), most given first (the 200 most), with how many carry a
-- value and how many a label: the choices of the sessions page's score chart.
SELECT s.name, count(*) AS scores, count(s.value) AS value_count, count(s.label) AS label_count
  FROM agent_trace.agent_scores AS s
 WHERE s.scored_at >= $1::text::timestamptz AND s.scored_at < $2::text::timestamptz
 GROUP BY s.name
 ORDER BY count(*) DESC, s.name
 LIMIT 200
