-- Two runs (or two turns: spans $3 and $4) aligned node by node: same, changed, added, removed.
SELECT d.*
  FROM agent_trace.diff_traces($1::text::agent_trace.trace_id, $2::text::agent_trace.trace_id,
                               $3::text::agent_trace.span_id, $4::text::agent_trace.span_id) AS d
 ORDER BY d.step
