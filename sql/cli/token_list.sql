-- agent-trace tokens list: every token (never the token itself: only its SHA-256 is stored).
SELECT t.token_id, p.name, t.name, t.created_at::text, coalesce(t.revoked_at::text, '')
  FROM agent_trace.ingest_tokens AS t
  JOIN agent_trace.projects AS p USING (project_id)
 ORDER BY t.token_id
