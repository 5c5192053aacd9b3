-- agent-trace tokens revoke ID: whether a valid token was revoked.
SELECT agent_trace.revoke_ingest_token($1::integer)
