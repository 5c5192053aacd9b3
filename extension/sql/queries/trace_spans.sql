-- One trace's spans, as the tree functions (extension/src/api.rs) read them through SPI.
-- $1: the trace id as uuid (trace_id is binary-coercible to uuid, so the primary key is used).
-- $2: whether to read input and output too (only diff_traces compares them; they can be large).
SELECT span_id,
       parent_span_id,
       start_time,
       end_time,
       name,
       span_type,
       status_code,
       model,
       input_tokens,
       output_tokens,
       cost_usd,
       CASE WHEN $2 THEN input END AS input,
       CASE WHEN $2 THEN output END AS output
  FROM agent_trace.agent_spans
 WHERE trace_id = $1
