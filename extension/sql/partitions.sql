-- Time partitions, maintenance and retention.
--
-- agent_spans and agent_span_costs are partitioned by start_time, agent_logs and agent_metrics by
-- time, one partition per UTC day: agent_trace_partitions.agent_spans_p20261207 holds the spans that
-- started on 2026-12-07 (UTC). Users query the four parents in agent_trace; the partitions live in
-- their own schema, which nobody but the owner may use, so a BI tool lists four tables, not four
-- per day.
--
-- Nothing is refused for want of a partition: each table has a DEFAULT partition for rows of days
-- without one (clock skew, a backfill of old runs). agent_trace.maintain() creates the partitions of
-- yesterday to three days ahead (moving any rows of those days out of the default partition first),
-- and applies retention: whole days older than the retention set for a signal are dropped at once
-- (DROP TABLE of a partition, not a DELETE), and the traces whose spans went are recomputed
-- (rollup.sql). Rows older than that in the default partition, and the rows of projects with a
-- shorter retention than the partitions keep, are deleted row by row. The ingest runs maintain()
-- when it starts and every hour (--maintenance-interval-secs); pg_cron can run it instead
-- (docs/retention.md).
--
-- Locks (docs/retention.md lists them): creating a partition takes SHARE UPDATE EXCLUSIVE on the
-- parent (reads and writes go on) and ACCESS EXCLUSIVE on its default partition for as long as it
-- takes to move that day's rows out of it; dropping partitions takes ACCESS EXCLUSIVE on the parent
-- while they are dropped and their traces fixed. maintain() waits at most lock_timeout (2 s) for each
-- and, failing, leaves it to the next run.

CREATE SCHEMA agent_trace_partitions;
COMMENT ON SCHEMA agent_trace_partitions IS
    'Daily partitions of agent_trace''s agent_spans, agent_span_costs, agent_logs and agent_metrics, made and dropped by agent_trace.maintain(). Query the tables in agent_trace instead; only the owner may use this schema.';
REVOKE ALL ON SCHEMA agent_trace_partitions FROM PUBLIC;

CREATE TABLE agent_trace_partitions.agent_spans_default PARTITION OF agent_trace.agent_spans DEFAULT;
CREATE TABLE agent_trace_partitions.agent_span_costs_default PARTITION OF agent_trace.agent_span_costs DEFAULT;
CREATE TABLE agent_trace_partitions.agent_logs_default PARTITION OF agent_trace.agent_logs DEFAULT;
CREATE TABLE agent_trace_partitions.agent_metrics_default PARTITION OF agent_trace.agent_metrics DEFAULT;
COMMENT ON TABLE agent_trace_partitions.agent_spans_default IS 'Spans of days that have no partition of their own (agent_trace.maintain() moves them into one when it creates it).';
COMMENT ON TABLE agent_trace_partitions.agent_span_costs_default IS 'Computed costs of spans of days that have no partition of their own.';
COMMENT ON TABLE agent_trace_partitions.agent_logs_default IS 'Log records of days that have no partition of their own.';
COMMENT ON TABLE agent_trace_partitions.agent_metrics_default IS 'Metric points of days that have no partition of their own.';

