-- Model prices and the cost computed from them (issue 5).
--
-- Two kinds of cost, never mixed:
--   * cost_usd (agent_spans, agent_traces, agent_logs): what the client reported. Stored as sent.
--   * computed_cost_usd: tokens x the price in agent_trace.model_prices, for the LLM and embedding
--     calls that came without a reported cost. A span's computed cost lives in agent_span_costs (so
--     agent_spans stays written once by COPY), its trace's sum in agent_traces.computed_cost_usd; a log
--     record's in agent_logs.computed_cost_usd.
-- Each call is counted in exactly one of the two, so cost_usd + computed_cost_usd is the whole cost
-- of what could be priced.
--
-- Where the prices come from: CREATE EXTENSION loads the built-in prices (prices_snapshot.sql,
-- generated from the dated snapshot of LiteLLM's model_prices_and_context_window.json that the
-- agent-trace binary carries too: sql/prices/litellm-snapshot.json, the OpenAI, Anthropic and
-- Gemini API models), so calls are priced from the first span. `agent-trace prices import` adds
-- newer prices (a newer LiteLLM list, or the snapshot of a newer binary) as dated rows of your own.
-- The table is plain data: INSERT, UPDATE and DELETE it like any other table.
--
-- Built-in rows and yours (pg_dump and restore):
--   * A built-in row has source 'agent_trace built-in' and source_date the snapshot's date. Only
--     the extension writes such rows: a row you insert or update with that source becomes yours
--     ('manual'), by the trigger model_prices_yours. So a built-in row you edit is yours from then
--     on, with the snapshot's source_date kept.
--   * pg_dump keeps your rows and leaves the built-in ones out (pg_extension_config_dump below): a
--     restore runs CREATE EXTENSION, which loads the built-in rows again, then loads your rows.
--   * The unique key counts built-in rows apart, so a row of yours (an edited built-in row too)
--     and a built-in row of the same model, provider and effective_from both restore, and
--     price_for takes yours. A built-in row you deleted comes back with a restore (to change a
--     price for good, update its row or insert one of your own).
--   * `agent-trace prices import` only inserts (sql/ingest/prices_import.sql): it never changes a
--     row, so an edit of yours stays as you left it.
--
-- Which price applies to a call (agent_trace.price_for), given its model name, provider and time:
--   1. Only rows in effect at the call's time: effective_from <= the call's UTC date. Of the rows of
--      one (model_pattern, provider), the latest effective_from wins. An import adds a dated row when
--      a price changes and never rewrites an older one, so old calls keep their old price.
--   2. The model name is lower-cased and matched, most specific first:
--        a. exactly, as sent                      'openai/gpt-4o' = a row 'openai/gpt-4o'
--        b. exactly, without a "vendor/" prefix    'openai/gpt-4o' -> 'gpt-4o', 'models/gemini-2.5-pro'
--           (everything up to the last '/')           -> 'gemini-2.5-pro'
--        c. exactly, without a trailing date stamp 'claude-sonnet-4-5-20250929' -> 'claude-sonnet-4-5',
--           (-YYYYMMDD, -YYYY-MM-DD or @YYYYMMDD)     'gpt-4o-2024-08-06' -> 'gpt-4o' (only when the
--                                                     dated name has no row of its own: LiteLLM lists
--                                                     most dated names, and some cost differently)
--        d. by LIKE pattern: a model_pattern holding '%' matches the name of (b) as LIKE does, except
--           that '_' is a plain character ('ft:gpt-4o-mini%'). The longest pattern wins.
--   3. The provider: the span's provider is normalised by agent_trace.normalize_provider (so
--      'gcp.gen_ai', 'gemini' and 'google' all mean 'gcp.gemini'); a "vendor/" prefix that names a
--      provider ('openai/', 'anthropic/', 'gemini/') overrides it for (b)-(d). A row matches its own
--      provider, a row with provider '*' matches any, and a call whose provider is unknown (NULL)
--      matches rows of any provider. Within one step of (2), a row of the call's own provider beats
--      a '*' row.
--   4. Of a row of yours and a built-in row that match alike (same model_pattern, provider and
--      effective_from), yours.
-- No match: no computed cost (NULL). A price is never guessed from a similar model.

