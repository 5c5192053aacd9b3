-- The ingest's reading of the projects (extension/sql/projects.sql), every few seconds: the SHA-256
-- of every valid ingest token with its project, and the projects' own redaction settings. Both
-- functions run as the extension's owner and give the ingest's login this and nothing more.
SELECT token_sha256, project_id, NULL::jsonb AS redaction FROM agent_trace._ingest_tokens()
UNION ALL
SELECT NULL, project_id, redaction FROM agent_trace._project_redaction()
