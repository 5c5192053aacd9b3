-- The trace list in another order ($12: duration, spans, errors, input_tokens, output_tokens,
-- cost, computed_cost or start; $13: asc or desc), with the filters of trace_list.sql ($15: the
-- project; $16 to $19: a score's name, its least and greatest value and its label). No index
-- has these orders, so PostgreSQL sorts the filtered range (a top-N sort); keyset pagination on
-- (sort_key, trace_id) after the previous page's last row ($10, $11). Unknown values (NULL) sort
-- as the smallest. Each row carries its scores (the latest of each name), read for this page only.
-- A model is looked for within the trace's start and end, as in trace_list.sql.
WITH page AS MATERIALIZED (
    SELECT *
      FROM (SELECT t.trace_id, t.project_id, t.name, t.status, t.start_time, t.duration_ms, t.span_count,
                   t.error_count, t.llm_call_count, t.tool_call_count, t.input_tokens, t.output_tokens,
                   t.cost_usd, t.computed_cost_usd, t.service_name, t.agent_name, t.user_id, t.session_id,
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
                                                 WHERE s.trace_id = t.trace_id AND s.model = $7::text
                                                   AND s.start_time >= t.start_time AND s.start_time <= t.end_time))
               AND ($8::text IS NULL OR t.status = $8::text)
               AND ($9::text IS NULL OR strpos(lower(t.name), lower($9::text)) > 0
                    OR strpos(lower(t.input), lower($9::text)) > 0 OR strpos(lower(t.output), lower($9::text)) > 0)
               AND ($15::text IS NULL OR t.project_id = (SELECT p.project_id FROM agent_trace.readable_projects() AS p
                                                          WHERE p.name = $15::text))
               AND ($16::text IS NULL OR EXISTS (SELECT FROM agent_trace.agent_scores AS sc
                                                  WHERE sc.trace_id = t.trace_id AND sc.project_id = t.project_id
                                                    AND sc.name = $16::text
                                                    AND ($17::text IS NULL OR sc.value >= $17::text::float8)
                                                    AND ($18::text IS NULL OR sc.value <= $18::text::float8)
                                                    AND ($19::text IS NULL OR sc.label = $19::text)))
           ) AS sorted
     WHERE $10::text IS NULL
        OR (sorted.sort_key, sorted.trace_id) > ($10::text::numeric, $11::text::agent_trace.trace_id)
     ORDER BY sorted.sort_key, sorted.trace_id
     LIMIT $14::bigint
), scores AS MATERIALIZED (
    SELECT l.trace_id, l.project_id,
           json_agg(json_build_object('name', l.name, 'value', l.value, 'label', l.label) ORDER BY l.name) AS scores
      FROM (SELECT DISTINCT ON (sc.trace_id, sc.project_id, sc.name) sc.trace_id, sc.project_id, sc.name,
                   sc.value, sc.label
              FROM agent_trace.agent_scores AS sc
             WHERE sc.trace_id IN (SELECT page.trace_id FROM page)
             ORDER BY sc.trace_id, sc.project_id, sc.name, sc.scored_at DESC, sc.created_at DESC,
                      sc.score_key DESC) AS l
     GROUP BY l.trace_id, l.project_id
)
SELECT page.trace_id, page.name, page.status, page.start_time, page.duration_ms, page.span_count,
       page.error_count, page.llm_call_count, page.tool_call_count, page.input_tokens, page.output_tokens,
       page.cost_usd, page.computed_cost_usd, page.service_name, page.agent_name, page.user_id,
       page.session_id, page.input_preview, page.output_preview, page.sort_key, scores.scores
  FROM page
  LEFT JOIN scores ON scores.trace_id = page.trace_id AND scores.project_id = page.project_id
 ORDER BY page.sort_key, page.trace_id
