-- Before the 0.4.0 install script runs (scripts/draft-upgrade-script.py puts it between this and
-- 0.3.1--0.4.0-after.sql). 0.4.0 partitions agent_spans, agent_span_costs, agent_logs and
-- agent_metrics by day and gives every row a project: the tables that hold data are moved out of
-- the way (they become partitions of the new tables afterwards, without copying their rows), and
-- everything else 0.3.1 made is dropped so that the install script makes it again, exactly as a
-- fresh install does. Only the id types stay: the stored columns are of those types.

-- 1. Views and functions of your own that read agent_trace's tables would, after this, read the
--    tables 0.3.1 kept (or fail): say which, and change nothing.
DO $refuse$
DECLARE
    extension oid := (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'agent_trace');
    dependents text;
BEGIN
    WITH members AS (
        SELECT m.classid, m.objid FROM pg_catalog.pg_depend AS m
         WHERE m.refclassid = 'pg_catalog.pg_extension'::regclass AND m.refobjid = extension AND m.deptype = 'e'
    ), dependent AS (
        -- What depends on a table, view or function of agent_trace: a view (through its rule) or a
        -- function, named by the view or the function.
        SELECT coalesce(r.ev_class, d.objid) AS objid,
               CASE WHEN r.ev_class IS NOT NULL THEN 'pg_catalog.pg_class'::regclass ELSE d.classid END AS classid
          FROM pg_catalog.pg_depend AS d
          LEFT JOIN pg_catalog.pg_rewrite AS r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
         WHERE d.deptype = 'n'
           AND d.classid IN ('pg_catalog.pg_rewrite'::regclass, 'pg_catalog.pg_proc'::regclass)
           AND ((d.refclassid = 'pg_catalog.pg_class'::regclass
                 AND d.refobjid IN (SELECT c.oid FROM pg_catalog.pg_class AS c WHERE c.relnamespace = 'agent_trace'::regnamespace))
                OR (d.refclassid, d.refobjid) IN (SELECT m.classid, m.objid FROM members AS m))
    )
    SELECT string_agg(DISTINCT pg_catalog.pg_describe_object(x.classid, x.objid, 0), ', ')
      INTO dependents
      FROM dependent AS x
     WHERE (x.classid, x.objid) NOT IN (SELECT m.classid, m.objid FROM members AS m)
       -- AgentOS schemas' views are agent_trace's own (step 2 takes care of them).
       AND NOT (x.classid = 'pg_catalog.pg_class'::regclass
                AND x.objid IN (SELECT c.oid FROM pg_catalog.pg_class AS c WHERE c.relname = 'agno_spans'));
    IF dependents IS NOT NULL THEN
        RAISE EXCEPTION 'agent_trace 0.4.0 rebuilds what these depend on: %', dependents
            USING ERRCODE = 'dependent_objects_still_exist',
                  HINT = 'Save their definitions, drop them, run ALTER EXTENSION agent_trace UPDATE, and create them again.';
    END IF;
END
$refuse$;

-- 2. AgentOS schemas: remembered, and turned off (their copy and view are made again at the end,
--    showing the default project).
CREATE SCHEMA agent_trace_upgrade;
CREATE TABLE agent_trace_upgrade.agno_schemas AS
SELECT n.nspname AS schema_name
  FROM unnest(agent_trace._agno_compat_tables()) AS t(copy)
  JOIN pg_catalog.pg_class AS c ON c.oid = t.copy
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace;
SELECT agent_trace.disable_agno_compat(schema_name) FROM agent_trace_upgrade.agno_schemas;

-- 3. The tables with data leave the extension (and lose their triggers and privileges) into a
--    schema of their own until the install script has made their successors.
DO $move$
DECLARE
    moved text;
    trig record;
BEGIN
    FOREACH moved IN ARRAY ARRAY['agent_spans', 'agent_span_costs', 'agent_logs', 'agent_metrics',
                                 'agent_traces', 'model_prices'] LOOP
        EXECUTE pg_catalog.format('ALTER EXTENSION agent_trace DROP TABLE agent_trace.%I', moved);
        FOR trig IN SELECT t.tgname FROM pg_catalog.pg_trigger AS t
                     WHERE t.tgrelid = pg_catalog.format('agent_trace.%I', moved)::regclass AND NOT t.tgisinternal LOOP
            EXECUTE pg_catalog.format('DROP TRIGGER %I ON agent_trace.%I', trig.tgname, moved);
        END LOOP;
        EXECUTE pg_catalog.format('REVOKE ALL ON agent_trace.%I FROM agent_trace_reader, agent_trace_usage_reader, agent_trace_writer', moved);
        EXECUTE pg_catalog.format('ALTER TABLE agent_trace.%I SET SCHEMA agent_trace_upgrade', moved);
    END LOOP;
END
$move$;

-- 4. Everything else 0.3.1 made, but the id types (and their functions and casts): views, then
--    functions, then types, so that nothing is dropped before what depends on it.
DO $drop$
DECLARE
    extension oid := (SELECT e.oid FROM pg_catalog.pg_extension AS e WHERE e.extname = 'agent_trace');
    member record;
BEGIN
    FOR member IN SELECT c.oid::regclass AS name
                    FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_class AS c ON c.oid = d.objid
                   WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refobjid = extension
                     AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e' AND c.relkind = 'v'
                   ORDER BY c.oid DESC LOOP
        EXECUTE pg_catalog.format('DROP VIEW %s', member.name);
    END LOOP;
    FOR member IN SELECT p.oid::regprocedure AS name
                    FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_proc AS p ON p.oid = d.objid
                   WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.refobjid = extension
                     AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
                     AND p.proname NOT IN ('trace_id_in', 'trace_id_out', 'trace_id_recv', 'trace_id_send',
                                           'span_id_in', 'span_id_out', 'span_id_recv', 'span_id_send')
                   ORDER BY p.oid DESC LOOP
        EXECUTE pg_catalog.format('DROP FUNCTION %s', member.name);
    END LOOP;
    FOR member IN SELECT t.oid::regtype AS name
                    FROM pg_catalog.pg_depend AS d JOIN pg_catalog.pg_type AS t ON t.oid = d.objid
                   WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.refobjid = extension
                     AND d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
                     AND t.typname NOT IN ('trace_id', 'span_id')
                   ORDER BY t.oid DESC LOOP
        EXECUTE pg_catalog.format('DROP TYPE %s', member.name);
    END LOOP;
END
$drop$;
