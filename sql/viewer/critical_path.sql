-- The spans that decided the wall time of the trace (or of span $2's subtree).
SELECT c.step, c.span_id, c.critical_ms
  FROM agent_trace.critical_path($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id) AS c
 ORDER BY c.step
