-- Whether agent_trace is distributed over a Citus cluster (agent_trace.distribute()): then the
-- writer recomputes the traces of every batch of spans itself (refresh_traces.sql).
SELECT agent_trace.distributed()
