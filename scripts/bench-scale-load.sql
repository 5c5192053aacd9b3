-- One chunk of the scale benchmark's data (scripts/bench-scale.sh): runs :first to :last - 1 of
-- :runs, spread evenly over the 30 days before :'t_end', ten spans each, inserted into agent_spans
-- so the extension's trigger builds agent_traces and prices the LLM calls into agent_span_costs as
-- it does for the ingest. Then the chunk's scores, as agent_trace.add_score would store them.
--
-- A run: the root agent span (the question and the answer), five LLM calls (odd steps: a model of
-- ten, its provider, tokens, no reported cost, so the database prices each) and four tool calls
-- (even steps). Each span carries about 1 KB of text in input and output, and, as the ingest keeps
-- every attribute as sent, the same text again in its attributes (input.value, output.value) beside
-- the gen_ai.* keys. Part of each text is an md5 (does not compress), the rest words (compresses),
-- so TOAST compression does neither all nor nothing.
-- Cardinalities over 1,000,000 runs: 20,000 sessions of 50 runs (ten interleaved at a time), 5,000
-- users, 40 agents, 12 services, 10 models; one run in 50 has a failing tool call; one in 10 has an
-- LLM judge's relevance score (0 to 1), one in 30 a person's thumbs_up or thumbs_down.
\set ON_ERROR_STOP on
INSERT INTO agent_trace.agent_spans
       (trace_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
        status_message, service_name, scope_name, model, provider, input_tokens, output_tokens, tool_name,
        agent_name, session_id, user_id, input, output, attributes, resource_attributes)
