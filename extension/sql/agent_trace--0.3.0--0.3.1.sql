-- agent_trace 0.3.0 -> 0.3.1: small inserts cost less. price_for works out the call's names once
-- and keeps one plan per session; the helpers AgentOS's span inserts run (the attribute
-- mapping, the agno_traces copy) are PL/pgSQL, planned once per session instead of per statement.
-- No table, privilege or result changes.
-- Drafted by scripts/draft-upgrade-script.py from the 0.3.1 install script;
-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.3.1 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.3.1'" to load this file. \quit

CREATE OR REPLACE FUNCTION agent_trace.price_for(model text, provider text, at timestamptz)
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
     ORDER BY c.step, c.provider_rank, length((c.p).model_pattern) DESC, (c.p).model_pattern,
              (c.p).provider, (c.p).effective_from DESC
     LIMIT 1;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._text(value jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' ELSE value::text END;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._identity(attributes jsonb, resource_attributes jsonb, keys text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN agent_trace._text(coalesce(agent_trace._first_present(attributes, keys),
                                      agent_trace._first_present(resource_attributes, keys)));
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._cost(value jsonb) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- As the ingest stores a reported cost: the double, as the shortest decimal that reads back as it
    -- (the double's text with extra_float_digits = 1, which _span_columns sets).
    RETURN (agent_trace._parse_number(value)).as_double::text::numeric;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._agno_time(value timestamptz) RETURNS text
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Python's datetime.isoformat() of a UTC time, always with microseconds, so text order is time order.
    RETURN to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"');
END
$$;
CREATE OR REPLACE FUNCTION agent_trace._agno_trace(t agent_trace.agent_traces) RETURNS agent_trace.agno_trace
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    r agent_trace.agno_trace;
BEGIN
    r.trace_id := t.trace_id::text;
    r.name := t.name;
    IF r.name IS NULL THEN
        -- Until the root span arrives, the name of the earliest span (AgentOS needs a name).
        SELECT s.name INTO r.name FROM agent_trace.agent_spans AS s WHERE s.trace_id = t.trace_id
         ORDER BY s.start_time, s.span_id LIMIT 1;
    END IF;
    r.status := t.status;
    r.start_time := agent_trace._agno_time(t.start_time);
    r.end_time := agent_trace._agno_time(t.end_time);
    r.duration_ms := trunc(t.duration_ms)::bigint;
    r.run_id := t.run_id;
    r.session_id := t.session_id;
    r.user_id := t.user_id;
    -- AgentOS filters and groups by agent id; clients of the GenAI conventions often send only a name.
    r.agent_id := coalesce(t.agent_id, t.agent_name);
    r.team_id := t.team_id;
    r.workflow_id := t.workflow_id;
    r.created_at := agent_trace._agno_time(t.created_at);
    r.root_span_id := t.root_span_id::text;
    RETURN r;
END
$$;
