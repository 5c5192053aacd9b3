-- Whether the login role may act as agent_trace_reader (it is a member, or a superuser).
SELECT pg_catalog.pg_has_role(session_user, 'agent_trace_reader', 'MEMBER')
