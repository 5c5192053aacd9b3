-- agent-trace projects grant NAME ROLE --access read|write.
SELECT agent_trace.grant_project($1::text, $2::text::regrole, $3::text)
