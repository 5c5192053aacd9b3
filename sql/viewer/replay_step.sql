-- One step of the replay in full: its whole input and output, tool arguments and result.
SELECT r.*
  FROM agent_trace.replay($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id) AS r
 WHERE r.step = $3::bigint