CREATE TABLE agent_trace.model_prices (
    model_pattern                     text NOT NULL
                                          CHECK (model_pattern <> '' AND model_pattern = lower(model_pattern)),
    provider                          text NOT NULL
                                          CHECK (provider <> '' AND provider = lower(provider)),
    effective_from                    date NOT NULL DEFAULT '-infinity',
    input_usd_per_mtok                numeric CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok               numeric CHECK (output_usd_per_mtok >= 0),
    cache_read_usd_per_mtok           numeric CHECK (cache_read_usd_per_mtok >= 0),
    cache_write_usd_per_mtok          numeric CHECK (cache_write_usd_per_mtok >= 0),
    reasoning_usd_per_mtok            numeric CHECK (reasoning_usd_per_mtok >= 0),
    long_context_above_tokens         bigint CHECK (long_context_above_tokens > 0),
    long_context_input_usd_per_mtok   numeric CHECK (long_context_input_usd_per_mtok >= 0),
    long_context_output_usd_per_mtok  numeric CHECK (long_context_output_usd_per_mtok >= 0),
    long_context_cache_read_usd_per_mtok  numeric CHECK (long_context_cache_read_usd_per_mtok >= 0),
    long_context_cache_write_usd_per_mtok numeric CHECK (long_context_cache_write_usd_per_mtok >= 0),
    source                            text NOT NULL DEFAULT 'manual',
    source_date                       date,
    created_at                        timestamptz NOT NULL DEFAULT now()
);
-- One price per model, provider and day: one of yours and one built-in (a restore loads both; see
-- the top). Not a primary key on the names themselves: a btree refuses entries over 2,704 bytes,
-- and a model name is whatever a client or a price list says. The key is on their md5 instead (two
-- names with one md5 would have to be made on purpose); a hash index serves
-- `WHERE model_pattern = '...'`.
CREATE UNIQUE INDEX model_prices_key ON agent_trace.model_prices
    (md5(model_pattern), md5(provider), effective_from, (source = 'agent_trace built-in'));
CREATE INDEX model_prices_model_idx ON agent_trace.model_prices USING hash (model_pattern);

COMMENT ON TABLE agent_trace.model_prices IS
    'Prices of models per million tokens, in US dollars, for computing the cost of calls that report tokens but no cost. CREATE EXTENSION loads the built-in prices (source ''agent_trace built-in''); edit with plain INSERT/UPDATE/DELETE (a built-in row you change becomes yours, source ''manual''); `agent-trace prices import` adds newer prices from LiteLLM''s list as dated rows. pg_dump keeps your rows, not the built-in ones, which CREATE EXTENSION loads again on restore. Which row applies to a call: agent_trace.price_for (most specific model match, own provider first, latest effective_from not after the call, yours before a built-in one). After changing prices, run agent_trace.recompute_costs(from, to) to re-cost stored calls.';
COMMENT ON COLUMN agent_trace.model_prices.model_pattern IS 'Model name in lower case, e.g. "gpt-4o", "claude-sonnet-4-5". Holding a % it is a LIKE pattern ("ft:gpt-4o-mini%"; _ is a plain character). Matched against the name of the call without a "vendor/" prefix; exact names beat patterns, longer patterns beat shorter ones. Any length: unique per provider and effective_from (one of yours, one built-in) through md5(model_pattern), and indexed by hash, so WHERE model_pattern = ''...'' uses an index.';
COMMENT ON COLUMN agent_trace.model_prices.provider IS 'Provider the price applies to, as agent_trace.normalize_provider names it: "openai", "anthropic", "gcp.gemini" (Gemini API), "gcp.vertex_ai", "aws.bedrock", "azure.ai.openai", ...; "*" for any provider. Calls of an unknown provider match rows of any provider. Any length: part of the key through md5(provider).';
COMMENT ON COLUMN agent_trace.model_prices.effective_from IS 'First day (UTC) this price applies, up to the next row of the same model_pattern and provider. -infinity: since always (the first price known for a model).';
COMMENT ON COLUMN agent_trace.model_prices.input_usd_per_mtok IS 'Price of one million input tokens that are neither read from nor written to the prompt cache. NULL: not priced (calls with such tokens get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.output_usd_per_mtok IS 'Price of one million output tokens (reasoning tokens too, unless reasoning_usd_per_mtok is set). NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.cache_read_usd_per_mtok IS 'Price of one million input tokens read from the prompt cache. NULL: not priced (calls that read the cache get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.cache_write_usd_per_mtok IS 'Price of one million input tokens written to the prompt cache (Anthropic: the 5-minute cache write). NULL: cache writes cost the input price (OpenAI and Gemini charge nothing extra for them).';
COMMENT ON COLUMN agent_trace.model_prices.reasoning_usd_per_mtok IS 'Price of one million reasoning tokens. NULL: they cost the output price.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_above_tokens IS 'Long-context tier: a call whose input_tokens exceed this many is priced entirely at the long_context_* prices (as Google, Anthropic and OpenAI bill long prompts). NULL: one price at any length.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_input_usd_per_mtok IS 'Input price above long_context_above_tokens. NULL: not priced (such calls get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.long_context_output_usd_per_mtok IS 'Output (and reasoning) price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_read_usd_per_mtok IS 'Cache-read price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_write_usd_per_mtok IS 'Cache-write price above long_context_above_tokens. NULL: cache writes cost the long-context input price.';
COMMENT ON COLUMN agent_trace.model_prices.source IS 'Where the price comes from: "agent_trace built-in" for the rows CREATE EXTENSION loads (left out of pg_dump, loaded again on restore; only the extension writes this source: a row inserted or updated with it becomes "manual"), e.g. "litellm 1.106.2 model_prices_and_context_window_backup.json" for `agent-trace prices import`, "manual" for rows entered by hand and edited built-in rows.';
COMMENT ON COLUMN agent_trace.model_prices.source_date IS 'Date of the source (the price list''s publication date for imports and built-in rows, kept when you edit a row). NULL when unknown.';
COMMENT ON COLUMN agent_trace.model_prices.created_at IS 'When this row was stored.';

