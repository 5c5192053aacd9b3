-- The waterfall: the trace (or the subtree of span $2, e.g. one turn) as trace_tree gives it,
-- depth-first, with self time and subtree sums.
SELECT n.tree_order, n.depth, n.span_id, n.parent_span_id, n.name, n.span_type, n.status, n.model,
       n.start_offset_ms, n.duration_ms, n.self_time_ms, n.input_tokens, n.output_tokens, n.cost_usd,
       n.computed_cost_usd, n.subtree_spans, n.subtree_input_tokens, n.subtree_output_tokens,
       n.subtree_cost_usd, n.subtree_computed_cost_usd, n.subtree_errors, n.is_orphan, n.is_cycle
  FROM agent_trace.trace_tree($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id) AS n
 ORDER BY n.tree_order
