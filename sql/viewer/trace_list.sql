-- The trace list, newest first: agent_traces started in [$1, $2), filtered, one page after the
-- previous page's last row ($10, $11). Keyset pagination on (start_time, trace_id): a deep page
-- costs what the first one does, read backwards along agent_traces_start_time_idx.
-- Filters, NULL for "any": $3 service, $4 agent, $5 user, $6 session, $7 model (of any span),
-- $8 status (OK or ERROR), $9 text in the name or the input/output previews (case-insensitive),
-- $13 project (its name; among those the viewer's login may read), $14 a score's name: traces
-- with a score of that name (of the run or of one of its spans) whose value is at least $15 and
-- at most $16 and whose label is $17 (each NULL for "any").
-- Each row carries its scores: the latest of each name (by scored_at), read for this page's traces
-- only, through agent_scores' primary key. A model is looked for among the spans that start within
-- the trace's start and end (all of them do), so only the trace's days' partitions are read.
WITH page AS MATERIALIZED (
    SELECT t.trace_id, t.project_id, t.name, t.status, t.start_time, t.duration_ms, t.span_count,
           t.error_count, t.llm_call_count, t.tool_call_count, t.input_tokens, t.output_tokens,
           t.cost_usd, t.computed_cost_usd, t.service_name, t.agent_name, t.user_id, t.session_id,
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
                                         WHERE s.trace_id = t.trace_id AND s.model = $7::text
                                           AND s.start_time >= t.start_time AND s.start_time <= t.end_time))
       AND ($8::text IS NULL OR t.status = $8::text)
       AND ($9::text IS NULL OR strpos(lower(t.name), lower($9::text)) > 0
            OR strpos(lower(t.input), lower($9::text)) > 0 OR strpos(lower(t.output), lower($9::text)) > 0)
       AND ($13::text IS NULL OR t.project_id = (SELECT p.project_id FROM agent_trace.readable_projects() AS p
                                                  WHERE p.name = $13::text))
       AND ($14::text IS NULL OR EXISTS (SELECT FROM agent_trace.agent_scores AS sc
                                          WHERE sc.trace_id = t.trace_id AND sc.project_id = t.project_id
                                            AND sc.name = $14::text
                                            AND ($15::text IS NULL OR sc.value >= $15::text::float8)
                                            AND ($16::text IS NULL OR sc.value <= $16::text::float8)
                                            AND ($17::text IS NULL OR sc.label = $17::text)))
     ORDER BY t.start_time DESC, t.trace_id DESC
     LIMIT $12::bigint
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
       page.session_id, page.input_preview, page.output_preview, scores.scores
  FROM page
  LEFT JOIN scores ON scores.trace_id = page.trace_id AND scores.project_id = page.project_id
 ORDER BY page.start_time DESC, page.trace_id DESC
