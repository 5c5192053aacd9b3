-- agent-trace prices import: add a price list to agent_trace.model_prices (ingest/src/prices.rs).
--
-- $1 model_pattern text[]   $2 provider text[]   $3..$7 input, output, cache read, cache write and
-- reasoning USD per million tokens numeric[]   $8 long_context_above_tokens bigint[]   $9..$12
-- long-context input, output, cache read and cache write numeric[]   $13 source text   $14 the
-- list's date (text, YYYY-MM-DD).
--
-- History is never rewritten: this only inserts, so no row is ever changed, a row you edited neither.
-- Per (model_pattern, provider), a row is added only when
--   * no row of it comes from a source dated $14 or later, nor takes effect on $14 or later (so a
--     re-import changes nothing, an older list changes nothing, and prices you edited in rows of
--     this list are kept; the built-in rows are dated the snapshot's date, so importing the
--     snapshot they come from adds nothing), and
--   * its prices differ from the row in effect on $14 (of a row of yours and a built-in row of one
--     effective_from, yours, as agent_trace.price_for has it).
-- The added row takes effect on $14; the first row of a model takes effect since always
-- ('-infinity'), because a price list does not say when a price began.
-- Returns the effective_from of each row added.
WITH incoming AS (
    SELECT i.model_pattern, agent_trace.normalize_provider(i.provider) AS provider, i.input, i.output,
           i.cache_read, i.cache_write, i.reasoning, i.long_context_above, i.long_context_input,
           i.long_context_output, i.long_context_cache_read, i.long_context_cache_write
      FROM unnest($1::text[], $2::text[], $3::numeric[], $4::numeric[], $5::numeric[], $6::numeric[],
                  $7::numeric[], $8::bigint[], $9::numeric[], $10::numeric[], $11::numeric[],
                  $12::numeric[])
           AS i(model_pattern, provider, input, output, cache_read, cache_write, reasoning,
                long_context_above, long_context_input, long_context_output, long_context_cache_read,
                long_context_cache_write)
)
INSERT INTO agent_trace.model_prices AS p (model_pattern, provider, effective_from, input_usd_per_mtok,
    output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, reasoning_usd_per_mtok,
    long_context_above_tokens, long_context_input_usd_per_mtok, long_context_output_usd_per_mtok,
    long_context_cache_read_usd_per_mtok, long_context_cache_write_usd_per_mtok, source, source_date)
SELECT i.model_pattern, i.provider,
       CASE WHEN latest.model_pattern IS NULL THEN date '-infinity' ELSE $14::text::date END,
       i.input, i.output, i.cache_read, i.cache_write, i.reasoning, i.long_context_above,
       i.long_context_input, i.long_context_output, i.long_context_cache_read, i.long_context_cache_write,
       $13::text, $14::text::date
  FROM incoming AS i
  LEFT JOIN LATERAL (
        SELECT l.* FROM agent_trace.model_prices AS l
         WHERE l.model_pattern = i.model_pattern AND l.provider = i.provider
         ORDER BY l.effective_from DESC, l.source = 'agent_trace built-in'
         LIMIT 1) AS latest ON true
 WHERE NOT EXISTS (
        SELECT FROM agent_trace.model_prices AS k
         WHERE k.model_pattern = i.model_pattern AND k.provider = i.provider
           AND (k.source_date >= $14::text::date OR k.effective_from >= $14::text::date))
   AND (latest.model_pattern IS NULL
        OR (latest.input_usd_per_mtok, latest.output_usd_per_mtok, latest.cache_read_usd_per_mtok,
            latest.cache_write_usd_per_mtok, latest.reasoning_usd_per_mtok, latest.long_context_above_tokens,
            latest.long_context_input_usd_per_mtok, latest.long_context_output_usd_per_mtok,
            latest.long_context_cache_read_usd_per_mtok, latest.long_context_cache_write_usd_per_mtok)
           IS DISTINCT FROM
           (i.input, i.output, i.cache_read, i.cache_write, i.reasoning, i.long_context_above,
            i.long_context_input, i.long_context_output, i.long_context_cache_read, i.long_context_cache_write))
 ORDER BY i.model_pattern, i.provider
RETURNING p.effective_from::text
