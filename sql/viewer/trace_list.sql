-- The trace list, newest first: agent_traces started in [$1, $2), filtered, one page after the
-- previous page's last row ($10, $11). Keyset pagination on (start_time, trace_id): a deep page
-- costs what the first one does, read backwards along agent_traces_start_time_idx.
-- Filters, NULL for "any": $3 service, $4 agent, $5 user, $6 session, $7 model (of any span),
-- $8 status (OK or ERROR), $9 text in the name or the input/output previews (case-insensitive),
-- $13 project (its name; among those the viewer's login may read).
SELECT t.trace_id, t.name, t.status, t.start_time, t.duration_ms, t.span_count, t.error_count,
       t.llm_call_count, t.tool_call_count, t.input_tokens, t.output_tokens, t.cost_usd,
       t.computed_cost_usd, t.service_name, t.agent_name, t.user_id, t.session_id,
       left(t.input, 160) AS input_preview, left(t.output, 160) AS output_preview
  FROM agent_trace.agent_traces AS t
 WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz
   AND ($10::text IS NULL OR (t.start_time <= $10::text::timestamptz
        AND (t.start_time < $10::text::timestamptz OR t.trace_id < $11::text::agent_trace.trace_id)))
   AND ($3::text IS NULL OR t.service_name = $3::text)
   AND ($4::text IS NULL OR t.agent_name = $4::text)
   AND ($5::text IS NULL OR t.user_id = $5::text)
   AND ($6::text IS NULL OR t.session_id = $6::text)
   AND ($7::text IS NULL OR EXISTS (SELECT FROM agent_trace.agent_spans AS s
                                     WHERE s.trace_id = t.trace_id AND s.model = $7::text))
   AND ($8::text IS NULL OR t.status = $8::text)
   AND ($9::text IS NULL OR strpos(lower(t.name), lower($9::text)) > 0
        OR strpos(lower(t.input), lower($9::text)) > 0 OR strpos(lower(t.output), lower($9::text)) > 0)
   AND ($13::text IS NULL OR t.project_id = (SELECT p.project_id FROM agent_trace.readable_projects() AS p
                                              WHERE p.name = $13::text))
 ORDER BY t.start_time DESC, t.trace_id DESC
 LIMIT $12::bigint
