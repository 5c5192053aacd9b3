-- After the 0.4.0 install script ran (see 0.3.1--0.4.0-before.sql): the data 0.3.1 held moves into
-- the new tables, every row in the default project.

-- 1. Summaries and prices are copied (as many rows as traces, and prices): agent_traces as it was.
--    (0.3.1 did not correct a trace's totals when its spans were deleted; if you deleted spans,
--    SELECT agent_trace.refresh_traces('-infinity', 'infinity') recomputes every trace.)
DO $copy$
DECLARE
    copied text;
    columns text;
BEGIN
    FOREACH copied IN ARRAY ARRAY['agent_traces', 'model_prices'] LOOP
        SELECT string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO columns
          FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid = pg_catalog.format('agent_trace_upgrade.%I', copied)::regclass
           AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '';
        -- agent_traces rows are the default project's (model_prices has no project).
        IF copied = 'agent_traces' THEN
            EXECUTE pg_catalog.format('INSERT INTO agent_trace.%1$I (%2$s, project_id) SELECT %2$s, 1 FROM agent_trace_upgrade.%1$I',
                                      copied, columns);
        ELSE
            EXECUTE pg_catalog.format('INSERT INTO agent_trace.%1$I (%2$s) SELECT %2$s FROM agent_trace_upgrade.%1$I',
                                      copied, columns);
        END IF;
        EXECUTE pg_catalog.format('DROP TABLE agent_trace_upgrade.%I', copied);
    END LOOP;
END
$copy$;

-- 2. Spans, their computed costs, log records and metric points stay where they are: each table
--    becomes the partition of its successor that holds every row before the day after its latest
--    row (or tomorrow), agent_trace_partitions.<table>_until_YYYYMMDD. The daily partitions that
--    maintain() makes start from there; retention drops this one once all of it has expired, and
--    deletes its expired rows before that. What 0.4.0 refuses is mended first: a negative token
--    count or cost becomes unknown (NULL), a span that ends before it starts ends when it starts.
--    Then one pass checks the new constraints, an index on the new key is built, and the table is
--    attached without another scan.
DO $attach$
DECLARE
    parent text;
    time_column text;
    key_name text;
    key_columns text;
    until timestamptz;
    checks text;
    mend text;
    partition_name text;
