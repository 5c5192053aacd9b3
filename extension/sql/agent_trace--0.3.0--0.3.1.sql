-- agent_trace 0.3.0 -> 0.3.1: small inserts cost less. price_for works out the call's names once
-- and keeps one plan per session; the helpers AgentOS's span inserts run (the attribute
-- mapping, the agno_traces copy) are PL/pgSQL, planned once per session instead of per statement.
-- AgentOS opens a span by its id alone through indexes enable_agno_compat now makes.
-- No table, privilege or result changes.
-- Drafted by scripts/draft-upgrade-script.py from the 0.3.1 install script;
-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.3.1 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.3.1'" to load this file. \quit

-- New: which tables are the compatible schemas' copies, asked by the copy trigger and disable.
CREATE FUNCTION agent_trace._agno_compat_tables() RETURNS regclass[]
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Looked up by name in both catalogs' indexes: the copy trigger asks for every statement that
    -- writes agent_traces, and pg_trigger can hold many rows. PL/pgSQL keeps the plan for the session.
    RETURN ARRAY(SELECT c.oid::regclass FROM pg_class AS c
                  WHERE c.relname = 'agno_traces' AND c.relkind = 'r'
                    AND EXISTS (SELECT FROM pg_trigger AS tg
                                 WHERE tg.tgrelid = c.oid AND tg.tgname = 'agno_traces_written_by_agent_trace'
                                   AND tg.tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure)
                  ORDER BY c.oid);
END
$$;
COMMENT ON FUNCTION agent_trace._agno_compat_tables() IS
    'Internal: the agno_traces tables of every schema prepared by enable_agno_compat (those carrying its guard trigger), in creation order.';
