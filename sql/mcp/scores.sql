-- The scores tool: scores newest first, of trace $1 and of name $2 when given, scored in [$3, $4);
-- one page after the previous page's last row ($5 its scored_at, $6 its score_key), keyset on
-- (scored_at, score_key); at most $7.
SELECT s.trace_id, s.span_id, s.name, s.value, s.label, s.source, s.scorer, s.scored_at,
       s.explanation, s.score_key
  FROM agent_trace.agent_scores AS s
 WHERE ($1::text IS NULL OR s.trace_id = $1::text::agent_trace.trace_id)
   AND ($2::text IS NULL OR s.name = $2::text)
   AND s.scored_at >= $3::text::timestamptz AND s.scored_at < $4::text::timestamptz
   AND ($5::text IS NULL OR (s.scored_at, s.score_key) < ($5::text::timestamptz, $6::text::uuid))
 ORDER BY s.scored_at DESC, s.score_key DESC
 LIMIT $7::bigint
