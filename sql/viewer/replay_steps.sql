-- The run (or span $2's subtree) step by step in time order, with the first 300 characters of
-- each input and output and their full lengths; replay_step.sql gives one step in full.
SELECT r.step, r.start_offset_ms, r.depth, r.span_type, r.name, r.model, r.tool_name, r.status,
       r.error, r.input_tokens, r.output_tokens, r.cost_usd, r.computed_cost_usd, r.span_id,
       left(r.input, 300) AS input_preview, length(r.input) AS input_length,
       left(r.output, 300) AS output_preview, length(r.output) AS output_length
  FROM agent_trace.replay($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id) AS r
 ORDER BY r.step
