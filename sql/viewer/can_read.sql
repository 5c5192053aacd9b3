-- At start: whether the viewer's role may read the extension's tables (fails if not).
SELECT count(*) FROM (SELECT FROM agent_trace.agent_traces LIMIT 1) AS any_trace
