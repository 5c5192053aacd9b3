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
       c.computed_cost_usd
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c
    ON c.trace_id = s.trace_id AND c.span_id = s.span_id AND c.start_time = s.start_time
   AND c.project_id = s.project_id AND c.start_time >= $2 AND c.start_time <= $3
 WHERE s.trace_id = $1 AND s.start_time >= $2 AND s.start_time <= $3
