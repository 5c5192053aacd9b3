-- agent-trace projects create NAME: the new project's id.
SELECT agent_trace.create_project($1::text)
