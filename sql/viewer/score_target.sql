-- Where a score a person adds to trace $1 goes (read before the ingest's writer stores it): the
-- trace's project, by name, among those the viewer's login may read; only project $2 (an id: the
-- project of the token that asks) when given, only the project named $3 when given. Whether span
-- $4 (when given) is one of the trace's spans. No row: no such trace there. Two rows: the trace id
-- is in two projects, and the caller must name one.
WITH t AS MATERIALIZED (
    SELECT t.project_id,
           $4::text IS NULL OR EXISTS (SELECT FROM agent_trace.agent_spans AS s
                                        WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id
                                          AND s.span_id = $4::text::agent_trace.span_id
                                          AND s.start_time BETWEEN t.start_time AND t.end_time) AS has_span
      FROM agent_trace.agent_traces AS t
     WHERE t.trace_id = $1::text::agent_trace.trace_id
       AND ($2::text IS NULL OR t.project_id = $2::text::integer)
)
SELECT p.name AS project, t.has_span
  FROM t
  JOIN agent_trace.readable_projects() AS p ON p.project_id = t.project_id
 WHERE $3::text IS NULL OR p.name = $3::text
 ORDER BY p.project_id
