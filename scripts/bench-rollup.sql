-- The rival ways of keeping agent_trace.agent_traces up to date that scripts/bench-rollup.sh
-- measures against the extension's own fold (rollup.sql), in schema rollup_bench of the bench's
-- scratch database. Each is written as it would ship: SECURITY DEFINER with a pinned search_path,
-- like the fold, so each pays what a real one would. rollup_bench.use_variant(v) puts one in place.
--
--   fold                 the extension's AFTER INSERT statement trigger agent_spans_fold_into_traces
--   recompute_trigger    an AFTER INSERT statement trigger that recomputes every trace the statement
--                        touched from all its stored spans (agent_trace._refresh_traces)
--   recompute_by_ingest  no trigger: the client calls _refresh_traces itself after its INSERT ...
--                        RETURNING, in the same transaction (what an ingest would do on Citus, which
--                        has no transition tables); the pgbench script does it, not this file
--   row_trigger          an AFTER INSERT row trigger: one upsert of the span's delta per span, and
--                        its price
--   deferred             an AFTER INSERT statement trigger that only queues the touched traces;
--                        rollup_bench.drain_prepare() and the procedure rollup_bench.drain recompute
--                        them later
--   none                 no rollup at all
--
-- _refresh_traces looks for a trace's spans only between its stored row's start_time and end_time
-- (that row held every span the trace had, for the deletes and updates it was written for), widened
-- by its spans_from/spans_to arguments. Spans appended to a trace that already has a row start after
-- its end_time, so every caller here passes the new spans' earliest and latest start_time: without
-- them the appended spans are not seen, and the trace's row stays as it was.

CREATE SCHEMA rollup_bench;

-- The price the fold and the row trigger find for every LLM span (no span has a cost_usd of its own).
INSERT INTO agent_trace.model_prices (model_pattern, provider, input_usd_per_mtok, output_usd_per_mtok)
VALUES ('gpt-4o', 'openai', 2.5, 10);

------------------------------------------------------------------------------------------------------
-- recompute_trigger
------------------------------------------------------------------------------------------------------
CREATE FUNCTION rollup_bench.recompute_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM agent_trace._refresh_traces(array_agg(k.trace_id), array_agg(k.project_id),
                                        array_agg(k.spans_from), array_agg(k.spans_to))
       FROM (SELECT n.trace_id, n.project_id, min(n.start_time) AS spans_from, max(n.start_time) AS spans_to
               FROM new_spans AS n
              GROUP BY n.trace_id, n.project_id) AS k;
    RETURN NULL;
END
$$;

------------------------------------------------------------------------------------------------------
-- row_trigger: the fold, one span at a time. The same columns, the same order-free rules (sums,
-- counts, least/greatest, the earliest root wins), the same pricing (price_for and cost_at_price,
-- which is what agent_trace.compute_cost is made of; called apart, so that the price row's names
-- can go into agent_span_costs as the fold writes them).
------------------------------------------------------------------------------------------------------
CREATE FUNCTION rollup_bench.fold_inserted_span() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    price agent_trace.model_prices;
    cost numeric;
    usage boolean := NEW.span_type IN ('llm', 'embedding');
    is_root boolean := NEW.parent_span_id IS NULL;
