-- Model prices and computed cost: which price a call gets, what it costs, and that computed cost
-- stays apart from the cost clients report, on spans, traces and log records.
SET timezone = 'UTC';

------------------------------------------------------------------------------------------------------
-- Built-in prices: CREATE EXTENSION loads the snapshot agent-trace carries
-- (sql/prices/litellm-snapshot.json, through extension/sql/prices_snapshot.sql), marked as the
-- extension's: source 'agent_trace built-in', dated the snapshot's date.
------------------------------------------------------------------------------------------------------
SELECT source, source_date, count(*) AS prices, count(DISTINCT provider) AS providers,
       min(effective_from) AS effective_from, agent_trace.has_prices() AS has_prices
  FROM agent_trace.model_prices GROUP BY 1, 2;

-- So the first LLM span is priced: gpt-4o-mini at $0.15 / $0.60 per million tokens, 120 input and
-- 18 output tokens: 120 x 0.15 / 1e6 + 18 x 0.6 / 1e6 = 0.0000288.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, span_type, model, provider, start_time,
    end_time, input_tokens, output_tokens)
VALUES ('0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f', 'b000000000000001', 'chat gpt-4o-mini', 'llm', 'gpt-4o-mini',
        'openai', '2026-11-01 12:00', '2026-11-01 12:00:01', 120, 18);
SELECT c.computed_cost_usd, c.price_model_pattern, c.price_provider, c.price_effective_from,
       t.computed_cost_usd AS trace_computed_cost_usd
  FROM agent_trace.agent_span_costs AS c JOIN agent_trace.agent_traces AS t USING (trace_id);

-- A built-in row you change becomes yours (source 'manual', its source_date kept): pg_dump keeps it.
-- A row you insert with the built-in mark is yours too: only the extension writes built-in rows.
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 0.2
 WHERE model_pattern = 'gpt-4o-mini' AND provider = 'openai';
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, source, source_date)
SELECT 'my-' || model_pattern, provider, input_usd_per_mtok, source, source_date
  FROM agent_trace.model_prices WHERE model_pattern = 'gpt-4o' AND provider = 'openai';
SELECT model_pattern, provider, effective_from, input_usd_per_mtok, source, source_date
  FROM agent_trace.model_prices WHERE source <> 'agent_trace built-in' ORDER BY model_pattern;

-- A row of yours and a built-in row of the same model, provider and effective_from live side by
-- side (as a restore loads them: the built-in one from CREATE EXTENSION, yours from the dump), and
-- price_for takes yours.
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 'openai', 1, 2);
SELECT model_pattern, provider, effective_from, input_usd_per_mtok, output_usd_per_mtok, source
  FROM agent_trace.model_prices WHERE model_pattern = 'gpt-4o' AND provider = 'openai' ORDER BY source;
SELECT input_usd_per_mtok, output_usd_per_mtok, source
  FROM agent_trace.price_for('openai/gpt-4o', NULL, '2026-11-01');
-- But two of yours, no: a second row of yours is refused, and so is an edit of the built-in row
-- there (it would become yours), saying which row prices the calls.
\set VERBOSITY terse
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok) VALUES ('gpt-4o', 'openai', 3);
\set VERBOSITY default
UPDATE agent_trace.model_prices SET output_usd_per_mtok = 11 WHERE model_pattern = 'gpt-4o' AND provider = 'openai';
-- pg_dump keeps your rows and leaves the built-in ones out: a restore gets those from CREATE
-- EXTENSION (scripts/test-upgrade.sh dumps and restores).
SELECT c.relid::regclass AS dumped, c.condition
  FROM pg_extension AS e, unnest(e.extconfig, e.extcondition) AS c(relid, condition)
 WHERE e.extname = 'agent_trace' AND c.relid = 'agent_trace.model_prices'::regclass;

-- The rest of this file prices with its own rows alone: the built-in ones, and the span above, go.
DELETE FROM agent_trace.agent_spans;
DELETE FROM agent_trace.model_prices;
SELECT agent_trace.has_prices() AS has_prices,
       (SELECT count(*) FROM agent_trace.agent_traces) AS traces,
       (SELECT count(*) FROM agent_trace.agent_span_costs) AS span_costs;

