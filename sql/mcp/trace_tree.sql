-- The trace_tree tool: trace $1 (or the subtree of its span $2) as trace_tree gives it, depth-first,
-- each node with its span's input and output cut to $3 characters (NULL: whole) and their whole
-- lengths, its status message and tool; at most $4 nodes. A span stored twice shows its first copy.
SELECT n.depth, n.span_id, n.name, n.span_type, n.status, s.status_message, n.model, s.tool_name,
       n.start_offset_ms, n.duration_ms, n.self_time_ms, n.input_tokens, n.output_tokens,
       n.cost_usd, n.computed_cost_usd, n.subtree_spans, n.subtree_errors, n.is_orphan, n.is_cycle,
       CASE WHEN $3::text IS NULL THEN s.input ELSE left(s.input, $3::text::integer) END AS input,
       length(s.input) AS input_chars,
       CASE WHEN $3::text IS NULL THEN s.output ELSE left(s.output, $3::text::integer) END AS output,
       length(s.output) AS output_chars
  FROM agent_trace.trace_tree($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id) AS n
  LEFT JOIN LATERAL (
        SELECT x.status_message, x.tool_name, x.input, x.output
          FROM agent_trace.agent_spans AS x
         WHERE x.trace_id = $1::text::agent_trace.trace_id AND x.span_id = n.span_id
           AND x.start_time BETWEEN agent_trace.trace_start($1::text::agent_trace.trace_id)
                                AND agent_trace.trace_end($1::text::agent_trace.trace_id)
         ORDER BY x.start_time, x.project_id
         LIMIT 1) AS s ON true
 ORDER BY n.tree_order
 LIMIT $4::bigint