BEGIN
    IF usage AND NEW.cost_usd IS NULL AND NEW.model IS NOT NULL
       AND (NEW.input_tokens IS NOT NULL OR NEW.output_tokens IS NOT NULL) THEN
        SELECT p.* INTO price FROM agent_trace.price_for(NEW.model, NEW.provider, NEW.start_time) AS p;
        IF FOUND THEN
            cost := agent_trace.cost_at_price(price, NEW.input_tokens, NEW.output_tokens, NEW.cache_read_tokens,
                                              NEW.cache_write_tokens, NEW.reasoning_tokens);
        END IF;
        IF cost IS NOT NULL THEN
            INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
                   computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
            VALUES (NEW.trace_id, NEW.project_id, NEW.span_id, NEW.start_time, cost, price.model_pattern,
                    price.provider, price.effective_from)
                ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
                   computed_cost_usd = excluded.computed_cost_usd,
                   price_model_pattern = excluded.price_model_pattern,
                   price_provider = excluded.price_provider,
                   price_effective_from = excluded.price_effective_from,
                   computed_at = now();
        END IF;
    END IF;
    INSERT INTO agent_trace.agent_traces AS t (
        trace_id, project_id, name, start_time, end_time, span_count, error_count, llm_call_count, tool_call_count,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        service_name, session_id, user_id, agent_name, agent_id, run_id, team_id, workflow_id,
        correlation_id, input, output, root_span_id, root_start_time, computed_cost_usd)
    VALUES (NEW.trace_id, NEW.project_id, CASE WHEN is_root THEN NEW.name END, NEW.start_time, NEW.end_time, 1,
            (NEW.status_code = 'ERROR')::int, (NEW.span_type = 'llm')::int, (NEW.span_type = 'tool')::int,
            CASE WHEN usage THEN NEW.input_tokens END, CASE WHEN usage THEN NEW.output_tokens END,
            CASE WHEN usage THEN NEW.cache_read_tokens END, CASE WHEN usage THEN NEW.cache_write_tokens END,
            CASE WHEN usage THEN NEW.reasoning_tokens END, CASE WHEN usage THEN NEW.cost_usd END,
            NEW.service_name, NEW.session_id, NEW.user_id, NEW.agent_name, NEW.agent_id, NEW.run_id,
            NEW.team_id, NEW.workflow_id, NEW.correlation_id,
            CASE WHEN is_root THEN left(NEW.input, 500) END, CASE WHEN is_root THEN left(NEW.output, 500) END,
            CASE WHEN is_root THEN NEW.span_id END, CASE WHEN is_root THEN NEW.start_time END, cost)
        ON CONFLICT (trace_id, project_id) DO UPDATE SET
           start_time = least(t.start_time, excluded.start_time),
           end_time = greatest(t.end_time, excluded.end_time),
           span_count = t.span_count + 1,
           error_count = t.error_count + excluded.error_count,
           llm_call_count = t.llm_call_count + excluded.llm_call_count,
           tool_call_count = t.tool_call_count + excluded.tool_call_count,
           input_tokens = coalesce(agent_trace._saturate_bigint(t.input_tokens::numeric + excluded.input_tokens), t.input_tokens, excluded.input_tokens),
           output_tokens = coalesce(agent_trace._saturate_bigint(t.output_tokens::numeric + excluded.output_tokens), t.output_tokens, excluded.output_tokens),
           cache_read_tokens = coalesce(agent_trace._saturate_bigint(t.cache_read_tokens::numeric + excluded.cache_read_tokens), t.cache_read_tokens, excluded.cache_read_tokens),
           cache_write_tokens = coalesce(agent_trace._saturate_bigint(t.cache_write_tokens::numeric + excluded.cache_write_tokens), t.cache_write_tokens, excluded.cache_write_tokens),
           reasoning_tokens = coalesce(agent_trace._saturate_bigint(t.reasoning_tokens::numeric + excluded.reasoning_tokens), t.reasoning_tokens, excluded.reasoning_tokens),
           cost_usd = coalesce(t.cost_usd + excluded.cost_usd, t.cost_usd, excluded.cost_usd),
           computed_cost_usd = coalesce(t.computed_cost_usd + excluded.computed_cost_usd, t.computed_cost_usd, excluded.computed_cost_usd),
           session_id = least(t.session_id, excluded.session_id),
           user_id = least(t.user_id, excluded.user_id),
           agent_name = least(t.agent_name, excluded.agent_name),
           agent_id = least(t.agent_id, excluded.agent_id),
           run_id = least(t.run_id, excluded.run_id),
           team_id = least(t.team_id, excluded.team_id),
           workflow_id = least(t.workflow_id, excluded.workflow_id),
           correlation_id = least(t.correlation_id, excluded.correlation_id),
           service_name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.service_name
               WHEN t.root_span_id IS NULL THEN least(t.service_name, excluded.service_name)
               ELSE t.service_name END,
           name = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.name ELSE t.name END,
           input = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.input ELSE t.input END,
           output = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.output ELSE t.output END,
           root_span_id = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_span_id ELSE t.root_span_id END,
           root_start_time = CASE
               WHEN (excluded.root_start_time, excluded.root_span_id) < (coalesce(t.root_start_time, 'infinity'), t.root_span_id)
                   THEN excluded.root_start_time ELSE t.root_start_time END,
           updated_at = now();
    RETURN NULL;
