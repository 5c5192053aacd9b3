-- The trace list in another order ($12: duration, spans, errors, input_tokens, output_tokens,
-- cost, computed_cost or start; $13: asc or desc), with the filters of trace_list.sql ($15: the
-- project). No index
-- has these orders, so PostgreSQL sorts the filtered range (a top-N sort); keyset pagination on
-- (sort_key, trace_id) after the previous page's last row ($10, $11). Unknown values (NULL) sort
-- as the smallest.
SELECT *
  FROM (SELECT t.trace_id, t.name, t.status, t.start_time, t.duration_ms, t.span_count, t.error_count,
               t.llm_call_count, t.tool_call_count, t.input_tokens, t.output_tokens, t.cost_usd,
               t.computed_cost_usd, t.service_name, t.agent_name, t.user_id, t.session_id,
               left(t.input, 160) AS input_preview, left(t.output, 160) AS output_preview,
               coalesce(CASE $12::text
                            WHEN 'start' THEN extract(epoch FROM t.start_time)
                            WHEN 'duration' THEN t.duration_ms::numeric
                            WHEN 'spans' THEN t.span_count
                            WHEN 'errors' THEN t.error_count
                            WHEN 'input_tokens' THEN t.input_tokens
                            WHEN 'output_tokens' THEN t.output_tokens
                            WHEN 'cost' THEN t.cost_usd
                            WHEN 'computed_cost' THEN t.computed_cost_usd
                        END, -1)
               * CASE WHEN $13::text = 'desc' THEN -1 ELSE 1 END AS sort_key
          FROM agent_trace.agent_traces AS t
         WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz
           AND ($3::text IS NULL OR t.service_name = $3::text)
           AND ($4::text IS NULL OR t.agent_name = $4::text)
           AND ($5::text IS NULL OR t.user_id = $5::text)
           AND ($6::text IS NULL OR t.session_id = $6::text)
           AND ($7::text IS NULL OR EXISTS (SELECT FROM agent_trace.agent_spans AS s
                                             WHERE s.trace_id = t.trace_id AND s.model = $7::text))
           AND ($8::text IS NULL OR t.status = $8::text)
           AND ($9::text IS NULL OR strpos(lower(t.name), lower($9::text)) > 0
                OR strpos(lower(t.input), lower($9::text)) > 0 OR strpos(lower(t.output), lower($9::text)) > 0)
           AND ($15::text IS NULL OR t.project_id = (SELECT p.project_id FROM agent_trace.readable_projects() AS p
                                                      WHERE p.name = $15::text))
       ) AS page
 WHERE $10::text IS NULL
    OR (page.sort_key, page.trace_id) > ($10::text::numeric, $11::text::agent_trace.trace_id)
 ORDER BY page.sort_key, page.trace_id
 LIMIT $14::bigint