SELECT run.trace_id,
       CASE WHEN s = 0 THEN run.root_id ELSE left(md5('run ' || run.r || ' span ' || s), 16)::agent_trace.span_id END,
       CASE WHEN s > 0 THEN run.root_id END,
       run.started + s * interval '700 ms',
       run.started + CASE WHEN s = 0 THEN interval '7 s' ELSE s * interval '700 ms' + interval '600 ms' END,
       CASE WHEN s = 0 THEN 'invoke_agent ' || run.agent WHEN s % 2 = 1 THEN 'chat ' || m.model
            ELSE 'execute_tool ' || run.tool END,
       CASE WHEN s % 2 = 1 THEN 'CLIENT' ELSE 'INTERNAL' END,
       CASE WHEN s = 0 THEN 'agent' WHEN s % 2 = 1 THEN 'llm' ELSE 'tool' END,
       CASE WHEN s = 8 AND run.r % 50 = 7 THEN 'ERROR' ELSE 'UNSET' END,
       CASE WHEN s = 8 AND run.r % 50 = 7 THEN 'tool ' || run.tool || ' timed out after 30 s' END,
       run.service, 'bench.scale', m.model, m.provider,
       CASE WHEN s % 2 = 1 THEN 300 + (run.r * 17 + s * 131) % 4000 END,
       CASE WHEN s % 2 = 1 THEN 20 + (run.r * 7 + s * 37) % 600 END,
       CASE WHEN s > 0 AND s % 2 = 0 THEN run.tool END,
       run.agent, run.session, run.user_id, t.input, t.output,
       jsonb_build_object('gen_ai.operation.name', CASE WHEN s = 0 THEN 'invoke_agent' WHEN s % 2 = 1 THEN 'chat' ELSE 'execute_tool' END,
                          'gen_ai.agent.name', run.agent, 'session.id', run.session, 'user.id', run.user_id,
                          'input.value', t.input, 'output.value', t.output)
       || CASE WHEN s % 2 = 1 THEN jsonb_build_object('gen_ai.request.model', m.model, 'gen_ai.provider.name', m.provider,
                                                      'gen_ai.usage.input_tokens', 300 + (run.r * 17 + s * 131) % 4000,
                                                      'gen_ai.usage.output_tokens', 20 + (run.r * 7 + s * 37) % 600)
               WHEN s > 0 THEN jsonb_build_object('gen_ai.tool.name', run.tool)
               ELSE '{}' END,
       jsonb_build_object('service.name', run.service, 'telemetry.sdk.name', 'opentelemetry',
                          'telemetry.sdk.language', 'python', 'telemetry.sdk.version', '1.45.2')
  FROM generate_series(:first, :last - 1) AS g(r)
 CROSS JOIN LATERAL (
     SELECT g.r, md5('run ' || r)::agent_trace.trace_id AS trace_id,
            left(md5('run ' || r || ' root'), 16)::agent_trace.span_id AS root_id,
            :'t_end'::timestamptz - (:runs - r) * (interval '30 days' / :runs) AS started,
            'service-' || r % 12 AS service, 'agent-' || (r * 7) % 40 AS agent,
            'session-' || ((r / 500) * 10 + r % 10) AS session,
            'user-' || ((r / 500) * 10 + r % 10) % 5000 AS user_id,
            (ARRAY['web_search', 'sql_query', 'read_file', 'send_email', 'calculator', 'get_weather'])[1 + r % 6] AS tool
 ) AS run
 CROSS JOIN generate_series(0, 9) AS s
 CROSS JOIN LATERAL (
     SELECT CASE WHEN s % 2 = 1 THEN (ARRAY['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o3', 'o4-mini',
                                            'claude-sonnet-4-5', 'claude-haiku-4-5', 'claude-opus-4-5',
                                            'gemini-2.5-flash'])[1 + (run.r * 3 + s / 9 * 5) % 10] END AS model
 ) AS m0
 CROSS JOIN LATERAL (
     SELECT m0.model, CASE WHEN m0.model LIKE 'claude%' THEN 'anthropic' WHEN m0.model LIKE 'gemini%' THEN 'gemini'
                           WHEN m0.model IS NOT NULL THEN 'openai' END AS provider
 ) AS m
 CROSS JOIN LATERAL (
     SELECT md5(run.r || '/' || s) AS noise
 ) AS n
 CROSS JOIN LATERAL (
     SELECT left(format('[{"role": "system", "content": "You are %s, a helpful assistant for %s. Answer briefly and cite the tools you used."}, '
                        '{"role": "user", "content": "Request %s (%s): what changed in account %s since the last review, and which of the open tickets %s are still blocking the release? '
                        'Please check the order history, the shipping status and the latest messages from the customer before answering."}]',
                        run.agent, run.service, run.r, n.noise, (run.r * 31) % 100003, reverse(n.noise))
                 || repeat(' ' || upper(n.noise), 4), 600) AS input,
            left(format('{"role": "assistant", "content": "Step %s of request %s: account %s has %s new orders; ticket %s is still open and blocks the release (%s). '
                        'The customer asked twice about the delivery date; the carrier reports a delay of two days."}',
                        s, run.r, (run.r * 31) % 100003, run.r % 17, n.noise, translate(n.noise, '0123456789abcdef', 'ghijklmnopqrstuv'))
                 || repeat(' ' || reverse(n.noise), 3), 400) AS output
 ) AS t;

-- Scores of the chunk's runs: an LLM judge's relevance on one run in ten, a person's thumbs on one
-- in thirty, a minute after the run started (score keys as add_score derives none: random).
INSERT INTO agent_trace.agent_scores (score_key, trace_id, name, value, label, source, scorer, scored_at)
SELECT gen_random_uuid(), md5('run ' || r)::agent_trace.trace_id, sc.name, sc.value, sc.label, sc.source, sc.scorer,
       :'t_end'::timestamptz - (:runs - r) * (interval '30 days' / :runs) + interval '1 minute'
  FROM generate_series(:first, :last - 1) AS r
 CROSS JOIN LATERAL (
     SELECT 'relevance' AS name, ((r * 37) % 101) / 100.0 AS value, NULL AS label, 'llm' AS source, 'judge-gpt-4o' AS scorer
      WHERE r % 10 = 3
     UNION ALL
     SELECT 'helpfulness', NULL, CASE WHEN r % 7 = 0 THEN 'thumbs_down' ELSE 'thumbs_up' END, 'human', 'user-' || r % 5000
      WHERE r % 30 = 11
 ) AS sc;
