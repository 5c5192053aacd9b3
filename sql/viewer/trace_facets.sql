-- What the trace list's filters can choose from in [$1, $2): services, agents, users and sessions
-- of the traces, models of their spans; the 200 most frequent of each, with how many traces have it.
(SELECT 'service' AS facet, t.service_name AS value, count(*) AS traces
   FROM agent_trace.agent_traces AS t
  WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz AND t.service_name IS NOT NULL
  GROUP BY t.service_name ORDER BY traces DESC, value LIMIT 200)
UNION ALL
(SELECT 'agent', t.agent_name, count(*) AS traces
   FROM agent_trace.agent_traces AS t
  WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz AND t.agent_name IS NOT NULL
  GROUP BY t.agent_name ORDER BY traces DESC, 2 LIMIT 200)
UNION ALL
(SELECT 'user', t.user_id, count(*) AS traces
   FROM agent_trace.agent_traces AS t
  WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz AND t.user_id IS NOT NULL
  GROUP BY t.user_id ORDER BY traces DESC, 2 LIMIT 200)
UNION ALL
(SELECT 'session', t.session_id, count(*) AS traces
   FROM agent_trace.agent_traces AS t
  WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz AND t.session_id IS NOT NULL
  GROUP BY t.session_id ORDER BY traces DESC, 2 LIMIT 200)
UNION ALL
(SELECT 'model', s.model, count(DISTINCT s.trace_id) AS traces
   FROM agent_trace.agent_spans AS s
  WHERE s.start_time >= $1::text::timestamptz AND s.start_time < $2::text::timestamptz AND s.model IS NOT NULL
  GROUP BY s.model ORDER BY traces DESC, 2 LIMIT 200)