BEGIN
    FOR parent, time_column, key_name, key_columns, mend IN
        VALUES ('agent_spans', 'start_time', 'agent_spans_pkey', 'PRIMARY KEY (trace_id, span_id, start_time, project_id)',
                'input_tokens = CASE WHEN input_tokens >= 0 THEN input_tokens END, '
                'output_tokens = CASE WHEN output_tokens >= 0 THEN output_tokens END, '
                'cache_read_tokens = CASE WHEN cache_read_tokens >= 0 THEN cache_read_tokens END, '
                'cache_write_tokens = CASE WHEN cache_write_tokens >= 0 THEN cache_write_tokens END, '
                'reasoning_tokens = CASE WHEN reasoning_tokens >= 0 THEN reasoning_tokens END, '
                'cost_usd = CASE WHEN cost_usd >= 0 THEN cost_usd END, '
                'end_time = greatest(end_time, start_time) '
                'WHERE input_tokens < 0 OR output_tokens < 0 OR cache_read_tokens < 0 OR cache_write_tokens < 0 '
                'OR reasoning_tokens < 0 OR cost_usd < 0 OR end_time < start_time'),
               ('agent_span_costs', 'start_time', 'agent_span_costs_pkey', 'PRIMARY KEY (trace_id, span_id, start_time, project_id)', NULL),
               ('agent_logs', 'time', 'agent_logs_pkey', 'PRIMARY KEY (record_key, time, project_id)',
                'input_tokens = CASE WHEN input_tokens >= 0 THEN input_tokens END, '
                'output_tokens = CASE WHEN output_tokens >= 0 THEN output_tokens END, '
                'cache_read_tokens = CASE WHEN cache_read_tokens >= 0 THEN cache_read_tokens END, '
                'cache_write_tokens = CASE WHEN cache_write_tokens >= 0 THEN cache_write_tokens END, '
                'reasoning_tokens = CASE WHEN reasoning_tokens >= 0 THEN reasoning_tokens END, '
                'cost_usd = CASE WHEN cost_usd >= 0 THEN cost_usd END '
                'WHERE input_tokens < 0 OR output_tokens < 0 OR cache_read_tokens < 0 OR cache_write_tokens < 0 '
                'OR reasoning_tokens < 0 OR cost_usd < 0'),
               ('agent_metrics', 'time', 'agent_metrics_point_key', 'UNIQUE NULLS NOT DISTINCT (series_key, time, start_time, project_id)', NULL)
    LOOP
        IF mend IS NOT NULL THEN
            EXECUTE pg_catalog.format('UPDATE agent_trace_upgrade.%I SET %s', parent, mend);
        END IF;
        EXECUTE pg_catalog.format('SELECT max(%I) FROM agent_trace_upgrade.%I', time_column, parent) INTO until;
        until := greatest(pg_catalog.date_trunc('day', until, 'UTC'), pg_catalog.date_trunc('day', now(), 'UTC'))
                 + interval '1 day';
        -- The new table's CHECK constraints the old one lacks (by name), and the partition's range
        -- as one more, so that attaching needs no scan of its own.
        SELECT string_agg(pg_catalog.format('ADD CONSTRAINT %I %s', c.conname, pg_catalog.pg_get_constraintdef(c.oid)), ', ')
          INTO checks
          FROM pg_catalog.pg_constraint AS c
         WHERE c.conrelid = pg_catalog.format('agent_trace.%I', parent)::regclass AND c.contype = 'c'
           AND c.conname NOT IN (SELECT o.conname FROM pg_catalog.pg_constraint AS o
                                  WHERE o.conrelid = pg_catalog.format('agent_trace_upgrade.%I', parent)::regclass);
        EXECUTE pg_catalog.format(
            'ALTER TABLE agent_trace_upgrade.%1$I ADD COLUMN project_id integer NOT NULL DEFAULT 1, '
            'DROP CONSTRAINT %2$I, ADD CONSTRAINT %2$I %3$s, %4$s'
            'ADD CONSTRAINT agent_trace_upgrade_range CHECK (%5$I IS NOT NULL AND %5$I < %6$L)',
            parent, key_name, key_columns, coalesce(checks || ', ', ''), time_column, until);
        partition_name := parent || '_until_' || pg_catalog.to_char(until AT TIME ZONE 'UTC', 'YYYYMMDD');
        EXECUTE pg_catalog.format('ALTER TABLE agent_trace_upgrade.%I RENAME TO %I', parent, partition_name);
        EXECUTE pg_catalog.format('ALTER TABLE agent_trace_upgrade.%I SET SCHEMA agent_trace_partitions', partition_name);
        EXECUTE pg_catalog.format('ALTER TABLE agent_trace.%I ATTACH PARTITION agent_trace_partitions.%I FOR VALUES FROM (MINVALUE) TO (%L)',
                                  parent, partition_name, until);
        EXECUTE pg_catalog.format('ALTER TABLE agent_trace_partitions.%I DROP CONSTRAINT agent_trace_upgrade_range', partition_name);
    END LOOP;
END
$attach$;

-- 3. The AgentOS schemas again, each showing the default project (where every row now is). What
--    enable_agno_compat makes is yours, as when you run it: made by this script, it would belong to
--    the extension (and pg_dump would leave it out), so it is handed back.
DO $agno$
DECLARE
    schema_name text;
BEGIN
    FOR schema_name IN SELECT a.schema_name FROM agent_trace_upgrade.agno_schemas AS a LOOP
        PERFORM agent_trace.enable_agno_compat(schema_name);
        EXECUTE pg_catalog.format('ALTER EXTENSION agent_trace DROP TABLE %I.agno_traces', schema_name);
        EXECUTE pg_catalog.format('ALTER EXTENSION agent_trace DROP VIEW %I.agno_spans', schema_name);
    END LOOP;
END
$agno$;
DROP TABLE agent_trace_upgrade.agno_schemas;
DROP SCHEMA agent_trace_upgrade;
