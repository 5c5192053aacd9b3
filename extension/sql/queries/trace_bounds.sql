-- Where one trace's spans start: every span of a trace starts within its agent_traces row's
-- [start_time, end_time] (tables.sql). trace_spans.sql takes these as $2 and $3, values the planner
-- sees, so it reads only the partitions of those days (with a bound computed inside the same query,
-- PostgreSQL would plan and open every partition first). NULL, NULL: no trace (no spans either).
-- A trace id sent to two projects is two rows: the range covers both (row-level security keeps
-- the other project's spans out anyway).
-- The third column, the trace's spans as counted in agent_traces, tells api.rs how many rows to
-- make room for (a hint only: it never limits what is read).
SELECT min(t.start_time), max(t.end_time), sum(t.span_count)::bigint
  FROM agent_trace.agent_traces AS t
 WHERE t.trace_id = $1