REVOKE ALL ON FUNCTION agent_trace._agno_compat_tables() FROM PUBLIC;

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
CREATE OR REPLACE FUNCTION agent_trace._agno_sync_traces() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
BEGIN
    -- The fold's upsert fires the INSERT and the UPDATE trigger; one of them usually has no rows.
    IF TG_OP <> 'TRUNCATE' THEN
        IF NOT EXISTS (SELECT FROM changed_traces) THEN
            RETURN NULL;
        END IF;
    END IF;
    FOREACH target IN ARRAY agent_trace._agno_compat_tables() LOOP
        -- A compatible schema must never cost a span: if its table cannot be written (dropped
        -- columns, missing privileges), the spans are stored all the same and a warning says why.
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                EXECUTE format('DELETE FROM %s', target);
            ELSIF TG_OP = 'DELETE' THEN
                EXECUTE format('DELETE FROM %s AS c USING changed_traces AS o WHERE c.trace_id = o.trace_id::text',
                               target);
            ELSE
                -- In trace_id order, as the fold writes agent_traces: concurrent writers lock rows in
                -- one order.
                EXECUTE format(
                    'INSERT INTO %s AS c SELECT r.* FROM changed_traces AS n, agent_trace._agno_trace(n) AS r
                      ORDER BY r.trace_id
                         ON CONFLICT (trace_id) DO UPDATE SET
                            name = excluded.name, status = excluded.status, start_time = excluded.start_time,
                            end_time = excluded.end_time, duration_ms = excluded.duration_ms,
                            run_id = excluded.run_id, session_id = excluded.session_id,
                            user_id = excluded.user_id, agent_id = excluded.agent_id,
                            team_id = excluded.team_id, workflow_id = excluded.workflow_id,
                            created_at = excluded.created_at, root_span_id = excluded.root_span_id', target);
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'agent_trace: AgentOS table % not updated: %', target, SQLERRM
                USING HINT = 'agent_trace.enable_agno_compat(schema) rebuilds it.';
        END;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.enable_agno_compat(schema_name text DEFAULT 'ai') RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass;
    spans regclass;
    copied bigint;
BEGIN
    IF schema_name IS NULL OR schema_name = '' THEN
        RAISE EXCEPTION 'schema_name must name a schema (AgentOS''s db_schema, by default ai)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF to_regnamespace(quote_ident(schema_name)) IS NULL THEN
        EXECUTE format('CREATE SCHEMA %I', schema_name);
    END IF;
    traces := to_regclass(format('%I.agno_traces', schema_name));
    spans := to_regclass(format('%I.agno_spans', schema_name));
    IF traces IS NOT NULL AND NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = traces
            AND tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure)
       OR spans IS NOT NULL AND traces IS NULL THEN
        RAISE EXCEPTION 'schema % already has AgentOS''s own trace tables', quote_ident(schema_name)
            USING ERRCODE = 'duplicate_table',
                  DETAIL = 'AgentOS created agno_traces and agno_spans there before; agent_trace does not replace them.',
                  HINT = 'Use another schema (AgentOS''s db_schema), or rename or drop those two tables first.';
    END IF;

    -- Writers wait while the table is filled, so that no trace changes between the copy and the
    -- guard trigger that makes the schema visible to agent_trace's triggers. agent_spans first, as
    -- writers take them (a span insert folds into agent_traces): the span id index below needs it,
    -- and taking it after agent_traces could deadlock with an insert in between.
    LOCK TABLE agent_trace.agent_spans, agent_trace.agent_traces IN SHARE MODE;
    IF traces IS NOT NULL THEN
        -- Enabled already: rebuild the copy.
        EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
        EXECUTE format('DROP TABLE %s', traces);
    END IF;
    EXECUTE format($ddl$
        CREATE TABLE %1$I.agno_traces OF agent_trace.agno_trace (
            trace_id PRIMARY KEY, name WITH OPTIONS NOT NULL, status WITH OPTIONS NOT NULL,
            start_time WITH OPTIONS NOT NULL, end_time WITH OPTIONS NOT NULL,
            duration_ms WITH OPTIONS NOT NULL, created_at WITH OPTIONS NOT NULL);
        COMMENT ON TABLE %1$I.agno_traces IS
            'AgentOS''s traces table, as agent_trace.enable_agno_compat made it: one row per trace of agent_trace.agent_traces, kept current by agent_trace. Writes from elsewhere (AgentOS''s own trace upserts) are skipped.';
        INSERT INTO %1$I.agno_traces SELECT r.* FROM agent_trace.agent_traces AS t, agent_trace._agno_trace(t) AS r;
        -- What AgentOS filters and sorts by: the latest first, in a time range, by status, and by
        -- its ids. The ids are any length, so they get hash indexes (a btree refuses long entries).
        CREATE INDEX ON %1$I.agno_traces (start_time DESC);
        CREATE INDEX ON %1$I.agno_traces (created_at);
        CREATE INDEX ON %1$I.agno_traces (status, start_time DESC);
        CREATE INDEX ON %1$I.agno_traces USING hash (session_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (user_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (agent_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (run_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (team_id);
        CREATE INDEX ON %1$I.agno_traces USING hash (workflow_id);
        CREATE TRIGGER agno_traces_written_by_agent_trace
            BEFORE INSERT OR UPDATE OR DELETE ON %1$I.agno_traces
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_traces_guard();

        -- The trace comes from agno_traces, so `WHERE trace_id = '...'` finds it by that table's key
        -- and its spans by agent_spans' key. A span whose parent is missing (or a second parentless
        -- span) hangs from the trace's root: AgentOS builds its tree down from the parentless spans,
        -- and would drop it.
        CREATE VIEW %1$I.agno_spans AS
        SELECT s.span_id::text COLLATE "C" AS span_id,
               t.trace_id,
               CASE WHEN s.span_id::text = t.root_span_id THEN NULL
                    WHEN s.parent_span_id IS NOT NULL
                         AND EXISTS (SELECT FROM agent_trace.agent_spans AS p
                                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id)
                        THEN s.parent_span_id::text
                    ELSE t.root_span_id END COLLATE "C" AS parent_span_id,
               s.name,
               s.span_kind,
               s.status_code,
               s.status_message,
               agent_trace._agno_time(s.start_time) AS start_time,
               agent_trace._agno_time(s.end_time) AS end_time,
               trunc(s.duration_ms)::bigint AS duration_ms,
               agent_trace._agno_attributes(s) AS attributes,
               agent_trace._agno_time(s.created_at) AS created_at
          FROM %1$I.agno_traces AS t
          JOIN agent_trace.agent_spans AS s ON s.trace_id = t.trace_id::agent_trace.trace_id;
        COMMENT ON VIEW %1$I.agno_spans IS
            'AgentOS''s spans table, as agent_trace.enable_agno_compat made it: agent_trace.agent_spans with text ids and times and OpenInference attributes from the typed columns. INSERTs are stored in agent_trace.agent_spans.';
        CREATE TRIGGER agno_spans_into_agent_spans
            INSTEAD OF INSERT ON %1$I.agno_spans
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_insert_span();

        -- Readers read both (the spans' attributes are content: not for usage readers). Writers, as
        -- an AgentOS app's role, insert spans (stored by the view's trigger with the owner's rights)
        -- and may send AgentOS's trace upsert, which PostgreSQL checks against INSERT and UPDATE
        -- before the guard skips it. The copy is kept by triggers with the owner's rights.
        GRANT USAGE ON SCHEMA %1$I TO agent_trace_reader, agent_trace_writer;
        GRANT SELECT ON %1$I.agno_traces, %1$I.agno_spans TO agent_trace_reader;
        GRANT INSERT, UPDATE ON %1$I.agno_traces TO agent_trace_writer;
        GRANT INSERT ON %1$I.agno_spans TO agent_trace_writer;

        -- AgentOS opens a span by its id alone (GET /traces/{id}?span_id=, `WHERE span_id = '...'` on
        -- the view): this index finds the span's trace row once the one below has found the span.
        CREATE INDEX agno_traces_trace_id_idx ON %1$I.agno_traces USING hash ((trace_id::agent_trace.trace_id));
    $ddl$, schema_name);
    -- The span by its text id, as the view shows it (agent_spans' key starts with the trace). One for
    -- all compatible schemas; only they pay for it on every span stored. Not part of the extension,
    -- so pg_dump leaves it out: enabling again after a restore makes it again.
    IF to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NULL THEN
        CREATE INDEX agent_spans_agno_span_id_idx ON agent_trace.agent_spans
            USING hash (((span_id::text) COLLATE "C"));
    END IF;
    EXECUTE format('SELECT count(*) FROM %I.agno_traces', schema_name) INTO copied;
    RETURN copied;
END
$$;
CREATE OR REPLACE FUNCTION agent_trace.disable_agno_compat(schema_name text DEFAULT 'ai') RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass := to_regclass(format('%I.agno_traces', schema_name));
    last boolean;
BEGIN
    IF traces IS NULL THEN
        RETURN false;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_trigger WHERE tgrelid = traces
                      AND tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure) THEN
        RAISE EXCEPTION '%.agno_traces is AgentOS''s own table, not agent_trace''s', quote_ident(schema_name)
            USING ERRCODE = 'wrong_object_type',
                  HINT = 'agent_trace drops only the tables enable_agno_compat made.';
    END IF;
    -- The span id index serves every compatible schema: the last one takes it along. Dropping it
    -- locks agent_spans; that lock comes first, as span writers take it (they go on to write
    -- agent_traces and this copy), so that none of them holds it while waiting for the copy this drops.
    last := agent_trace._agno_compat_tables() <@ ARRAY[traces];
    IF last THEN
        LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE;
    END IF;
    EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', schema_name);
    EXECUTE format('DROP TABLE %s', traces);
    IF last THEN
        DROP INDEX IF EXISTS agent_trace.agent_spans_agno_span_id_idx;
    END IF;
    RETURN true;
END
$$;

COMMENT ON FUNCTION agent_trace.enable_agno_compat(text) IS
    'Prepares schema_name (created if missing) for an AgentOS app whose db is PostgresDb(db_schema = schema_name): a table agno_traces, a copy of agent_traces kept current by agent_trace, and a view agno_spans over agent_spans whose INSERTs are stored in agent_spans. AgentOS then lists and opens every trace agent_trace holds, and its own spans are stored with their typed columns. Refuses a schema where AgentOS made its own trace tables. Running it again rebuilds the copy. Also indexes agent_spans by the span id as text (agent_spans_agno_span_id_idx, one for all compatible schemas, dropped with the last), so AgentOS opens a span by its id alone without a scan. Returns the number of traces copied. The objects are not part of the extension: pg_dump keeps the two (not the index on agent_spans: enable again after a restore); DROP EXTENSION needs disable_agno_compat first (or CASCADE).';
COMMENT ON FUNCTION agent_trace.disable_agno_compat(text) IS
    'Drops what enable_agno_compat made in schema_name (agno_traces and agno_spans, and the span id index on agent_spans with the last compatible schema; no span or trace of agent_trace is touched). Returns false when there was nothing to drop. Refuses AgentOS''s own tables.';

-- Schemas enabled under 0.3.0 get the indexes enable_agno_compat makes now (ALTER EXTENSION runs
-- as the extension's owner, who owns those tables).
DO $indexes$
DECLARE
    traces regclass;
BEGIN
    FOREACH traces IN ARRAY agent_trace._agno_compat_tables() LOOP
        EXECUTE format('CREATE INDEX agno_traces_trace_id_idx ON %s USING hash ((trace_id::agent_trace.trace_id))', traces);
        IF to_regclass('agent_trace.agent_spans_agno_span_id_idx') IS NULL THEN
            CREATE INDEX agent_spans_agno_span_id_idx ON agent_trace.agent_spans
                USING hash (((span_id::text) COLLATE "C"));
        END IF;
    END LOOP;
END
$indexes$;
