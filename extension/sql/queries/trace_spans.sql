-- One trace's spans, as the tree functions (extension/src/api.rs) read them through SPI, with a
-- plan made once per backend (a generic plan: the partitions of $2..$3 are chosen as it starts).
-- $1: the trace id as uuid (trace_id is binary-coercible to uuid, so the primary key is used);
-- $2, $3: where its spans start (trace_bounds.sql), so only the partitions of those days are read.
-- The column order is api.rs's `column` module. Input and output are NULL here: the tree functions
-- do not show them, and a query that names a column needs the caller's privilege on it, which
-- agent_trace_usage_reader does not have. diff_traces, which compares them, reads
-- trace_spans_with_io.sql instead (the same query, api.rs checks, but for those two columns).
-- computed_cost_usd is filled from trace_costs.sql: joined here, a generic plan (which cannot know
-- a trace's size) probed agent_span_costs once per span.
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
       NULL::numeric AS computed_cost_usd,
       s.project_id
  FROM agent_trace.agent_spans AS s
 WHERE s.trace_id = $1 AND s.start_time >= $2 AND s.start_time <= $3
