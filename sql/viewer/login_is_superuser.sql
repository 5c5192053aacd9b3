-- Whether the viewer switches to agent_trace_reader: when its login is a superuser (which it must
-- not read as: a superuser bypasses row-level security and may run programs on the server) and may
-- (a superuser may be any role). Any other login reads as itself, with agent_trace_reader's
-- privileges if it is a member and the projects granted to it (row-level security).
SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = session_user
