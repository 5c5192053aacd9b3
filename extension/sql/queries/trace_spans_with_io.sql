-- trace_spans.sql with input and output, for diff_traces, which compares them (see there).
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
       s.input,
       s.output,
       NULL::numeric AS computed_cost_usd,
       s.project_id
  FROM agent_trace.agent_spans AS s
 WHERE s.trace_id = $1 AND s.start_time >= $2 AND s.start_time <= $3