END
$$;

------------------------------------------------------------------------------------------------------
-- deferred: a queue of touched traces (no index: appending is all the insert pays), drained later
-- in chunks (10,000 traces, as agent_trace.refresh_traces takes them), one transaction per chunk, by
-- as many sessions as the bench starts.
------------------------------------------------------------------------------------------------------
CREATE TABLE rollup_bench.queue (
    trace_id    agent_trace.trace_id NOT NULL,
    project_id  integer NOT NULL,
    spans_from  timestamptz NOT NULL,
    spans_to    timestamptz NOT NULL
);

CREATE FUNCTION rollup_bench.queue_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO rollup_bench.queue (trace_id, project_id, spans_from, spans_to)
    SELECT n.trace_id, n.project_id, min(n.start_time), max(n.start_time)
      FROM new_spans AS n
     GROUP BY n.trace_id, n.project_id;
    RETURN NULL;
END
$$;

-- The queue's distinct traces, numbered into chunks of chunk_size in key order; empties the queue.
-- Returns how many traces there are to recompute.
CREATE TABLE rollup_bench.drain_keys (
    chunk       integer NOT NULL,
    trace_id    agent_trace.trace_id NOT NULL,
    project_id  integer NOT NULL,
    spans_from  timestamptz NOT NULL,
    spans_to    timestamptz NOT NULL
);

CREATE FUNCTION rollup_bench.drain_prepare(chunk_size integer) RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    traces bigint;
BEGIN
    TRUNCATE rollup_bench.drain_keys;
    INSERT INTO rollup_bench.drain_keys (chunk, trace_id, project_id, spans_from, spans_to)
    SELECT (row_number() OVER (ORDER BY q.trace_id, q.project_id) - 1) / chunk_size, q.trace_id, q.project_id,
           q.spans_from, q.spans_to
      FROM (SELECT q.trace_id, q.project_id, min(q.spans_from) AS spans_from, max(q.spans_to) AS spans_to
              FROM rollup_bench.queue AS q
             GROUP BY q.trace_id, q.project_id) AS q;
    GET DIAGNOSTICS traces = ROW_COUNT;
    TRUNCATE rollup_bench.queue;
    RETURN traces;
END
$$;

-- Worker `worker` of `workers` recomputes chunks worker, worker + workers, ... The bench runs it with
-- plan_cache_mode = force_custom_plan: after five calls in a session PL/pgSQL plans _refresh_traces'
-- statements generically, for arrays of 10 keys, and with 10,000 the nested loops it then picks
-- rescan a CTE once per trace (scripts/bench-rollup.sh, BENCH_DRAIN_PLAN_CACHE_MODE).
CREATE PROCEDURE rollup_bench.drain(worker integer, workers integer)
    LANGUAGE plpgsql
AS $$
DECLARE
    keys record;
