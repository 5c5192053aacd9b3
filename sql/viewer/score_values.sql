-- Score $4 over time, in buckets of $3 from $1 to $2 (by scored_at): how many were given, how many
-- with a value, and the average, least and greatest value.
SELECT date_bin($3::text::interval, s.scored_at, $1::text::timestamptz) AS bucket,
       count(*) AS scores, count(s.value) AS value_count, avg(s.value) AS avg_value,
       min(s.value) AS min_value, max(s.value) AS max_value
  FROM agent_trace.agent_scores AS s
 WHERE s.name = $4::text
   AND s.scored_at >= $1::text::timestamptz AND s.scored_at < $2::text::timestamptz
 GROUP BY 1
 ORDER BY 1
