-- Why the query tool must not run SQL as this login: a statement can say RESET ROLE or SET ROLE and
-- act as the login or as any role it is a member of, so the login and all of those must only read.
-- One reason per privilege that allows more: superuser, CREATEROLE, REPLICATION, membership of a
-- predefined role that reads or writes the server's files, runs programs, writes every table or
-- signals other sessions, of agent_trace_writer, or of the extension's owner. None: it may run.
SELECT coalesce(array_agg(why ORDER BY why), '{}') AS reasons
  FROM (SELECT format('%s is a superuser', r.rolname) AS why
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolsuper AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
        UNION ALL
        SELECT format('%s may create roles (CREATEROLE)', r.rolname)
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolcreaterole AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
        UNION ALL
        SELECT format('%s is a replication role', r.rolname)
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolreplication AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
        UNION ALL
        SELECT format('the login is a member of %s', r.rolname)
          FROM pg_catalog.pg_roles AS r
         WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files',
                             'pg_execute_server_program', 'pg_write_all_data', 'pg_signal_backend',
                             'agent_trace_writer')
           AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
        UNION ALL
        SELECT format('the login is a member of %s, the owner of the extension', r.rolname)
          FROM pg_catalog.pg_extension AS e
          JOIN pg_catalog.pg_roles AS r ON r.oid = e.extowner
         WHERE e.extname = 'agent_trace' AND pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')
       ) AS reasons
