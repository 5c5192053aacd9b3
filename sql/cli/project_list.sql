-- agent-trace projects list: every project, and who may read or write it.
SELECT p.project_id, p.name, p.created_at::text,
       coalesce(string_agg(g.grantee::text || ' (' || g.access || ')', ', ' ORDER BY g.grantee::text, g.access), '')
  FROM agent_trace.projects AS p
  LEFT JOIN agent_trace.project_grants AS g USING (project_id)
 GROUP BY p.project_id, p.name, p.created_at
 ORDER BY p.project_id