-- pg_dump keeps the rows of extension tables only when they are registered (access.sql registers the
-- rest). The parents hold no rows; the daily partitions are not part of the extension (maintain()
-- makes them), so pg_dump keeps them, rows and all, as it keeps any table.
SELECT pg_catalog.pg_extension_config_dump('agent_trace_partitions.agent_spans_default', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace_partitions.agent_span_costs_default', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace_partitions.agent_logs_default', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace_partitions.agent_metrics_default', '');

CREATE FUNCTION agent_trace._partitioned_tables()
    RETURNS TABLE (table_name text, time_column text, signal text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('agent_spans', 'start_time', 'spans'),
           ('agent_span_costs', 'start_time', 'spans'),
           ('agent_logs', 'time', 'logs'),
           ('agent_metrics', 'time', 'metrics')
$$;
COMMENT ON FUNCTION agent_trace._partitioned_tables() IS
    'The tables partitioned by day, their time column, and the signal whose retention applies to them. Internal.';
REVOKE ALL ON FUNCTION agent_trace._partitioned_tables() FROM PUBLIC;

CREATE VIEW agent_trace.agent_partitions AS
SELECT p.table_name,
       c.relname::text AS partition_name,
       b.from_time,
       b.to_time,
       c.reltuples::bigint AS estimated_rows,
       pg_total_relation_size(c.oid) AS total_bytes
  FROM agent_trace._partitioned_tables() AS p
  JOIN pg_inherits AS i ON i.inhparent = format('agent_trace.%I', p.table_name)::regclass
  JOIN pg_class AS c ON c.oid = i.inhrelid
 CROSS JOIN LATERAL (
       SELECT CASE WHEN m[1] IS NULL THEN NULL WHEN m[1] = 'MINVALUE' THEN '-infinity'::timestamptz
                   ELSE btrim(m[1], '''')::timestamptz END AS from_time,
              CASE WHEN m[2] IS NULL THEN NULL WHEN m[2] = 'MAXVALUE' THEN 'infinity'::timestamptz
                   ELSE btrim(m[2], '''')::timestamptz END AS to_time
         FROM (SELECT regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m) AS r
       ) AS b;
COMMENT ON VIEW agent_trace.agent_partitions IS
    'The partitions of agent_spans, agent_span_costs, agent_logs and agent_metrics: their time range [from_time, to_time) (NULL for the default partition, which holds rows of days without a partition), estimated rows (-1 before the first ANALYZE) and size on disk. Example: SELECT * FROM agent_trace.agent_partitions ORDER BY table_name, from_time;';
COMMENT ON COLUMN agent_trace.agent_partitions.table_name IS 'The partitioned table in agent_trace.';
COMMENT ON COLUMN agent_trace.agent_partitions.partition_name IS 'The partition, in schema agent_trace_partitions: <table>_pYYYYMMDD for a UTC day, <table>_default for the rest.';
COMMENT ON COLUMN agent_trace.agent_partitions.from_time IS 'First instant the partition holds; -infinity for one holding everything before to_time (from an upgrade); NULL for the default partition.';
COMMENT ON COLUMN agent_trace.agent_partitions.to_time IS 'First instant past the partition; NULL for the default partition.';
COMMENT ON COLUMN agent_trace.agent_partitions.estimated_rows IS 'Rows as of the last ANALYZE or VACUUM (pg_class.reltuples); -1 when never analyzed.';
COMMENT ON COLUMN agent_trace.agent_partitions.total_bytes IS 'Size on disk with indexes and TOAST (pg_total_relation_size).';

------------------------------------------------------------------------------------------------------
-- Retention settings
------------------------------------------------------------------------------------------------------

CREATE TABLE agent_trace.retention (
    signal      text NOT NULL CHECK (signal IN ('spans', 'logs', 'metrics')),
    project_id  integer REFERENCES agent_trace.projects ON DELETE CASCADE,
    keep        interval NOT NULL CHECK (keep >= interval '1 day'),
    set_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT retention_key UNIQUE NULLS NOT DISTINCT (signal, project_id)
);
COMMENT ON TABLE agent_trace.retention IS
    'How long agent_trace.maintain() keeps each signal: spans (with their traces, computed costs and scores), logs, metrics; for every project (project_id NULL) or one. No row: kept for ever. Change with agent_trace.set_retention.';
COMMENT ON COLUMN agent_trace.retention.signal IS 'spans (agent_spans, and agent_traces, agent_span_costs and agent_scores with them), logs (agent_logs) or metrics (agent_metrics).';
COMMENT ON COLUMN agent_trace.retention.project_id IS 'The project this setting is for; NULL: every project without a setting of its own.';
COMMENT ON COLUMN agent_trace.retention.keep IS 'How long rows are kept, counted from their time (a span''s start_time). Whole UTC days expire at once, so a row stays between keep and keep + 1 day. At least 1 day.';
COMMENT ON COLUMN agent_trace.retention.set_at IS 'When this setting was made.';
SELECT pg_catalog.pg_extension_config_dump('agent_trace.retention', '');

CREATE FUNCTION agent_trace.set_retention(signal text, keep interval, project text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target integer := CASE WHEN project IS NOT NULL THEN agent_trace._project_id(project) END;
BEGIN
    IF signal IS NULL OR signal NOT IN ('spans', 'logs', 'metrics') THEN
        RAISE EXCEPTION 'unknown signal %: retention is set for spans, logs or metrics', coalesce(quote_literal(signal), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Traces go with their spans: SELECT agent_trace.set_retention(''spans'', ''30 days'');';
    END IF;
    IF keep IS NULL THEN
        DELETE FROM agent_trace.retention AS r
         WHERE r.signal = set_retention.signal AND r.project_id IS NOT DISTINCT FROM target;
        RETURN;
    END IF;
    IF keep < interval '1 day' THEN
        RAISE EXCEPTION 'retention of % is shorter than a day', keep
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Rows expire a whole UTC day (one partition) at a time.';
    END IF;
    INSERT INTO agent_trace.retention AS r (signal, project_id, keep)
    VALUES (set_retention.signal, target, keep)
        ON CONFLICT ON CONSTRAINT retention_key DO UPDATE SET keep = excluded.keep, set_at = excluded.set_at;  -- (its default, now(): Citus takes no function here)
END
$$;
COMMENT ON FUNCTION agent_trace.set_retention(text, interval, text) IS
    'Keeps signal (''spans'' with their traces, costs and scores, ''logs'' or ''metrics'') for keep, for every project (project NULL) or for one project (by name); keep NULL removes the setting (kept for ever, or as every project). agent_trace.maintain() applies it: whole UTC days older than keep are dropped as partitions; a project kept shorter than the others loses its rows by DELETE. Example: SELECT agent_trace.set_retention(''spans'', ''30 days''); SELECT agent_trace.set_retention(''logs'', ''72 hours'', ''staging'');';
REVOKE ALL ON FUNCTION agent_trace.set_retention(text, interval, text) FROM PUBLIC;

------------------------------------------------------------------------------------------------------
-- Creating partitions
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._create_day_partition(table_name text, time_column text, day date)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    partition_name text := format('%s_p%s', table_name, to_char(day, 'YYYYMMDD'));
    default_name text := table_name || '_default';
    day_start timestamptz := day::timestamp AT TIME ZONE 'UTC';
    day_end timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
    columns text;
    moved bigint;
    waiting boolean;
BEGIN
    -- A partition of the day, or one that covers part of it (the one an upgrade made of a table's
    -- earlier rows): nothing to do.
    IF EXISTS (SELECT FROM agent_trace.agent_partitions AS p
                WHERE p.table_name = _create_day_partition.table_name
                  AND p.from_time < day_end AND p.to_time > day_start) THEN
        RETURN NULL;
    END IF;
    -- On Citus (citus.sql) a partition is made as one, which Citus distributes in one step (made
    -- apart and attached, Citus's connections back to this node wait on this transaction's locks).
    -- A day some rows of which wait in the default partition keeps them there.
    IF agent_trace.distributed() THEN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM agent_trace_partitions.%I WHERE %I >= $1 AND %I < $2)',
                       default_name, time_column, time_column)
            INTO waiting USING day_start, day_end;
        IF waiting THEN
            RETURN NULL;
        END IF;
        EXECUTE format('CREATE TABLE agent_trace_partitions.%I PARTITION OF agent_trace.%I FOR VALUES FROM (%L) TO (%L)',
                       partition_name, table_name, day_start, day_end);
        RETURN 0;
    END IF;
    -- The default partition first, so that no writer adds a row of this day to it meanwhile.
    EXECUTE format('LOCK TABLE agent_trace_partitions.%I IN ACCESS EXCLUSIVE MODE', default_name);
    -- Made apart and attached (SHARE UPDATE EXCLUSIVE on the parent), not made as a partition
    -- (ACCESS EXCLUSIVE on the parent: it would stop every reader).
    EXECUTE format('CREATE TABLE agent_trace_partitions.%I (LIKE agent_trace.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)',
                   partition_name, table_name);
    -- The day's rows in the default partition move in (every column but generated ones).
    SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO columns
      FROM pg_attribute AS a
     WHERE a.attrelid = format('agent_trace.%I', table_name)::regclass AND a.attnum > 0
       AND NOT a.attisdropped AND a.attgenerated = '';
    EXECUTE format('WITH moved AS (DELETE FROM agent_trace_partitions.%1$I WHERE %2$I >= $1 AND %2$I < $2 RETURNING %3$s) '
                   'INSERT INTO agent_trace_partitions.%4$I (%3$s) SELECT %3$s FROM moved',
                   default_name, time_column, columns, partition_name)
        USING day_start, day_end;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('ALTER TABLE agent_trace.%I ATTACH PARTITION agent_trace_partitions.%I FOR VALUES FROM (%L) TO (%L)',
                   table_name, partition_name, day_start, day_end);
    RETURN moved;
END
$$;
COMMENT ON FUNCTION agent_trace._create_day_partition(text, text, date) IS
    'Creates the partition of table_name for one UTC day, moving that day''s rows out of the default partition into it; returns how many moved, or NULL when a partition covers the day already. Internal: agent_trace.maintain() calls it.';
REVOKE ALL ON FUNCTION agent_trace._create_day_partition(text, text, date) FROM PUBLIC;

------------------------------------------------------------------------------------------------------
-- Expiring rows
------------------------------------------------------------------------------------------------------

-- The spans of days before cutoff are gone (dropped partitions) or go now (deleted through the
-- parent, whose trigger fixes their traces). A trace that ended before cutoff had all its spans there
-- (a span starts no later than the trace ends): its row goes. One that straddles cutoff is recomputed
-- from what remains.
CREATE FUNCTION agent_trace._fix_traces_before(cutoff timestamptz) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed bigint;
    straddling_trace agent_trace.trace_id[];
    straddling_project integer[];
BEGIN
    DELETE FROM agent_trace.agent_traces AS t WHERE t.start_time < cutoff AND t.end_time < cutoff;
    GET DIAGNOSTICS removed = ROW_COUNT;
    SELECT array_agg(t.trace_id), array_agg(t.project_id) INTO straddling_trace, straddling_project
      FROM agent_trace.agent_traces AS t WHERE t.start_time < cutoff;
    RETURN removed + coalesce(agent_trace._refresh_traces(straddling_trace, straddling_project), 0);
END
$$;
COMMENT ON FUNCTION agent_trace._fix_traces_before(timestamptz) IS
    'After the spans before cutoff are gone: removes the traces that ended before it and recomputes those that straddle it; returns how many changed. Internal: retention.';
REVOKE ALL ON FUNCTION agent_trace._fix_traces_before(timestamptz) FROM PUBLIC;

-- Deletes the rows of table_name older than cutoff (of one project, or of every project but
-- some), returning how many. Through the parent, so agent_spans' trigger fixes the traces; on Citus,
-- which has that trigger no more (citus.sql), it recomputes the traces itself.
CREATE FUNCTION agent_trace._delete_before(table_name text, time_column text, cutoff timestamptz,
                                           only_project integer DEFAULT NULL, other_projects integer[] DEFAULT NULL)
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    condition text := format('%I < $1', time_column)
        || CASE WHEN only_project IS NOT NULL THEN ' AND project_id = $2' ELSE '' END
        || CASE WHEN other_projects IS NOT NULL THEN ' AND project_id <> ALL ($3)' ELSE '' END;
    removed bigint;
    gone_trace agent_trace.trace_id[];
    gone_project integer[];
BEGIN
    IF table_name = 'agent_spans' AND agent_trace.distributed() THEN
        EXECUTE format('WITH gone AS (DELETE FROM agent_trace.agent_spans WHERE %s RETURNING trace_id, project_id),
                             traces AS (SELECT DISTINCT g.trace_id, g.project_id FROM gone AS g)
                        SELECT (SELECT count(*) FROM gone), (SELECT array_agg(t.trace_id) FROM traces AS t),
                               (SELECT array_agg(t.project_id) FROM traces AS t)', condition)
            INTO removed, gone_trace, gone_project
            USING cutoff, only_project, other_projects;
        PERFORM agent_trace._refresh_traces(gone_trace, gone_project);
    ELSE
        EXECUTE format('DELETE FROM agent_trace.%I WHERE %s', table_name, condition)
            USING cutoff, only_project, other_projects;
        GET DIAGNOSTICS removed = ROW_COUNT;
    END IF;
    RETURN removed;
END
$$;
COMMENT ON FUNCTION agent_trace._delete_before(text, text, timestamptz, integer, integer[]) IS
    'Deletes the rows of a partitioned table (or of agent_scores, agent_scores_pending) older than cutoff (of one project, or of all but some), fixing the traces of deleted spans; returns how many rows went. Internal: retention.';
REVOKE ALL ON FUNCTION agent_trace._delete_before(text, text, timestamptz, integer, integer[]) FROM PUBLIC;

CREATE FUNCTION agent_trace._expire(signal text, at timestamptz)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Partitions of both span tables go at once; rows are deleted through agent_spans alone (its
    -- trigger removes their costs and fixes their traces). In the order writers take them.
    drop_tables text[] := CASE _expire.signal WHEN 'spans' THEN ARRAY['agent_spans', 'agent_span_costs']
                                              ELSE ARRAY['agent_' || _expire.signal] END;
    delete_table text := CASE _expire.signal WHEN 'spans' THEN 'agent_spans' ELSE 'agent_' || _expire.signal END;
    time_column text := CASE _expire.signal WHEN 'spans' THEN 'start_time' ELSE 'time' END;
    everyone interval;
    longest interval;
    own_projects integer[];
    cutoff timestamptz;
    doomed record;
    setting record;
    i integer;
    n bigint;
    locked boolean := false;
    expiring text;
    done text[][];
BEGIN
    SELECT r.keep INTO everyone FROM agent_trace.retention AS r
     WHERE r.signal = _expire.signal AND r.project_id IS NULL;
    SELECT max(r.keep), array_agg(r.project_id) FILTER (WHERE r.project_id IS NOT NULL)
      INTO longest, own_projects
      FROM agent_trace.retention AS r WHERE r.signal = _expire.signal;

    -- 1. Days that every project has let go (only when every project has a retention): drop their
    --    partitions, delete what is left of them elsewhere (the default partition, a partition an
    --    upgrade made of older rows), fix the traces.
    IF everyone IS NOT NULL THEN
        cutoff := date_trunc('day', at - longest, 'UTC');
        -- What was done, told once it is done (a lock not granted undoes all of it).
        done := '{}';
        BEGIN
            FOR doomed IN
                SELECT array_agg(p.partition_name ORDER BY p.from_time) AS partitions, p.table_name
                  FROM agent_trace.agent_partitions AS p
                 WHERE p.table_name = ANY (drop_tables) AND p.to_time <= cutoff
                 GROUP BY p.table_name
                 ORDER BY array_position(drop_tables, p.table_name)
            LOOP
                IF NOT locked THEN
                    -- Every parent first, in writers' order, before changing anything: nothing waits
                    -- on this transaction while it waits for a lock.
                    FOR i IN 1 .. cardinality(drop_tables) LOOP
                        EXECUTE format('LOCK TABLE agent_trace.%I IN ACCESS EXCLUSIVE MODE', drop_tables[i]);
                    END LOOP;
                    locked := true;
                END IF;
                FOR i IN 1 .. cardinality(doomed.partitions) LOOP
                    EXECUTE format('DROP TABLE agent_trace_partitions.%I', doomed.partitions[i]);
                    done := done || ARRAY[['dropped', doomed.table_name, format('partition %s', doomed.partitions[i])]];
                END LOOP;
            END LOOP;
            n := agent_trace._delete_before(delete_table, time_column, cutoff);
            IF n > 0 THEN
                done := done || ARRAY[['deleted', delete_table, format('%s rows before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
            END IF;
            -- Scores (scores.sql), and those still waiting for their span, are kept as long as the
            -- runs they judge: by DELETE (not partitioned).
            IF _expire.signal = 'spans' THEN
                FOREACH expiring IN ARRAY ARRAY['agent_scores', 'agent_scores_pending'] LOOP
                    n := agent_trace._delete_before(expiring, 'scored_at', cutoff);
                    IF n > 0 THEN
                        done := done || ARRAY[['deleted', expiring, format('%s rows before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
                    END IF;
                END LOOP;
            END IF;
            IF _expire.signal = 'spans' AND locked THEN
                n := agent_trace._fix_traces_before(cutoff);
                done := done || ARRAY[['refreshed', 'agent_traces', format('%s traces with spans before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            done := ARRAY[['skipped', delete_table,
                           format('expiry before %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
        END;
        FOR i IN 1 .. coalesce(array_length(done, 1), 0) LOOP
            action := done[i][1]; table_name := done[i][2]; detail := done[i][3];
            RETURN NEXT;
        END LOOP;
    END IF;

    -- 2. Projects kept shorter than the partitions are: their rows go by DELETE (the trigger fixes
    --    their traces).
    FOR setting IN
        SELECT r.project_id, r.keep FROM agent_trace.retention AS r
         WHERE r.signal = _expire.signal AND (everyone IS NULL OR r.keep < longest)
         ORDER BY r.project_id NULLS LAST
    LOOP
        cutoff := date_trunc('day', at - setting.keep, 'UTC');
        BEGIN
            -- The spans, then (signal spans) the scores, waiting or not, which are kept as long as
            -- the runs they judge.
            FOREACH expiring IN ARRAY CASE _expire.signal WHEN 'spans' THEN ARRAY[delete_table, 'agent_scores', 'agent_scores_pending']
                                                          ELSE ARRAY[delete_table] END LOOP
                IF setting.project_id IS NOT NULL THEN
                    n := agent_trace._delete_before(expiring, CASE WHEN expiring LIKE 'agent_scores%' THEN 'scored_at' ELSE time_column END,
                                                    cutoff, only_project => setting.project_id);
                ELSE
                    n := agent_trace._delete_before(expiring, CASE WHEN expiring LIKE 'agent_scores%' THEN 'scored_at' ELSE time_column END,
                                                    cutoff, other_projects => coalesce(own_projects, '{}'));
                END IF;
                IF n > 0 THEN
                    action := 'deleted'; table_name := expiring;
                    detail := format('%s rows before %s (UTC) of %s', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                     coalesce((SELECT 'project ' || p.name FROM agent_trace.projects AS p
                                                WHERE p.project_id = setting.project_id),
                                              'the projects without a retention of their own'));
                    RETURN NEXT;
                END IF;
            END LOOP;
        EXCEPTION WHEN lock_not_available THEN
            action := 'skipped'; table_name := delete_table;
            detail := format('expiry before %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
            RETURN NEXT;
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._expire(text, timestamptz) IS
    'Applies the retention of one signal as of at: drops the partitions of days every project has let go and deletes what remains of them, deletes the older rows of projects kept shorter, fixes the traces; signal spans deletes the scores given before the same cutoff (agent_scores and agent_scores_pending). Returns what it did. Internal: agent_trace.maintain() calls it.';
REVOKE ALL ON FUNCTION agent_trace._expire(text, timestamptz) FROM PUBLIC;

------------------------------------------------------------------------------------------------------
-- maintain()
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._maintain(at timestamptz)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- Wait this long for any one lock, then leave that step to the next run: a long query holding
    -- a table must not stop its writers behind a waiting maintenance.
    SET lock_timeout = '2s'
AS $$
DECLARE
    today date := (at AT TIME ZONE 'UTC')::date;
    day date;
    t record;
    moved bigint;
    linked bigint;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'agent_trace.maintain needs a time' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- One at a time (the ingest's replicas and pg_cron may all call it): the others return at once.
    IF NOT pg_try_advisory_xact_lock(hashtext('agent_trace.maintain')) THEN
        action := 'skipped'; table_name := NULL; detail := 'another agent_trace.maintain() is running';
        RETURN NEXT;
        RETURN;
    END IF;

    -- 1. The partitions of yesterday (late arrivals) to three days ahead.
    FOR day IN SELECT generate_series(today - 1, today + 3, interval '1 day')::date LOOP
        FOR t IN SELECT * FROM agent_trace._partitioned_tables() LOOP
            BEGIN
                moved := agent_trace._create_day_partition(t.table_name, t.time_column, day);
                IF moved IS NOT NULL THEN
                    action := 'created'; table_name := t.table_name;
                    detail := format('partition %s_p%s', t.table_name, to_char(day, 'YYYYMMDD'))
                              || CASE WHEN moved > 0 THEN format(' (%s rows moved in from the default partition)', moved) ELSE '' END;
                    RETURN NEXT;
                END IF;
            EXCEPTION WHEN lock_not_available THEN
                action := 'skipped'; table_name := t.table_name;
                detail := format('partition of %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(day, 'YYYY-MM-DD'));
                RETURN NEXT;
            END;
        END LOOP;
    END LOOP;

    -- 2. On Citus: the traces of spans stored around the ingest (citus.sql).
    RETURN QUERY SELECT r.* FROM agent_trace._refresh_stored_traces() AS r;

    -- 3. Scores waiting for the span of the response they name (scores.sql): a span committed
    --    while its score was (neither saw the other), or stored another way than the ingest.
    BEGIN
        SELECT l.moved, l.linked INTO moved, linked FROM agent_trace._link_scores(NULL, NULL, NULL) AS l;
        IF moved + linked > 0 THEN
            action := 'linked'; table_name := 'agent_scores';
            detail := format('%s waiting scores moved in, %s given their span, by the response id they name', moved, linked);
            RETURN NEXT;
        END IF;
    EXCEPTION WHEN lock_not_available THEN
        action := 'skipped'; table_name := 'agent_scores';
        detail := 'linking scores to their spans: a lock was not granted within lock_timeout; the next run tries again';
        RETURN NEXT;
    END;

    -- 4. Retention.
    RETURN QUERY SELECT e.* FROM agent_trace._expire('spans', at) AS e;
    RETURN QUERY SELECT e.* FROM agent_trace._expire('logs', at) AS e;
    RETURN QUERY SELECT e.* FROM agent_trace._expire('metrics', at) AS e;
END
$$;
COMMENT ON FUNCTION agent_trace._maintain(timestamptz) IS
    'agent_trace.maintain() as if the time were at. Internal: for tests, which cannot wait for days to pass.';
REVOKE ALL ON FUNCTION agent_trace._maintain(timestamptz) FROM PUBLIC;

-- Granted to the writer (the ingest runs it): it takes no argument, so a caller can neither choose
-- the time (which would expire everything) nor what expires (agent_trace.retention, which only the
-- owner may change).
CREATE FUNCTION agent_trace.maintain()
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.* FROM agent_trace._maintain(now()) AS m
$$;
COMMENT ON FUNCTION agent_trace.maintain() IS
    'Creates the daily partitions of yesterday to three days ahead (moving those days'' rows out of the default partitions) and applies agent_trace.retention: drops the partitions of expired days, deletes expired rows elsewhere, fixes the traces whose spans went; links the scores still waiting for the span of the model response they name. Returns one row per thing it did: created, dropped, deleted, refreshed, linked, or skipped (a lock not granted within 2 s, or another maintain() running; the next run tries again). Run by the ingest when it starts and every hour; schedule it with pg_cron where the ingest does not run (docs/retention.md). Example: SELECT * FROM agent_trace.maintain();';
REVOKE ALL ON FUNCTION agent_trace.maintain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.maintain() TO agent_trace_writer;