BEGIN
    FOR keys IN
        SELECT array_agg(k.trace_id ORDER BY k.trace_id, k.project_id) AS trace_ids,
               array_agg(k.project_id ORDER BY k.trace_id, k.project_id) AS project_ids,
               array_agg(k.spans_from ORDER BY k.trace_id, k.project_id) AS spans_from,
               array_agg(k.spans_to ORDER BY k.trace_id, k.project_id) AS spans_to
          FROM rollup_bench.drain_keys AS k
         WHERE k.chunk % workers = worker
         GROUP BY k.chunk
         ORDER BY k.chunk
    LOOP
        PERFORM agent_trace._refresh_traces(keys.trace_ids, keys.project_ids, keys.spans_from, keys.spans_to);
        COMMIT;
    END LOOP;
END
$$;

------------------------------------------------------------------------------------------------------
-- Switching variants, and checking the result
------------------------------------------------------------------------------------------------------

-- Puts variant v's insert trigger on agent_spans (and takes the others off), and empties the tables.
CREATE FUNCTION rollup_bench.use_variant(v text) RETURNS void
    LANGUAGE plpgsql
    SET client_min_messages = warning
AS $$
BEGIN
    IF v NOT IN ('fold', 'recompute_trigger', 'recompute_by_ingest', 'row_trigger', 'deferred', 'none') THEN
        RAISE EXCEPTION 'unknown variant %', v;
    END IF;
    DROP TRIGGER IF EXISTS agent_spans_fold_into_traces ON agent_trace.agent_spans;
    DROP TRIGGER IF EXISTS bench_recompute ON agent_trace.agent_spans;
    DROP TRIGGER IF EXISTS bench_row_fold ON agent_trace.agent_spans;
    DROP TRIGGER IF EXISTS bench_queue ON agent_trace.agent_spans;
    CASE v
        WHEN 'fold' THEN
            -- As rollup.sql creates it.
            CREATE TRIGGER agent_spans_fold_into_traces AFTER INSERT ON agent_trace.agent_spans
                REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT
                EXECUTE FUNCTION agent_trace._fold_inserted_spans();
        WHEN 'recompute_trigger' THEN
            CREATE TRIGGER bench_recompute AFTER INSERT ON agent_trace.agent_spans
                REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT
                EXECUTE FUNCTION rollup_bench.recompute_inserted_spans();
        WHEN 'row_trigger' THEN
            CREATE TRIGGER bench_row_fold AFTER INSERT ON agent_trace.agent_spans
                FOR EACH ROW EXECUTE FUNCTION rollup_bench.fold_inserted_span();
        WHEN 'deferred' THEN
            CREATE TRIGGER bench_queue AFTER INSERT ON agent_trace.agent_spans
                REFERENCING NEW TABLE AS new_spans FOR EACH STATEMENT
                EXECUTE FUNCTION rollup_bench.queue_inserted_spans();
        ELSE
            NULL;  -- recompute_by_ingest, none: no trigger
    END CASE;
    -- agent_spans' TRUNCATE trigger empties agent_traces and agent_span_costs (rollup.sql).
    TRUNCATE agent_trace.agent_spans;
    TRUNCATE agent_trace.agent_traces, agent_trace.agent_span_costs, rollup_bench.queue, rollup_bench.drain_keys;
    -- TRUNCATE keeps the tables' column statistics, and the planner would read the last run's (20
    -- distinct trace ids after a run of long traces) into this one's: forget them, as a new table
    -- has none until autovacuum analyzes it.
    DELETE FROM pg_catalog.pg_statistic AS s
     USING pg_catalog.pg_class AS c
     WHERE s.starelid = c.oid
       AND (c.oid IN ('agent_trace.agent_spans'::regclass, 'agent_trace.agent_traces'::regclass,
                      'agent_trace.agent_span_costs'::regclass, 'rollup_bench.queue'::regclass,
                      'rollup_bench.drain_keys'::regclass)
            OR c.oid IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i
                          WHERE i.inhparent IN ('agent_trace.agent_spans'::regclass,
                                                'agent_trace.agent_span_costs'::regclass)));
END
$$;

