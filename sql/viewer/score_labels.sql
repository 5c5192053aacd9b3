-- The labels of score $4 over time, in buckets of $3 from $1 to $2 (by scored_at): how many of each.
SELECT date_bin($3::text::interval, s.scored_at, $1::text::timestamptz) AS bucket, s.label,
       count(*) AS scores
  FROM agent_trace.agent_scores AS s
 WHERE s.name = $4::text AND s.label IS NOT NULL
   AND s.scored_at >= $1::text::timestamptz AND s.scored_at < $2::text::timestamptz
 GROUP BY 1, 2
 ORDER BY 1, 2