-- Only the extension writes built-in rows (see the top): a row inserted or updated with their source
-- is the user's. The extension's own inserts run with this trigger disabled (prices_snapshot.sql).
CREATE FUNCTION agent_trace._price_is_yours() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    NEW.source := 'manual';
    -- An edited built-in row whose key has a row of the user's already would be refused as a
    -- duplicate: say which, and why.
    IF TG_OP = 'UPDATE' AND OLD.source = 'agent_trace built-in' AND EXISTS (
        SELECT FROM agent_trace.model_prices AS p
         WHERE p.model_pattern = NEW.model_pattern AND p.provider = NEW.provider
           AND p.effective_from = NEW.effective_from AND p.source <> 'agent_trace built-in') THEN
        RAISE EXCEPTION 'model_prices has a row of yours for % (%) from % already', NEW.model_pattern,
                        NEW.provider, NEW.effective_from
              USING ERRCODE = 'unique_violation',
                    HINT = 'That row prices the calls, not the built-in one: change that row, or leave the built-in rows out of this UPDATE (WHERE source <> ''agent_trace built-in'').';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._price_is_yours() IS
    'Trigger of model_prices: a row inserted or updated with source ''agent_trace built-in'' (an edited built-in row) becomes the user''s, source ''manual'', so pg_dump keeps it. Internal.';
CREATE TRIGGER model_prices_yours BEFORE INSERT OR UPDATE ON agent_trace.model_prices
    FOR EACH ROW WHEN (NEW.source = 'agent_trace built-in') EXECUTE FUNCTION agent_trace._price_is_yours();

-- pg_dump skips the data of extension tables unless they are registered here. Your prices are user
-- data; the built-in rows are the extension's, which CREATE EXTENSION loads on restore.
SELECT pg_catalog.pg_extension_config_dump('agent_trace.model_prices', $$WHERE source <> 'agent_trace built-in'$$);

