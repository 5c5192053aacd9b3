-- The replay document of the run (or of span $2's subtree): LLM requests and tool results in time
-- order, to re-run the agent against another model.
SELECT jsonb_pretty(agent_trace.replay_json($1::text::agent_trace.trace_id, $2::text::agent_trace.span_id)) AS document
