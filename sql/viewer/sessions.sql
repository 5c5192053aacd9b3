-- Sessions active in [$1, $2), most recently active first, from agent_sessions (coding assistants
-- and traced agents alike), optionally of one tool ($3) and one project ($7, its name); one page
-- after the previous page's last row ($4, $5), keyset on (last_activity, session_id).
SELECT s.session_id, s.tool, s.user_id, s.first_activity, s.last_activity, s.prompts, s.traces,
       s.model_calls, s.tool_calls, s.errors, s.input_tokens, s.output_tokens, s.cache_read_tokens,
       s.cache_write_tokens, s.reasoning_tokens, s.cost_usd, s.computed_cost_usd
  FROM agent_trace.agent_sessions AS s
 WHERE s.last_activity >= $1::text::timestamptz AND s.first_activity < $2::text::timestamptz
   AND ($3::text IS NULL OR s.tool = $3::text)
   AND ($7::text IS NULL OR s.project_id = (SELECT p.project_id FROM agent_trace.readable_projects() AS p
                                             WHERE p.name = $7::text))
   AND ($4::text IS NULL OR (s.last_activity, s.session_id) < ($4::text::timestamptz, $5::text))
 ORDER BY s.last_activity DESC, s.session_id DESC
 LIMIT $6::bigint