-- Raises an error naming the first differences when agent_traces is not exactly an aggregation of
-- agent_spans (and agent_span_costs not one price per LLM span); else returns the number of traces.
CREATE FUNCTION rollup_bench.check_exact() RETURNS bigint
    LANGUAGE plpgsql
AS $$
DECLARE
    traces bigint;
    wrong bigint;
    examples text;
    unpriced bigint;
BEGIN
    CREATE TEMPORARY TABLE expected AS
    SELECT s.trace_id, s.project_id, count(*)::integer AS span_count,
           count(*) FILTER (WHERE s.status_code = 'ERROR')::integer AS error_count,
           count(*) FILTER (WHERE s.span_type = 'llm')::integer AS llm_call_count,
           count(*) FILTER (WHERE s.span_type = 'tool')::integer AS tool_call_count,
           sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))::bigint AS input_tokens,
           sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))::bigint AS output_tokens,
           min(s.start_time) AS start_time, max(s.end_time) AS end_time,
           min(s.session_id) AS session_id, min(s.user_id) AS user_id, c.computed_cost_usd,
           (array_agg(s.span_id ORDER BY s.start_time, s.span_id) FILTER (WHERE s.parent_span_id IS NULL))[1] AS root_span_id
      FROM agent_trace.agent_spans AS s
      LEFT JOIN (SELECT c.trace_id, c.project_id, sum(c.computed_cost_usd) AS computed_cost_usd
                   FROM agent_trace.agent_span_costs AS c
                  GROUP BY c.trace_id, c.project_id) AS c
        ON c.trace_id = s.trace_id AND c.project_id = s.project_id
     GROUP BY s.trace_id, s.project_id, c.computed_cost_usd;
    SELECT count(*), string_agg(format('%s: expected %s, stored %s', coalesce(e.trace_id, t.trace_id),
                                       CASE WHEN e.trace_id IS NULL THEN 'no row' ELSE e::text END,
                                       CASE WHEN t.trace_id IS NULL THEN 'no row'
                                            ELSE (t.trace_id, t.project_id, t.span_count, t.error_count, t.llm_call_count,
                                                  t.tool_call_count, t.input_tokens, t.output_tokens, t.start_time,
                                                  t.end_time, t.session_id, t.user_id, t.computed_cost_usd,
                                                  t.root_span_id)::text END), E'\n')
      INTO wrong, examples
      FROM expected AS e
      FULL JOIN agent_trace.agent_traces AS t ON t.trace_id = e.trace_id AND t.project_id = e.project_id
     WHERE (e.trace_id, e.project_id, e.span_count, e.error_count, e.llm_call_count, e.tool_call_count,
            e.input_tokens, e.output_tokens, e.start_time, e.end_time, e.session_id, e.user_id,
            e.computed_cost_usd, e.root_span_id)
           IS DISTINCT FROM
           (t.trace_id, t.project_id, t.span_count, t.error_count, t.llm_call_count, t.tool_call_count,
            t.input_tokens, t.output_tokens, t.start_time, t.end_time, t.session_id, t.user_id,
            t.computed_cost_usd, t.root_span_id);
    IF wrong > 0 THEN
        RAISE EXCEPTION 'agent_traces is wrong for % traces', wrong
            USING DETAIL = left(examples, 2000);
    END IF;
    SELECT count(*) INTO unpriced
      FROM agent_trace.agent_spans AS s
     WHERE s.span_type = 'llm'
       AND NOT EXISTS (SELECT FROM agent_trace.agent_span_costs AS c
                        WHERE c.trace_id = s.trace_id AND c.span_id = s.span_id
                          AND c.start_time = s.start_time AND c.project_id = s.project_id);
    IF unpriced > 0 THEN
        RAISE EXCEPTION '% LLM spans have no computed cost in agent_span_costs', unpriced;
    END IF;
    SELECT count(*) INTO traces FROM expected;
    DROP TABLE expected;
    RETURN traces;
END
$$;