------------------------------------------------------------------------------------------------------
-- Matching a call to its price
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.normalize_provider(provider text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE lower(btrim(provider))
               WHEN '' THEN NULL
               -- Google: the Gemini API (AI Studio). gcp.gen_ai is "any Google GenAI endpoint" in
               -- the semantic conventions; Gemini CLI sends it for the Gemini API it uses by default.
               WHEN 'gcp.gen_ai' THEN 'gcp.gemini'
               WHEN 'gemini' THEN 'gcp.gemini'
               WHEN 'google' THEN 'gcp.gemini'
               WHEN 'google_genai' THEN 'gcp.gemini'
               WHEN 'google-genai' THEN 'gcp.gemini'
               WHEN 'google_ai_studio' THEN 'gcp.gemini'
               WHEN 'vertex_ai' THEN 'gcp.vertex_ai'
               WHEN 'vertexai' THEN 'gcp.vertex_ai'
               WHEN 'azure' THEN 'azure.ai.openai'
               WHEN 'az.ai.openai' THEN 'azure.ai.openai'
               WHEN 'bedrock' THEN 'aws.bedrock'
               WHEN 'aws' THEN 'aws.bedrock'
               WHEN 'mistral' THEN 'mistral_ai'
               WHEN 'mistralai' THEN 'mistral_ai'
               WHEN 'xai' THEN 'x_ai'
               ELSE lower(btrim(provider))
           END
$$;
COMMENT ON FUNCTION agent_trace.normalize_provider(text) IS
    'The provider name model_prices uses for a provider as clients send it: lower case, and the OpenTelemetry GenAI name (gen_ai.provider.name) for common older or vendor spellings: gcp.gen_ai, gemini, google -> gcp.gemini; vertex_ai, vertexai -> gcp.vertex_ai; azure -> azure.ai.openai; bedrock -> aws.bedrock. NULL for NULL or empty.';

CREATE FUNCTION agent_trace.price_for(model text, provider text, at timestamptz)
    RETURNS SETOF agent_trace.model_prices
    LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 1
    SET search_path = pg_catalog, pg_temp
    -- The lookup runs once per (model, provider, day) of every insert, one span at a time when
    -- AgentOS writes: planned once per session, it costs an execution only (a custom plan per call,
    -- PostgreSQL's choice here, cost more than the lookup itself).
    SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    -- The call's names and providers, worked out once: the lookup compares every price row with
    -- them (written inside the query, the regular expressions ran again for every row).
    full_name text := lower(btrim(price_for.model));
    base_name text := regexp_replace(lower(btrim(price_for.model)), '^.*/', '');
    undated_name text := regexp_replace(regexp_replace(lower(btrim(price_for.model)), '^.*/', ''),
                                        '(-[0-9]{8}|-[0-9]{4}-[0-9]{2}-[0-9]{2}|@[0-9]{8})$', '');
    prefix_provider text := CASE WHEN strpos(price_for.model, '/') > 0
                                 THEN agent_trace.normalize_provider(split_part(lower(btrim(price_for.model)), '/', 1)) END;
    full_provider text := agent_trace.normalize_provider(price_for.provider);
    base_provider text;
    call_day date := (price_for.at AT TIME ZONE 'UTC')::date;
BEGIN
    IF full_name IS NULL OR full_name = '' THEN
        RETURN;
    END IF;
    -- "vendor/model": the vendor is the provider when some price row names it.
    base_provider := coalesce(CASE WHEN EXISTS (SELECT FROM agent_trace.model_prices AS k
                                                 WHERE k.provider = prefix_provider)
                                   THEN prefix_provider END,
                              full_provider);
    RETURN QUERY
    SELECT (c.p).*
      FROM (SELECT p, m.step,
                   CASE WHEN p.provider = m.call_provider THEN 0 WHEN p.provider = '*' THEN 1 ELSE 2 END AS provider_rank
              FROM agent_trace.model_prices AS p
             CROSS JOIN LATERAL (
                   SELECT CASE
                              WHEN p.model_pattern = full_name THEN 1
                              WHEN p.model_pattern = base_name THEN 2
                              WHEN p.model_pattern = undated_name THEN 3
                              WHEN strpos(p.model_pattern, '%') > 0
                                   AND base_name LIKE replace(replace(p.model_pattern, '\', '\\'), '_', '\_') THEN 4
                          END AS step,
                          CASE WHEN p.model_pattern = full_name THEN full_provider ELSE base_provider END AS call_provider
                   ) AS m
             WHERE p.effective_from <= call_day
               AND m.step IS NOT NULL
               AND (p.provider = m.call_provider OR p.provider = '*' OR m.call_provider IS NULL)) AS c
     -- Last, of two rows that differ only in that: the user's before the built-in one.
     ORDER BY c.step, c.provider_rank, length((c.p).model_pattern) DESC, (c.p).model_pattern,
              (c.p).provider, (c.p).effective_from DESC, (c.p).source = 'agent_trace built-in'
     LIMIT 1;
END
$$;
COMMENT ON FUNCTION agent_trace.price_for(text, text, timestamptz) IS
    'The model_prices row that prices a call of this model and provider made at this time, or no row. Most specific model match first (exact name, name without "vendor/" prefix, name without date stamp, longest LIKE pattern), then the call''s own provider before "*", then the latest effective_from not after the call''s UTC date, then a row of yours before a built-in one. Example: SELECT * FROM agent_trace.price_for(''claude-sonnet-4-5-20250929'', ''anthropic'', now());';

-- The arithmetic, once, over arrays: the insert trigger and recompute_costs price a whole batch of
-- calls of one model with one call (a function with a pinned search_path cannot be inlined, and
-- calling one per span would cost more than storing the span); cost_at_price wraps it for one call.
CREATE FUNCTION agent_trace._costs_at_price(
    price agent_trace.model_prices, input_tokens bigint[], output_tokens bigint[],
    cache_read_tokens bigint[], cache_write_tokens bigint[], reasoning_tokens bigint[]) RETURNS numeric[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Per component: tokens x price per million; 0 tokens cost 0 even when unpriced, and tokens at
    -- an unpriced component make the whole cost unknown (NULL). PL/pgSQL keeps the plan for the
    -- session.
    RETURN (SELECT array_agg(
               CASE WHEN price IS NULL OR (c.input IS NULL AND c.output IS NULL) THEN NULL ELSE
               trim_scale(
                   (CASE WHEN t.uncached = 0 THEN 0 ELSE t.uncached * r.input END
                  + CASE WHEN t.cache_read = 0 THEN 0 ELSE t.cache_read * r.cache_read END
                  + CASE WHEN t.cache_write = 0 THEN 0 ELSE t.cache_write * r.cache_write END
                  + CASE WHEN t.answer = 0 THEN 0 ELSE t.answer * r.output END
                  + CASE WHEN t.reasoning = 0 THEN 0 ELSE t.reasoning * r.reasoning END) * 0.000001)
               END
               ORDER BY c.n)
      FROM unnest(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
           WITH ORDINALITY AS c(input, output, cache_read, cache_write, reasoning, n)
     CROSS JOIN LATERAL (
           -- In numeric: the differences of two bigints need not fit a bigint.
           SELECT greatest(coalesce(c.input, 0)::numeric - coalesce(c.cache_read, 0) - coalesce(c.cache_write, 0), 0) AS uncached,
                  coalesce(c.cache_read, 0) AS cache_read,
                  coalesce(c.cache_write, 0) AS cache_write,
                  greatest(coalesce(c.output, 0)::numeric - coalesce(c.reasoning, 0), 0) AS answer,
                  coalesce(c.reasoning, 0) AS reasoning,
                  (price).long_context_above_tokens IS NOT NULL
                      AND coalesce(c.input, 0) > (price).long_context_above_tokens AS long_context
           ) AS t
     CROSS JOIN LATERAL (
           SELECT CASE WHEN t.long_context THEN (price).long_context_input_usd_per_mtok ELSE (price).input_usd_per_mtok END AS input,
                  CASE WHEN t.long_context THEN (price).long_context_output_usd_per_mtok ELSE (price).output_usd_per_mtok END AS output,
                  CASE WHEN t.long_context THEN (price).long_context_cache_read_usd_per_mtok ELSE (price).cache_read_usd_per_mtok END AS cache_read,
                  CASE WHEN t.long_context
                       THEN coalesce((price).long_context_cache_write_usd_per_mtok, (price).long_context_input_usd_per_mtok)
                       ELSE coalesce((price).cache_write_usd_per_mtok, (price).input_usd_per_mtok) END AS cache_write,
                  CASE WHEN t.long_context
                       THEN (price).long_context_output_usd_per_mtok
                       ELSE coalesce((price).reasoning_usd_per_mtok, (price).output_usd_per_mtok) END AS reasoning
           ) AS r);
END
$$;
COMMENT ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) IS
    'agent_trace.cost_at_price of many calls at one price: the i-th cost from the i-th element of each token array (arrays of equal length). Internal: the insert trigger and recompute_costs price a batch with one call.';

CREATE FUNCTION agent_trace.cost_at_price(
    price agent_trace.model_prices, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (agent_trace._costs_at_price(price, ARRAY[input_tokens], ARRAY[output_tokens],
                ARRAY[cache_read_tokens], ARRAY[cache_write_tokens], ARRAY[reasoning_tokens]))[1]
$$;
COMMENT ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call at this price row, from token counts with the meaning of the agent_spans columns: input_tokens includes cache_read_tokens and cache_write_tokens, output_tokens includes reasoning_tokens. Charges (input - cache_read - cache_write) at the input price, cache reads at the cache-read price, cache writes at the cache-write price (else the input price), (output - reasoning) at the output price and reasoning at the reasoning price (else the output price); above long_context_above_tokens input tokens, the long-context prices. A missing count is 0. NULL when price is NULL, when both input_tokens and output_tokens are NULL, or when tokens fall on an unpriced (NULL) price.';

CREATE FUNCTION agent_trace.compute_cost(
    model text, provider text, at timestamptz, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT agent_trace.cost_at_price(p, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
      FROM agent_trace.price_for(model, provider, at) AS p
$$;
COMMENT ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call of this model and provider at this time with these token counts (agent_spans meaning: input_tokens includes cache reads and writes, output_tokens includes reasoning): agent_trace.cost_at_price of the row agent_trace.price_for picks. NULL when no price applies, the tokens are missing, or tokens fall on an unpriced component. Example: SELECT agent_trace.compute_cost(''gpt-4o'', ''openai'', now(), 1200, 300, 1000, NULL, NULL);';

------------------------------------------------------------------------------------------------------
-- Computed cost of spans
------------------------------------------------------------------------------------------------------
-- agent_spans is written by binary COPY and never updated; a BEFORE ROW trigger would turn COPY's
-- batched inserts into row-at-a-time ones. So the computed cost is not a column of agent_spans: the
-- statement trigger that folds new spans into agent_traces (rollup.sql) also prices them, one lookup
-- per (model, provider, day) of the batch, inserts one narrow row here per span it could price, and
-- adds their sum to agent_traces.computed_cost_usd in the same upsert. Join it to agent_spans on
-- (trace_id, span_id, start_time, project_id). Partitioned by day of start_time like agent_spans, so
-- retention drops a day of both at once. No foreign key (partitioned tables cannot reference each
-- other's partitions cheaply): the triggers that follow agent_spans' deletes and updates remove the
-- rows of spans that are gone (rollup.sql).

CREATE TABLE agent_trace.agent_span_costs (
    trace_id              agent_trace.trace_id NOT NULL,
    span_id               agent_trace.span_id NOT NULL,
    start_time            timestamptz NOT NULL,
    computed_cost_usd     numeric NOT NULL,
    price_model_pattern   text NOT NULL,
    price_provider        text NOT NULL,
    price_effective_from  date NOT NULL,
    computed_at           timestamptz NOT NULL DEFAULT now(),
    project_id            integer NOT NULL,
    CONSTRAINT agent_span_costs_pkey PRIMARY KEY (trace_id, span_id, start_time, project_id)
) PARTITION BY RANGE (start_time);
CREATE INDEX agent_span_costs_start_time_brin ON agent_trace.agent_span_costs USING brin (start_time);

COMMENT ON TABLE agent_trace.agent_span_costs IS
    'Computed cost of each LLM or embedding span that reported tokens and a model but no cost_usd, and that a model_prices row prices: one row per such span, keyed like agent_spans (join on trace_id, span_id, start_time, project_id). Written by the database as spans are inserted, and removed with them; agent_trace.recompute_costs rewrites it after prices change. Spans without a row here have a provided cost_usd or could not be priced.';
COMMENT ON COLUMN agent_trace.agent_span_costs.trace_id IS 'trace_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.project_id IS 'project_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.span_id IS 'span_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.start_time IS 'start_time of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_cost_usd IS 'Cost of the span in US dollars computed from its tokens and the price row named by the price_* columns (agent_trace.cost_at_price).';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_model_pattern IS 'model_pattern of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_provider IS 'provider of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_effective_from IS 'effective_from of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_at IS 'When this cost was computed (at insert, or by the last recompute_costs that changed it).';

------------------------------------------------------------------------------------------------------
-- Computed cost of log records
------------------------------------------------------------------------------------------------------
-- Log records are few (one per model call at most), so a BEFORE INSERT row trigger sets
-- agent_logs.computed_cost_usd directly, only on records that report tokens and a model but no cost.
-- agent_logs has no provider column: the record's gen_ai.provider.name (else gen_ai.system) attribute
-- is used, and without one any provider's price of the model matches.

CREATE FUNCTION agent_trace._log_provider(attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(attributes ->> 'gen_ai.provider.name', attributes ->> 'gen_ai.system')
$$;
COMMENT ON FUNCTION agent_trace._log_provider(jsonb) IS
    'Provider of a log record for pricing: its gen_ai.provider.name, else gen_ai.system attribute. Internal.';

-- SECURITY DEFINER, like the span trigger (rollup.sql): it reads model_prices with the owner's
-- rights, so the writer needs no SELECT on it; only this table's trigger may run it.
CREATE FUNCTION agent_trace._cost_inserted_log() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- TG_RELID is the partition the row goes to: its root must be agent_logs (on Citus, a shard of
    -- it, agent_logs_<shard id>, in the same schema).
    IF NOT EXISTS (SELECT FROM pg_class AS c
                    WHERE c.oid = pg_partition_root(TG_RELID)
                      AND c.relnamespace = 'agent_trace'::regnamespace
                      AND c.relname ~ '^agent_logs(_[0-9]+)?$')
       OR TG_WHEN <> 'BEFORE' OR TG_LEVEL <> 'ROW'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._cost_inserted_log runs only as the BEFORE INSERT row trigger of agent_trace.agent_logs'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.computed_cost_usd := agent_trace.compute_cost(
        NEW.model, agent_trace._log_provider(NEW.attributes), NEW.time, NEW.input_tokens,
        NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._cost_inserted_log() IS
    'Trigger function: sets computed_cost_usd of a log record that reports tokens but no cost_usd, reading model_prices with the rights of the extension''s owner (SECURITY DEFINER). Internal.';

CREATE TRIGGER agent_logs_compute_cost
    BEFORE INSERT ON agent_trace.agent_logs
    FOR EACH ROW
    WHEN (NEW.cost_usd IS NULL AND NEW.model IS NOT NULL
          AND (NEW.input_tokens IS NOT NULL OR NEW.output_tokens IS NOT NULL))
    EXECUTE FUNCTION agent_trace._cost_inserted_log();

------------------------------------------------------------------------------------------------------
-- Re-costing after a price change
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.recompute_costs(
    from_time timestamptz, to_time timestamptz,
    OUT span_costs_added bigint, OUT span_costs_changed bigint, OUT span_costs_removed bigint,
    OUT traces_updated bigint, OUT log_costs_changed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    affected_traces agent_trace.trace_id[];
    affected_projects integer[];
BEGIN
    -- 1. Spans that started in [from_time, to_time): what their computed cost is now, against what
    --    agent_span_costs holds; write only the differences.
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_spans AS s
         WHERE s.start_time >= from_time AND s.start_time < to_time
           AND s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
               p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, project_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
    ), stored AS (
        SELECT c.* FROM agent_trace.agent_span_costs AS c
         WHERE c.start_time >= from_time AND c.start_time < to_time
    ), changes AS MATERIALIZED (
        SELECT coalesce(w.trace_id, s.trace_id) AS trace_id, coalesce(w.project_id, s.project_id) AS project_id,
               coalesce(w.span_id, s.span_id) AS span_id,
               coalesce(w.start_time, s.start_time) AS start_time, w.cost, w.model_pattern, w.provider,
               w.effective_from, s.trace_id IS NULL AS added
          FROM wanted AS w
          FULL JOIN stored AS s
            ON s.trace_id = w.trace_id AND s.span_id = w.span_id AND s.start_time = w.start_time
           AND s.project_id = w.project_id
         WHERE (w.cost, w.model_pattern, w.provider, w.effective_from)
               IS DISTINCT FROM (s.computed_cost_usd, s.price_model_pattern, s.price_provider, s.price_effective_from)
    ), written AS (
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
               computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
        SELECT ch.trace_id, ch.project_id, ch.span_id, ch.start_time, ch.cost, ch.model_pattern, ch.provider,
               ch.effective_from
          FROM changes AS ch
         WHERE ch.cost IS NOT NULL
         ORDER BY ch.trace_id, ch.span_id, ch.start_time, ch.project_id
            ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = excluded.computed_at  -- (its default, now(): Citus takes no function here)
    ), removed AS (
        DELETE FROM agent_trace.agent_span_costs AS c
         USING changes AS ch
         WHERE ch.cost IS NULL
           AND c.trace_id = ch.trace_id AND c.span_id = ch.span_id AND c.start_time = ch.start_time
           AND c.project_id = ch.project_id
    ), affected AS (
        SELECT DISTINCT ch.trace_id, ch.project_id FROM changes AS ch
    )
    SELECT count(*) FILTER (WHERE ch.cost IS NOT NULL AND ch.added),
           count(*) FILTER (WHERE ch.cost IS NOT NULL AND NOT ch.added),
           count(*) FILTER (WHERE ch.cost IS NULL),
           (SELECT array_agg(a.trace_id ORDER BY a.trace_id, a.project_id) FROM affected AS a),
           (SELECT array_agg(a.project_id ORDER BY a.trace_id, a.project_id) FROM affected AS a)
      INTO span_costs_added, span_costs_changed, span_costs_removed, affected_traces, affected_projects
      FROM changes AS ch;

    -- 2. Their traces' totals, from agent_span_costs. Lock the trace rows first (in trace_id order, as
    --    the insert trigger does): a concurrent insert that already added to a total has then
    --    committed and its cost rows are seen by the sum below (a new statement, a new snapshot); one
    --    that has not reached the trace row yet adds its own spans on top afterwards.
    --    On Citus (no insert trigger to race, and no row lock across shards) the traces are
    --    recomputed whole, each on its node.
    IF agent_trace.distributed() THEN
        traces_updated := agent_trace._refresh_traces(affected_traces, affected_projects);
    ELSE
        PERFORM FROM agent_trace.agent_traces AS t
          JOIN unnest(affected_traces, affected_projects) AS a(trace_id, project_id)
            ON t.trace_id = a.trace_id AND t.project_id = a.project_id
          ORDER BY t.trace_id, t.project_id
            FOR UPDATE OF t;
        UPDATE agent_trace.agent_traces AS t
           SET computed_cost_usd = x.total
          FROM (SELECT a.trace_id, a.project_id,
                       (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c
                         WHERE c.trace_id = a.trace_id AND c.project_id = a.project_id) AS total
                  FROM unnest(affected_traces, affected_projects) AS a(trace_id, project_id)) AS x
         WHERE t.trace_id = x.trace_id AND t.project_id = x.project_id
           AND t.computed_cost_usd IS DISTINCT FROM x.total;
        GET DIAGNOSTICS traces_updated = ROW_COUNT;
    END IF;

    -- 3. Log records of [from_time, to_time) (few: one per model call).
    WITH batches AS (
        SELECT l.model, agent_trace._log_provider(l.attributes) AS provider,
               (l.time AT TIME ZONE 'UTC')::date AS day, array_agg(l.record_key) AS record_keys,
               array_agg(l.time) AS times, array_agg(l.input_tokens) AS input_tokens,
               array_agg(l.output_tokens) AS output_tokens, array_agg(l.cache_read_tokens) AS cache_read_tokens,
               array_agg(l.cache_write_tokens) AS cache_write_tokens, array_agg(l.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_logs AS l
         WHERE l.time >= from_time AND l.time < to_time
           AND l.cost_usd IS NULL AND l.model IS NOT NULL
           AND (l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.record_key, u.time, u.cost
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.record_keys, b.times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(record_key, time, cost)
    ), target AS (
        -- Records that get a cost now, and records that had one (it may go).
        SELECT l.record_key, l.time, l.computed_cost_usd AS stored_cost, w.cost
          FROM agent_trace.agent_logs AS l
          LEFT JOIN wanted AS w ON w.record_key = l.record_key AND w.time = l.time
         WHERE l.time >= from_time AND l.time < to_time
           AND (w.cost IS NOT NULL OR l.computed_cost_usd IS NOT NULL)
    )
    UPDATE agent_trace.agent_logs AS l
       SET computed_cost_usd = t.cost
      FROM target AS t
     WHERE l.record_key = t.record_key AND l.time = t.time AND t.cost IS DISTINCT FROM t.stored_cost;
    GET DIAGNOSTICS log_costs_changed = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) IS
    'Re-computes the computed cost of the spans and log records whose start_time / time lies in [from_time, to_time) against model_prices as they are now, after you changed, added or deleted prices: adds, changes or removes agent_span_costs rows, updates the computed_cost_usd of their traces and of agent_logs rows. Changes only what differs, so a second run changes nothing. Returns how many span costs were added, changed and removed, traces updated and log costs changed. Example: SELECT * FROM agent_trace.recompute_costs(''2026-01-01'', now());';

-- `agent-trace serve` warns at start when there is no price at all (every computed cost would stay
-- empty); it writes as a role that may not read this table, hence the owner's rights for this one
-- answer.
CREATE FUNCTION agent_trace.has_prices() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT FROM agent_trace.model_prices)
$$;
COMMENT ON FUNCTION agent_trace.has_prices() IS
    'true when agent_trace.model_prices holds a price (false: no call gets a computed cost). Runs with the owner''s rights, so the writer role, which cannot read model_prices, can ask: `agent-trace serve` does at start.';

------------------------------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------------------------------
-- Prices and computed costs are numbers: both reader roles read them and may compute costs. The
-- writer gets only has_prices: the insert triggers price spans and log records with the owner's
-- rights.
-- Changing prices and recompute_costs stay with the owner (grant them to an admin role if needed).
GRANT SELECT ON agent_trace.model_prices, agent_trace.agent_span_costs
    TO agent_trace_reader, agent_trace_usage_reader;

REVOKE ALL ON FUNCTION agent_trace.normalize_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.price_for(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._log_provider(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._cost_inserted_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._price_is_yours() FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.has_prices() FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    agent_trace.normalize_provider(text),
    agent_trace.price_for(text, text, timestamptz),
    agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]),
    agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint),
    agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint)
    TO agent_trace_reader, agent_trace_usage_reader;
GRANT EXECUTE ON FUNCTION agent_trace.has_prices()
    TO agent_trace_writer, agent_trace_reader, agent_trace_usage_reader;