------------------------------------------------------------------------------------------------------
-- Which price applies
------------------------------------------------------------------------------------------------------

-- Prices per million tokens. gpt-4o gets cheaper from 2026-11-15 on.
INSERT INTO agent_trace.model_prices (model_pattern, provider, effective_from, input_usd_per_mtok,
    output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, reasoning_usd_per_mtok,
    long_context_above_tokens, long_context_input_usd_per_mtok, long_context_output_usd_per_mtok,
    long_context_cache_read_usd_per_mtok, source, source_date)
VALUES
    ('gpt-4o',                 'openai',     '-infinity',  2.5,  10,   1.25,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', '2026-10-01'),
    ('gpt-4o',                 'openai',     '2026-11-15', 2,    8,    1,     NULL, NULL, NULL,   NULL, NULL, NULL, 'test', '2026-11-15'),
    ('gpt-4o',                 '*',          '-infinity',  7,    7,    7,     NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('gpt-4o-2024-05-13',      'openai',     '-infinity',  5,    15,   NULL,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('o3',                     'openai',     '-infinity',  2,    8,    0.5,   NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('claude-sonnet-4-5',      'anthropic',  '-infinity',  3,    15,   0.3,   3.75, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('gemini-2.5-pro',         'gcp.gemini', '-infinity',  1.25, 10,   0.125, NULL, NULL, 200000, 2.5,  15,   0.25, 'test', NULL),
    ('gemini-2.5-flash',       'gcp.gemini', '-infinity',  0.3,  2.5,  0.03,  NULL, 3.5,  NULL,   NULL, NULL, NULL, 'test', NULL),
    ('text-embedding-3-small', 'openai',     '-infinity',  0.02, NULL, NULL,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('ft:gpt-4o%',             'openai',     '-infinity',  3.75, 15,   NULL,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('ft:gpt-4o-mini%',        'openai',     '-infinity',  0.3,  1.2,  NULL,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL),
    ('my_model%',              '*',          '-infinity',  1,    1,    NULL,  NULL, NULL, NULL,   NULL, NULL, NULL, 'test', NULL);

-- Which row prices a call: exact name, then without a "vendor/" prefix, then without a date stamp,
-- then the longest LIKE pattern; the call's own provider before '*'; the latest effective_from
-- not after the call's day.
SELECT c.model, c.provider, c.at::date AS day, p.model_pattern, p.provider AS price_provider, p.effective_from
  FROM (VALUES
        ('gpt-4o', 'openai', timestamptz '2026-11-01 12:00'),
        ('gpt-4o', 'openai', '2026-11-14 23:59:59'),
        ('gpt-4o', 'openai', '2026-11-15 00:00'),
        ('GPT-4o ', 'OpenAI', '2026-11-01 12:00'),
        ('openai/gpt-4o', NULL, '2026-11-01 12:00'),
        ('gpt-4o', NULL, '2026-11-01 12:00'),
        ('gpt-4o', 'azure.ai.openai', '2026-11-01 12:00'),
        ('gpt-4o-2024-05-13', 'openai', '2026-11-01 12:00'),
        ('gpt-4o-2024-08-06', 'openai', '2026-11-01 12:00'),
        ('claude-sonnet-4-5', 'anthropic', '2026-11-01 12:00'),
        ('claude-sonnet-4-5-20250929', 'anthropic', '2026-11-01 12:00'),
        ('claude-sonnet-4-5', NULL, '2026-11-01 12:00'),
        ('anthropic/claude-sonnet-4-5', 'openai', '2026-11-01 12:00'),
        ('claude-sonnet-4-5', 'aws.bedrock', '2026-11-01 12:00'),
        ('claude-sonnet-4-5@20250929', 'gcp.vertex_ai', '2026-11-01 12:00'),
        ('gemini-2.5-pro', 'gcp.gen_ai', '2026-11-01 12:00'),
        ('models/gemini-2.5-pro', 'google', '2026-11-01 12:00'),
        ('gemini/gemini-2.5-pro', NULL, '2026-11-01 12:00'),
        ('ft:gpt-4o-mini-2024-07-18:acme::abc123', 'openai', '2026-11-01 12:00'),
        ('ft:gpt-4o-2024-08-06:acme::abc123', 'openai', '2026-11-01 12:00'),
        ('my_model-7b', NULL, '2026-11-01 12:00'),
        ('myXmodel-7b', NULL, '2026-11-01 12:00'),
        ('gpt-4', 'openai', '2026-11-01 12:00'),
        ('gpt-4o-mini', 'openai', '2026-11-01 12:00'),
        ('', 'openai', '2026-11-01 12:00'),
        (NULL, 'openai', '2026-11-01 12:00')
       ) AS c(model, provider, at)
  LEFT JOIN LATERAL agent_trace.price_for(c.model, c.provider, c.at) AS p ON true;

SELECT agent_trace.normalize_provider(p) AS normalized, p AS sent
  FROM unnest(ARRAY['openai', 'Anthropic', 'gcp.gen_ai', 'gemini', 'google', 'vertex_ai', 'az.ai.openai',
                    'bedrock', 'cohere', '', NULL]) AS p;

-- What a call costs. Token counts mean what the agent_spans columns say: input_tokens includes the
-- cache reads and writes, output_tokens includes reasoning.
SELECT c.what, agent_trace.compute_cost(c.model, c.provider, c.at, c.input_tokens, c.output_tokens,
           c.cache_read_tokens, c.cache_write_tokens, c.reasoning_tokens) AS cost_usd, c.by_hand
  FROM (VALUES
        ('gpt-4o: 600 input x 2.5 + 400 cache read x 1.25 + 200 output x 10', 'gpt-4o', 'openai', timestamptz '2026-11-01 12:00', 1000::bigint, 200::bigint, 400::bigint, NULL::bigint, NULL::bigint, 0.004),
        ('gpt-4o after the price change: 600 x 2 + 400 x 1 + 200 x 8', 'gpt-4o', 'openai', '2026-11-20 12:00', 1000, 200, 400, NULL, NULL, 0.0032),
        ('gpt-4o cache writes without a write price cost input: 1000 x 2.5', 'gpt-4o', 'openai', '2026-11-01 12:00', 1000, 0, 0, 100, NULL, 0.0025),
        ('claude: 100 x 3 + 600 cache read x 0.3 + 300 cache write x 3.75 + 50 x 15', 'claude-sonnet-4-5', 'anthropic', '2026-11-01 12:00', 1000, 50, 600, 300, NULL, 0.002355),
        ('o3 reasoning without its own price costs output: 10 x 2 + 100 x 8', 'o3', 'openai', '2026-11-01 12:00', 10, 100, NULL, NULL, 80, 0.00082),
        ('gemini-2.5-flash reasoning at 3.5: 100 x 0.3 + 20 x 2.5 + 80 x 3.5', 'gemini-2.5-flash', 'gcp.gemini', '2026-11-01 12:00', 100, 100, NULL, NULL, 80, 0.00036),
        ('gemini-2.5-pro at 200000 input: base prices', 'gemini-2.5-pro', 'gcp.gemini', '2026-11-01 12:00', 200000, 1000, NULL, NULL, NULL, 0.26),
        ('gemini-2.5-pro above 200000 input: long-context prices', 'gemini-2.5-pro', 'gcp.gemini', '2026-11-01 12:00', 250000, 1000, NULL, NULL, NULL, 0.64),
        ('embedding: 1000 input x 0.02, no output', 'text-embedding-3-small', 'openai', '2026-11-01 12:00', 1000, NULL, NULL, NULL, NULL, 0.00002),
        ('embedding with output tokens: output is not priced', 'text-embedding-3-small', 'openai', '2026-11-01 12:00', 1000, 5, NULL, NULL, NULL, NULL),
        ('cache reads on a model without a cache-read price', 'gpt-4o-2024-05-13', 'openai', '2026-11-01 12:00', 1000, 10, 10, NULL, NULL, NULL),
        ('no cache reads on that model: priced', 'gpt-4o-2024-05-13', 'openai', '2026-11-01 12:00', 1000, 10, 0, NULL, NULL, 0.00515),
        ('no token counts', 'gpt-4o', 'openai', '2026-11-01 12:00', NULL, NULL, NULL, NULL, NULL, NULL),
        ('unknown model', 'gpt-4', 'openai', '2026-11-01 12:00', 1000, 200, NULL, NULL, NULL, NULL),
        ('no model', NULL, 'openai', '2026-11-01 12:00', 1000, 200, NULL, NULL, NULL, NULL)
       ) AS c(what, model, provider, at, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, by_hand);

------------------------------------------------------------------------------------------------------
-- Spans: computed cost in agent_span_costs and agent_traces.computed_cost_usd, provided cost apart.
------------------------------------------------------------------------------------------------------
CREATE FUNCTION pg_temp.span(trace text, span text, span_type text, model text, provider text,
                             start_at timestamptz, input_tokens bigint, output_tokens bigint,
                             cache_read_tokens bigint, cost_usd numeric)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, provider,
        start_time, end_time, input_tokens, output_tokens, cache_read_tokens, cost_usd)
    VALUES (trace::agent_trace.trace_id, span::agent_trace.span_id,
            CASE WHEN span <> 'a000000000000001' THEN 'a000000000000001'::agent_trace.span_id END,
            span_type || ' ' || coalesce(model, ''), span_type, model, provider,
            start_at, start_at + interval '1 second', input_tokens, output_tokens, cache_read_tokens, cost_usd)
    ON CONFLICT DO NOTHING
$$;

-- One run, all spans in one statement.
INSERT INTO agent_trace.agent_spans (trace_id, span_id, parent_span_id, name, span_type, model, provider,
    start_time, end_time, input_tokens, output_tokens, cache_read_tokens, cost_usd)
SELECT '11111111111111111111111111111111', s.span_id::agent_trace.span_id,
       CASE WHEN s.span_id <> 'a000000000000001' THEN 'a000000000000001'::agent_trace.span_id END,
       s.name, s.span_type, s.model, s.provider, s.start_time, s.start_time + interval '1 second',
       s.input_tokens, s.output_tokens, s.cache_read_tokens, s.cost_usd
  FROM (VALUES
        ('a000000000000001', 'agent run',       'agent',     'gpt-4o',                 'openai', timestamptz '2026-11-01 12:00', 2000::bigint, 400::bigint, 800::bigint, NULL::numeric),
        ('a000000000000002', 'chat, priced',    'llm',       'gpt-4o',                 'openai', '2026-11-01 12:00:01', 1000, 200, 400, NULL),
        ('a000000000000003', 'chat, provided',  'llm',       'gpt-4o',                 'openai', '2026-11-01 12:00:02', 1000, 200, 400, 0.5),
        ('a000000000000004', 'chat, no price',  'llm',       'mystery-model',          'openai', '2026-11-01 12:00:03', 1000, 200, NULL, NULL),
        ('a000000000000005', 'chat, no tokens', 'llm',       'gpt-4o',                 'openai', '2026-11-01 12:00:04', NULL, NULL, NULL, NULL),
        ('a000000000000006', 'embeddings',      'embedding', 'text-embedding-3-small', 'openai', '2026-11-01 12:00:05', 1000, NULL, NULL, NULL),
        ('a000000000000007', 'tool',            'tool',      NULL,                     NULL,     '2026-11-01 12:00:06', NULL, NULL, NULL, NULL),
        ('a000000000000008', 'chat, later',     'llm',       'gpt-4o',                 'openai', '2026-11-20 12:00', 1000, 200, 400, NULL)
       ) AS s(span_id, name, span_type, model, provider, start_time, input_tokens, output_tokens, cache_read_tokens, cost_usd);

-- One cost row per priced span: not the agent span (it repeats its children), not the span with a
-- provided cost, not the unknown model, not the span without tokens.
SELECT s.name, s.cost_usd AS provided, c.computed_cost_usd AS computed, c.price_model_pattern,
       c.price_provider, c.price_effective_from
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c USING (trace_id, span_id, start_time)
 ORDER BY s.span_id;

-- The trace: provided 0.5, computed 0.004 + 0.00002 + 0.0032.
SELECT trace_id, llm_call_count, cost_usd, computed_cost_usd FROM agent_trace.agent_traces;

-- The same spans again (a client retry) add nothing; spans of the trace arriving later add theirs.
SELECT pg_temp.span('11111111111111111111111111111111', 'a000000000000002', 'llm', 'gpt-4o', 'openai', '2026-11-01 12:00:01', 1000, 200, 400, NULL);
SELECT pg_temp.span('11111111111111111111111111111111', 'a000000000000009', 'llm', 'claude-sonnet-4-5-20250929', 'anthropic', '2026-11-02 12:00', 1000, 50, 600, NULL);
SELECT count(*) AS cost_rows FROM agent_trace.agent_span_costs;
SELECT cost_usd, computed_cost_usd FROM agent_trace.agent_traces;

-- A trace with nothing priceable has no computed cost (NULL, not 0); one with only provided cost
-- keeps it in cost_usd.
SELECT pg_temp.span('22222222222222222222222222222222', 'a000000000000001', 'llm', 'mystery-model', NULL, '2026-11-01 12:00', 10, 10, NULL, NULL);
SELECT pg_temp.span('33333333333333333333333333333333', 'a000000000000001', 'llm', 'gpt-4o', 'openai', '2026-11-01 12:00', 10, 10, NULL, 0.25);
SELECT trace_id, cost_usd, computed_cost_usd FROM agent_trace.agent_traces ORDER BY trace_id;

-- The trace row equals a from-scratch sum of its span costs.
SELECT t.trace_id, t.computed_cost_usd, (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c
                                          WHERE c.trace_id = t.trace_id) AS from_scratch
  FROM agent_trace.agent_traces AS t ORDER BY 1;

------------------------------------------------------------------------------------------------------
-- Log records: computed_cost_usd is set on insert when there are tokens and no cost_usd. The
-- provider comes from the gen_ai.provider.name attribute: Gemini CLI's gcp.gen_ai is the Gemini API;
-- Vertex AI has no price here. The Codex record names no provider, so the '*' row of gpt-4o (a price
-- for any provider) applies, not the openai one.
------------------------------------------------------------------------------------------------------
INSERT INTO agent_trace.agent_logs (record_key, time, event_name, model, input_tokens, output_tokens,
    cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd, attributes)
VALUES
    ('00000000-0000-0000-0000-000000000001', '2026-11-01 12:00', 'api_request', 'claude-sonnet-4-5', 1000, 50, 600, 300, NULL, 0.002355, '{}'),
    ('00000000-0000-0000-0000-000000000002', '2026-11-01 12:00', 'gemini_cli.api_response', 'gemini-2.5-flash', 100, 100, NULL, NULL, 80, NULL, '{"gen_ai.provider.name": "gcp.gen_ai"}'),
    ('00000000-0000-0000-0000-000000000003', '2026-11-01 12:00', 'gemini_cli.api_response', 'gemini-2.5-flash', 100, 100, NULL, NULL, 80, NULL, '{"gen_ai.provider.name": "gcp.vertex_ai"}'),
    ('00000000-0000-0000-0000-000000000004', '2026-11-20 12:00', 'codex.sse_event', 'gpt-4o', 1000, 200, 400, NULL, NULL, NULL, '{}'),
    ('00000000-0000-0000-0000-000000000005', '2026-11-01 12:00', 'user_prompt', NULL, NULL, NULL, NULL, NULL, NULL, NULL, '{}');
SELECT record_key, event_name, model, cost_usd AS provided, computed_cost_usd AS computed
  FROM agent_trace.agent_logs ORDER BY record_key;

------------------------------------------------------------------------------------------------------
-- After a price change: recompute_costs re-costs spans and logs in a time range, changes only what
-- differs (a second run changes nothing), and keeps the trace totals equal to their spans' sum.
------------------------------------------------------------------------------------------------------
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 5
 WHERE model_pattern = 'gpt-4o' AND provider = 'openai' AND effective_from = '-infinity';
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('mystery-model', 'openai', 1, 1);
DELETE FROM agent_trace.model_prices WHERE model_pattern = 'text-embedding-3-small';

-- Spans up to 2026-11-10: the early gpt-4o call changes, the embedding loses its price, the
-- mystery-model calls (openai, and the one of unknown provider) gain one; the gpt-4o call of
-- 2026-11-20 is outside the range and keeps its cost.
SELECT * FROM agent_trace.recompute_costs('2026-11-01', '2026-11-10');
SELECT s.name, c.computed_cost_usd AS computed, c.price_model_pattern
  FROM agent_trace.agent_spans AS s
  LEFT JOIN agent_trace.agent_span_costs AS c USING (trace_id, span_id, start_time)
 WHERE s.trace_id = '11111111111111111111111111111111'
 ORDER BY s.span_id;
SELECT t.trace_id, t.cost_usd, t.computed_cost_usd,
       (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c WHERE c.trace_id = t.trace_id) AS from_scratch
  FROM agent_trace.agent_traces AS t ORDER BY 1;
SELECT record_key, computed_cost_usd FROM agent_trace.agent_logs ORDER BY record_key;
SELECT * FROM agent_trace.recompute_costs('2026-11-01', '2026-11-10');

-- The price from 2026-11-15 changes too, and the '*' row: the whole range re-costs the later gpt-4o
-- span and the Codex log record; run again, it changes nothing.
UPDATE agent_trace.model_prices SET output_usd_per_mtok = 4
 WHERE model_pattern = 'gpt-4o' AND effective_from = '2026-11-15';
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 6 WHERE model_pattern = 'gpt-4o' AND provider = '*';
SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');
SELECT t.trace_id, t.computed_cost_usd,
       (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c WHERE c.trace_id = t.trace_id) AS from_scratch
  FROM agent_trace.agent_traces AS t ORDER BY 1;
SELECT record_key, computed_cost_usd FROM agent_trace.agent_logs ORDER BY record_key;
SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');

------------------------------------------------------------------------------------------------------
-- Privileges: nothing for PUBLIC; readers read prices and may compute costs; the writer role's
-- inserts get priced.
------------------------------------------------------------------------------------------------------
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('agent_trace_reader', p.oid, 'EXECUTE') AS reader_execute,
       has_function_privilege('agent_trace_writer', p.oid, 'EXECUTE') AS writer_execute
  FROM pg_proc AS p
 WHERE p.pronamespace = 'agent_trace'::regnamespace
   AND p.proname IN ('normalize_provider', 'price_for', 'cost_at_price', 'compute_cost', 'recompute_costs',
                     '_log_provider', '_cost_inserted_log', '_price_is_yours', 'has_prices')
 ORDER BY p.oid::regprocedure::text COLLATE "C";
SELECT c.relname AS table,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('agent_trace_reader', c.oid, 'SELECT') AS reader_select,
       has_table_privilege('agent_trace_reader', c.oid, 'INSERT') AS reader_insert,
       has_table_privilege('agent_trace_writer', c.oid, 'INSERT') AS writer_insert,
       has_table_privilege('agent_trace_writer', c.oid, 'UPDATE') AS writer_update,
       has_table_privilege('agent_trace_writer', c.oid, 'DELETE') AS writer_delete
  FROM pg_class AS c
 WHERE c.oid IN ('agent_trace.model_prices'::regclass, 'agent_trace.agent_span_costs'::regclass);

CREATE ROLE regress_prices_writer LOGIN IN ROLE agent_trace_writer;
CREATE ROLE regress_prices_reader LOGIN IN ROLE agent_trace_reader;
SET ROLE regress_prices_writer;
SELECT pg_temp.span('44444444444444444444444444444444', 'a000000000000001', 'llm', 'o3', 'openai', '2026-11-01 12:00', 10, 100, NULL, NULL);
INSERT INTO agent_trace.agent_logs (record_key, time, model, input_tokens, output_tokens)
VALUES ('00000000-0000-0000-0000-000000000006', '2026-11-01 12:00', 'o3', 10, 100);
UPDATE agent_trace.model_prices SET input_usd_per_mtok = 0;
SET ROLE regress_prices_reader;
SELECT computed_cost_usd FROM agent_trace.agent_traces WHERE trace_id = '44444444444444444444444444444444';
SELECT computed_cost_usd FROM agent_trace.agent_logs WHERE record_key = '00000000-0000-0000-0000-000000000006';
SELECT agent_trace.compute_cost('o3', 'openai', '2026-11-01', 10, 100, NULL, NULL, NULL);
SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');
RESET ROLE;
DROP ROLE regress_prices_writer;
DROP ROLE regress_prices_reader;

-- pg_dump keeps the prices (user data), not the derived span costs.
SELECT extconfig::regclass[] AS dumped_with_data FROM pg_extension WHERE extname = 'agent_trace';
