-- A score given by a person in the viewer (POST /api/traces/ID/scores) or through the MCP server's
-- add_score tool, stored by agent_trace.add_score as the ingest's writer login (which may insert
-- scores and read nothing), into project $10 (by name: the scored trace's project, which the caller
-- looked up; the login must be granted it for write, which BYPASSRLS is). $12: given at the
-- database's time, so each call is a score of its own (a person may give a thumbs-down, a thumbs-up,
-- then a thumbs-down again) unless the caller sent its own key ($11) for its retries; without $12,
-- a retried call with the same arguments is stored once (add_score derives the key from them).
-- Returns the score's key.
SELECT agent_trace.add_score(trace_id => $1::text::agent_trace.trace_id, name => $2::text,
                             value => $3::float8, label => $4::text, explanation => $5::text,
                             source => $6::text, scorer => $7::text,
                             span_id => $8::text::agent_trace.span_id,
                             attributes => $9::text::jsonb, project => $10::text,
                             score_key => $11::text::uuid,
                             scored_at => CASE WHEN $12::boolean THEN pg_catalog.now() END)::text AS score_key
