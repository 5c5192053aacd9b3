-- One trace's spans, as the tree functions (extension/src/api.rs) read them through SPI.
-- $1: the trace id as uuid (trace_id is binary-coercible to uuid, so the primary key is used);
-- $2, $3: where its spans start (trace_bounds.sql), so only the partitions of those days are read.
-- The column order is api.rs's `column` module. Input and output are NULL here: the tree functions
-- do not show them, and a query that names a column needs the caller's privilege on it, which
-- agent_trace_usage_reader does not have. diff_traces, which compares them, reads
-- trace_spans_with_io.sql instead (the same query, api.rs checks, but for those two columns).
SELECT s.span_id,
       s.parent_span_id,
       s.start_time,
       s.end_time,
       s.name,
       s.span_type,
       s.status_code,
       s.model,
       s.input_tokens,
       s.output_tokens,
       s.cost_usd,
       NULL::text AS input,
       NULL::text AS output,
       c.computed_cost_usd
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c
    ON c.trace_id = s.trace_id AND c.span_id = s.span_id AND c.start_time = s.start_time
   AND c.project_id = s.project_id AND c.start_time >= $2 AND c.start_time <= $3
 WHERE s.trace_id = $1 AND s.start_time >= $2 AND s.start_time <= $3
