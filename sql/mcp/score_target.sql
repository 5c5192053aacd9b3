-- Where the add_score tool may put a score of trace $1 (and its span $2, when given): the projects
-- that hold the trace among those the MCP server's login reads, narrowed to project id $3 (the
-- project of the caller's token) and to the project named $4 (the caller's choice), each with
-- whether it holds the span.
SELECT t.project_id, p.name AS project,
       ($2::text IS NULL
        OR EXISTS (SELECT FROM agent_trace.agent_spans AS s
                    WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id
                      AND s.span_id = $2::text::agent_trace.span_id
                      AND s.start_time BETWEEN t.start_time AND t.end_time)) AS holds_span
  FROM agent_trace.agent_traces AS t
  JOIN agent_trace.readable_projects() AS p ON p.project_id = t.project_id
 WHERE t.trace_id = $1::text::agent_trace.trace_id
   AND ($3::text IS NULL OR t.project_id = $3::text::integer)
   AND ($4::text IS NULL OR p.name = $4::text)
 ORDER BY t.project_id
