-- What the trace list's filter fields suggest for [$1, $2): the projects the viewer's login may read,
-- the services, agents, users and sessions of the 5,000 latest traces in the range, the models of
-- their spans and the names and labels of their scores, the 200 most frequent of each with how many
-- of those traces have it. Bounded so that it costs the same over any range (an index scan and
-- 5,000 primary-key lookups in each of agent_spans and agent_scores, the latter two per trace: a
-- join would read every score); the filters themselves apply to every trace.
WITH recent AS MATERIALIZED (
    SELECT t.trace_id, t.project_id, t.service_name, t.agent_name, t.user_id, t.session_id,
           (SELECT array_agg(DISTINCT sc.name) FROM agent_trace.agent_scores AS sc
             WHERE sc.trace_id = t.trace_id AND sc.project_id = t.project_id) AS score_names,
           (SELECT array_agg(DISTINCT sc.label) FROM agent_trace.agent_scores AS sc
             WHERE sc.trace_id = t.trace_id AND sc.project_id = t.project_id) AS score_labels
      FROM agent_trace.agent_traces AS t
     WHERE t.start_time >= $1::text::timestamptz AND t.start_time < $2::text::timestamptz
     ORDER BY t.start_time DESC, t.trace_id DESC
     LIMIT 5000
), choices AS (
    SELECT 'project' AS facet, p.name AS value, r.trace_id
      FROM agent_trace.readable_projects() AS p
      LEFT JOIN recent AS r ON r.project_id = p.project_id
    UNION ALL SELECT 'service', service_name, trace_id FROM recent
    UNION ALL SELECT 'agent', agent_name, trace_id FROM recent
    UNION ALL SELECT 'user', user_id, trace_id FROM recent
    UNION ALL SELECT 'session', session_id, trace_id FROM recent
    UNION ALL
    SELECT DISTINCT 'model', s.model, s.trace_id
      FROM recent AS r
      JOIN agent_trace.agent_spans AS s ON s.trace_id = r.trace_id
     WHERE s.model IS NOT NULL
    UNION ALL SELECT 'score', n.name, r.trace_id FROM recent AS r, unnest(r.score_names) AS n(name)
    UNION ALL SELECT 'score_label', l.label, r.trace_id FROM recent AS r, unnest(r.score_labels) AS l(label)
)
SELECT facet, value, traces
  FROM (SELECT facet, value, count(DISTINCT trace_id) AS traces,
               row_number() OVER (PARTITION BY facet ORDER BY count(DISTINCT trace_id) DESC, value) AS rank
          FROM choices
         WHERE value IS NOT NULL
         GROUP BY facet, value) AS ranked
 WHERE rank <= 200
 ORDER BY facet, traces DESC, value
