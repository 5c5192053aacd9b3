-- agent-trace tokens create --project NAME --name TEXT: the token, shown this once.
SELECT agent_trace.create_ingest_token($1::text, $2::text)
