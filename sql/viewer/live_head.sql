-- What the live list watches: the 50 latest traces and when each last changed. The viewer polls
-- this (index-backed, agent_traces_start_time_idx) and tells browsers when it differs.
SELECT t.trace_id, t.updated_at, t.span_count
  FROM agent_trace.agent_traces AS t
 ORDER BY t.start_time DESC, t.trace_id DESC
 LIMIT 50
