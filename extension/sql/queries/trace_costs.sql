-- The computed costs of one trace's spans (agent_span_costs), which api.rs matches to the rows
-- of trace_spans.sql by (span_id, start_time, project_id), the rest of the key they share.
-- $1..$3 as there.
SELECT c.span_id,
       c.start_time,
       c.project_id,
       c.computed_cost_usd
  FROM agent_trace.agent_span_costs AS c
 WHERE c.trace_id = $1 AND c.start_time >= $2 AND c.start_time <= $3
