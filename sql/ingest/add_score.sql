-- A score a person added in the viewer (POST /api/traces/ID/scores, ingest/src/viewer/scores.rs),
-- stored by the ingest's writer, never by the viewer's read-only pool: agent_trace.add_score as the
-- writer's login, into the project the viewer found the trace in ($9, by name; the login must be
-- granted it for write, which BYPASSRLS is). Given at the database's time unless the caller sent its
-- own key ($10) for retries: without one, each request is a score of its own (a person may give a
-- thumbs-down, then a thumbs-up, then a thumbs-down again). Returns the score's key.
SELECT agent_trace.add_score($1::text::agent_trace.trace_id, $2::text,
                             value => $3::float8, label => $4::text, explanation => $5::text,
                             source => $6::text, scorer => $7::text,
                             span_id => $8::text::agent_trace.span_id,
                             scored_at => pg_catalog.now(), project => $9::text,
                             score_key => $10::text::uuid)::text AS score_key
