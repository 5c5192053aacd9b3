-- A score given through the MCP server's add_score tool (ingest/src/mcp/), stored by the extension's
-- agent_trace.add_score as the ingest's login, into project $10 (its name: the project of the
-- scored trace, which the MCP server looked up). A retried call with the same arguments is stored
-- once (add_score derives the key from them). The score's key comes back.
SELECT agent_trace.add_score(trace_id => $1::text::agent_trace.trace_id, name => $2::text,
                             value => $3::float8, label => $4::text, explanation => $5::text,
                             source => $6::text, scorer => $7::text,
                             span_id => $8::text::agent_trace.span_id,
                             attributes => $9::text::jsonb, project => $10::text)::text
