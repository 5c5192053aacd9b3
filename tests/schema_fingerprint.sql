-- One line per fact about the installed agent_trace schema: every extension member, every column
-- (with its position, type, default, column privileges and comment), constraint, index, trigger, function body, type,
-- cast, comment and privilege, partitioning, row-level security and its policies, view options, and the tables
-- pg_dump keeps the rows of. Two databases hold the same schema exactly when this prints the same
-- lines. Used by tests/sql/schema.sql (golden output) and scripts/test-upgrade.sh (fresh vs upgraded).
WITH ext AS (
    SELECT oid FROM pg_extension WHERE extname = 'agent_trace'
), ns AS (
    SELECT oid FROM pg_namespace WHERE nspname = 'agent_trace'
), facts(fact) AS (
    SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
      FROM pg_depend AS d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
    UNION ALL
    SELECT format('relation %s kind=%s acl=%s rls=%s options=%s comment=%s', c.relname, c.relkind,
                  c.relacl, c.relrowsecurity, c.reloptions, obj_description(c.oid, 'pg_class'))
      FROM pg_class AS c, ns WHERE c.relnamespace = ns.oid
    UNION ALL
    SELECT format('partitioned %s %s', c.relname, pg_get_partkeydef(c.oid))
      FROM pg_class AS c, ns WHERE c.relnamespace = ns.oid AND c.relkind = 'p'
    UNION ALL
    SELECT format('policy %s.%s for=%s roles=%s permissive=%s using=%s check=%s', c.relname, pol.polname,
                  pol.polcmd, pol.polroles::regrole[], pol.polpermissive,
                  pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
      FROM pg_policy AS pol JOIN pg_class AS c ON c.oid = pol.polrelid JOIN ns ON c.relnamespace = ns.oid
    UNION ALL
    SELECT format('dumped %s %s', config.relid::regclass, config.condition)
      FROM ext, pg_extension AS e,
           unnest(e.extconfig, e.extcondition) AS config(relid, condition)
     WHERE e.oid = ext.oid
    UNION ALL
    SELECT format('column %s.%s #%s %s notnull=%s default=%s generated=%s acl=%s comment=%s',
                  c.relname, a.attname,
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum),
                  format_type(a.atttypid, a.atttypmod), a.attnotnull,
                  pg_get_expr(ad.adbin, ad.adrelid), nullif(a.attgenerated, ''), a.attacl,
                  col_description(c.oid, a.attnum))
      FROM pg_class AS c
      JOIN ns ON c.relnamespace = ns.oid
      JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef AS ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
     WHERE c.relkind IN ('r', 'p', 'v', 'm')
    UNION ALL
    SELECT format('constraint %s.%s %s', c.relname, con.conname, pg_get_constraintdef(con.oid))
      FROM pg_constraint AS con JOIN pg_class AS c ON c.oid = con.conrelid JOIN ns ON c.relnamespace = ns.oid
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
      FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid JOIN ns ON c.relnamespace = ns.oid
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM pg_trigger AS t JOIN pg_class AS c ON c.oid = t.tgrelid JOIN ns ON c.relnamespace = ns.oid
     WHERE NOT t.tgisinternal
    UNION ALL
    SELECT format('function %s acl=%s comment=%s definition=%s', p.oid::regprocedure, p.proacl,
                  obj_description(p.oid, 'pg_proc'), pg_get_functiondef(p.oid))
      FROM pg_proc AS p, ns WHERE p.pronamespace = ns.oid
    UNION ALL
    SELECT format('type %s len=%s byval=%s align=%s storage=%s in=%s out=%s recv=%s send=%s comment=%s',
                  t.typname, t.typlen, t.typbyval, t.typalign, t.typstorage, t.typinput, t.typoutput,
                  t.typreceive, t.typsend, obj_description(t.oid, 'pg_type'))
      FROM pg_type AS t, ns WHERE t.typnamespace = ns.oid AND t.typtype = 'b'
    UNION ALL
    SELECT format('cast %s -> %s context=%s method=%s', c.castsource::regtype, c.casttarget::regtype,
                  c.castcontext, c.castmethod)
      FROM pg_cast AS c, ns
     WHERE c.castsource IN (SELECT oid FROM pg_type WHERE typnamespace = ns.oid)
        OR c.casttarget IN (SELECT oid FROM pg_type WHERE typnamespace = ns.oid)
    UNION ALL
    SELECT format('schema %s acl=%s comment=%s', n.nspname, n.nspacl, obj_description(n.oid, 'pg_namespace'))
      FROM pg_namespace AS n, ns WHERE n.oid = ns.oid
)
SELECT fact FROM facts ORDER BY fact COLLATE "C";
