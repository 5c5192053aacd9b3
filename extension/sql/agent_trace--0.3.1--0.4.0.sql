-- agent_trace 0.3.1 -> 0.4.0: projects (a project on every row, row-level security, ingest
-- tokens, redaction), daily partitions with maintenance and retention, rollups exact under
-- deletes, erasure. The tables with data become partitions of their successors without their
-- rows being copied; everything else is made again by the 0.4.0 install script, so an upgraded
-- database is a fresh install plus the data.
-- Drafted by scripts/draft-upgrade-script.py: extension/sql/upgrade/0.3.1--0.4.0-before.sql,
-- the 0.4.0 install script after roles.sql, extension/sql/upgrade/0.3.1--0.4.0-after.sql;
-- scripts/test-upgrade.sh checks that upgrading gives exactly a fresh 0.4.0 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.4.0'" to load this file. \quit

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

-- requires:
--   roles

-- Projects: the unit of ownership. Every stored row (spans, traces, span costs, log records, metric
-- points) carries its project_id, and row-level security (access.sql) lets a role see, and write,
-- only the rows of the projects granted to it:
--
--   SELECT agent_trace.create_project('acme');
--   SELECT agent_trace.grant_project('acme', 'acme_dashboards', 'read');
--   SELECT agent_trace.create_ingest_token('acme', 'acme agents');   -- the token, shown once
--
-- Project 1, 'default', holds what arrives without a project: spans sent with the ingest's file
-- tokens (--token, --token-file) or without a token, and rows inserted by SQL without a project_id.
-- It is granted to the three agent_trace roles, so their members read (and writers write) it as they
-- did before projects existed; a new project is granted to no one until grant_project says so.
--
-- Grants name roles, and membership counts: grant a project to a group role and every member of it
-- sees the project. Superusers and the extension's owner bypass row-level security and see all.
--
-- Ingest tokens belong to a project: a span sent with a project's token is stored in that project,
-- whatever ids it carries, so it can never change another project's trace. Only the SHA-256 of a
-- token is stored; create_ingest_token shows the token once. The ingest reads the digests through
-- _ingest_tokens() every few seconds, so a revoked token stops working within that time.
--
-- Optional, per session: SET agent_trace.project = 'acme' narrows everything the session reads to
-- that one project (among those it may read), for a dashboard or a trace id used in two projects.

CREATE TABLE agent_trace.projects (
    project_id  integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE
                    CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    redaction   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(redaction) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO agent_trace.projects (project_id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'default');
SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence('agent_trace.projects', 'project_id'), 1);
COMMENT ON TABLE agent_trace.projects IS
    'Projects: every stored row carries its project_id, and a role sees the rows of the projects granted to it (project_grants). Project 1, default, holds what arrives without a project. Create with agent_trace.create_project(name).';
COMMENT ON COLUMN agent_trace.projects.project_id IS 'The id every row of the project carries.';
COMMENT ON COLUMN agent_trace.projects.name IS 'The project''s name: lower-case letters, digits, _ . -, at most 63 characters.';
COMMENT ON COLUMN agent_trace.projects.redaction IS 'How the ingest redacts this project''s content, overriding the server''s settings: {"content": "keep" | "drop" | "hash", "keys": [extra attribute key patterns]} (docs/access.md).';
COMMENT ON COLUMN agent_trace.projects.created_at IS 'When the project was created.';

CREATE TABLE agent_trace.project_grants (
    project_id  integer NOT NULL REFERENCES agent_trace.projects ON DELETE CASCADE,
    grantee     regrole NOT NULL,
    access      text NOT NULL CHECK (access IN ('read', 'write')),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (project_id, grantee, access)
);
COMMENT ON TABLE agent_trace.project_grants IS
    'Which roles may read or write which project''s rows (row-level security). A grant to a role counts for its members. Change with agent_trace.grant_project and revoke_project.';
COMMENT ON COLUMN agent_trace.project_grants.project_id IS 'The project.';
COMMENT ON COLUMN agent_trace.project_grants.grantee IS 'The role granted (and so its members).';
COMMENT ON COLUMN agent_trace.project_grants.access IS 'read: select the project''s rows; write: insert rows into it.';
COMMENT ON COLUMN agent_trace.project_grants.granted_at IS 'When the grant was made.';

INSERT INTO agent_trace.project_grants (project_id, grantee, access) VALUES
    (1, 'agent_trace_reader', 'read'),
    (1, 'agent_trace_usage_reader', 'read'),
    (1, 'agent_trace_writer', 'write');

CREATE TABLE agent_trace.ingest_tokens (
    token_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id    integer NOT NULL REFERENCES agent_trace.projects ON DELETE CASCADE,
    name          text NOT NULL,
    token_sha256  bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
COMMENT ON TABLE agent_trace.ingest_tokens IS
    'Bearer tokens of the ingest, each belonging to one project: what a client sends with one is stored in that project. Only the SHA-256 of a token is kept. Create with agent_trace.create_ingest_token, revoke with revoke_ingest_token.';
COMMENT ON COLUMN agent_trace.ingest_tokens.token_id IS 'The token''s number.';
COMMENT ON COLUMN agent_trace.ingest_tokens.project_id IS 'The project what is sent with the token is stored in.';
COMMENT ON COLUMN agent_trace.ingest_tokens.name IS 'What the token is for, e.g. the service or person holding it.';
COMMENT ON COLUMN agent_trace.ingest_tokens.token_sha256 IS 'SHA-256 of the token; the token itself is not stored.';
COMMENT ON COLUMN agent_trace.ingest_tokens.created_at IS 'When the token was created.';
COMMENT ON COLUMN agent_trace.ingest_tokens.revoked_at IS 'When the token was revoked; NULL while it is valid.';

-- The projects a role may read (or write): granted to it or to a role it is a member of. The
-- policies pass current_user, as they see it; the function answers only for a role the session's
-- login is a member of (SET ROLE keeps that true), so it tells nobody another role's projects.
-- SECURITY DEFINER: the grants are not the caller's to read. The policies call it once per
-- statement (an InitPlan), not once per row.
CREATE FUNCTION agent_trace._projects_granted(access text, role name) RETURNS integer[]
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
               WHEN NOT pg_has_role(session_user, _projects_granted.role, 'MEMBER') THEN '{}'
               -- A role that bypasses row-level security reads (and writes) every project.
               WHEN (SELECT r.rolsuper OR r.rolbypassrls FROM pg_catalog.pg_roles AS r
                      WHERE r.rolname = _projects_granted.role)
                   THEN (SELECT coalesce(array_agg(p.project_id ORDER BY p.project_id), '{}')
                           FROM agent_trace.projects AS p)
               ELSE coalesce(array_agg(DISTINCT g.project_id ORDER BY g.project_id), '{}')
           END
      FROM agent_trace.project_grants AS g
      -- A grant to a role dropped since counts for nobody (roles belong to the cluster, and
      -- DROP ROLE cannot see this table).
      JOIN pg_catalog.pg_roles AS r ON r.oid = g.grantee
     WHERE g.access = _projects_granted.access
       AND pg_has_role(_projects_granted.role, g.grantee::oid, 'MEMBER')
       AND (_projects_granted.access = 'write'
            OR coalesce(current_setting('agent_trace.project', true), '') = ''
            OR g.project_id = (SELECT p.project_id FROM agent_trace.projects AS p
                                WHERE p.name = current_setting('agent_trace.project', true)))
$$;
COMMENT ON FUNCTION agent_trace._projects_granted(text, name) IS
    'The ids of the projects role may read (access read) or write (access write), through its grants and those of the roles it is a member of, if the session''s login is a member of role; reading is narrowed to the project named by the agent_trace.project setting, if set. Internal: the row-level security policies call it with current_user.';

CREATE FUNCTION agent_trace._readable_projects(role name) RETURNS TABLE (project_id integer, name text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.project_id, p.name
      FROM agent_trace.projects AS p
     WHERE p.project_id = ANY (agent_trace._projects_granted('read', role))
     ORDER BY p.project_id
$$;
COMMENT ON FUNCTION agent_trace._readable_projects(name) IS
    'The projects role may read, with their names, if the session''s login is a member of role. Internal: readable_projects() asks it for current_user.';

CREATE FUNCTION agent_trace.readable_projects() RETURNS TABLE (project_id integer, name text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM agent_trace._readable_projects(current_user)
$$;
COMMENT ON FUNCTION agent_trace.readable_projects() IS
    'The projects whose rows the current role may read (all of them for a role that bypasses row-level security), narrowed by agent_trace.project if it is set.';

CREATE FUNCTION agent_trace._project_id(project text) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id integer;
BEGIN
    SELECT p.project_id INTO id FROM agent_trace.projects AS p WHERE p.name = project;
    IF id IS NULL THEN
        RAISE EXCEPTION 'no project named %', coalesce(quote_literal(project), 'NULL')
            USING ERRCODE = 'undefined_object',
                  HINT = 'SELECT name FROM agent_trace.projects lists them; agent_trace.create_project(name) makes one.';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION agent_trace._project_id(text) IS 'The id of the project named project; an error (42704) if there is none. Internal.';

CREATE FUNCTION agent_trace.create_project(name text) RETURNS integer
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO agent_trace.projects (name) VALUES (create_project.name) RETURNING project_id
$$;
COMMENT ON FUNCTION agent_trace.create_project(text) IS
    'Creates a project and returns its id. Nobody may read or write it until agent_trace.grant_project says so.';

CREATE FUNCTION agent_trace.grant_project(project text, grantee regrole, access text DEFAULT 'read')
    RETURNS void
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO agent_trace.project_grants (project_id, grantee, access)
    VALUES (agent_trace._project_id(project), grantee, access)
    ON CONFLICT DO NOTHING
$$;
COMMENT ON FUNCTION agent_trace.grant_project(text, regrole, text) IS
    'Lets grantee (and its members) read (access read) or write (access write) the rows of the project. The role still needs the privileges of agent_trace_reader, agent_trace_usage_reader or agent_trace_writer.';

CREATE FUNCTION agent_trace.revoke_project(project text, grantee regrole, access text DEFAULT 'read')
    RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH revoked AS (
        DELETE FROM agent_trace.project_grants AS g
         WHERE g.project_id = agent_trace._project_id(project) AND g.grantee = revoke_project.grantee
           AND g.access = revoke_project.access
        RETURNING 1)
    SELECT count(*) > 0 FROM revoked
$$;
COMMENT ON FUNCTION agent_trace.revoke_project(text, regrole, text) IS
    'Takes back a grant of agent_trace.grant_project; true if there was one.';

CREATE FUNCTION agent_trace.create_ingest_token(project text, name text) RETURNS text
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- 32 random bytes from the server's strong random source (gen_random_uuid), as 64 hex digits.
    token text := 'at_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
BEGIN
    IF coalesce(btrim(name), '') = '' THEN
        RAISE EXCEPTION 'a token needs a name saying what it is for' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO agent_trace.ingest_tokens (project_id, name, token_sha256)
    VALUES (agent_trace._project_id(project), name, sha256(convert_to(token, 'UTF8')));
    RETURN token;
END
$$;
COMMENT ON FUNCTION agent_trace.create_ingest_token(text, text) IS
    'Creates an ingest token of the project and returns it: the only time it is shown (only its SHA-256 is stored). Clients send it as Authorization: Bearer TOKEN; what they send is stored in the project.';

CREATE FUNCTION agent_trace.revoke_ingest_token(token_id integer) RETURNS boolean
    LANGUAGE sql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH revoked AS (
        UPDATE agent_trace.ingest_tokens AS t SET revoked_at = now()
         WHERE t.token_id = revoke_ingest_token.token_id AND t.revoked_at IS NULL
        RETURNING 1)
    SELECT count(*) > 0 FROM revoked
$$;
COMMENT ON FUNCTION agent_trace.revoke_ingest_token(integer) IS
    'Revokes an ingest token (by token_id, as agent_trace.ingest_tokens lists them); true if it was valid. The ingest stops accepting it within seconds.';

-- What the ingest needs to know of the tokens and projects, and nothing more: no token names, no
-- grants. The ingest's login (agent_trace_writer) may call this and nothing else here.
CREATE FUNCTION agent_trace._ingest_tokens() RETURNS TABLE (token_sha256 bytea, project_id integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT t.token_sha256, t.project_id FROM agent_trace.ingest_tokens AS t WHERE t.revoked_at IS NULL
$$;
COMMENT ON FUNCTION agent_trace._ingest_tokens() IS
    'The SHA-256 of every valid ingest token and its project: what the ingest reads every few seconds. Internal.';

CREATE FUNCTION agent_trace._project_redaction() RETURNS TABLE (project_id integer, redaction jsonb)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT p.project_id, p.redaction FROM agent_trace.projects AS p WHERE p.redaction <> '{}'
$$;
COMMENT ON FUNCTION agent_trace._project_redaction() IS
    'The redaction settings of the projects that have their own: what the ingest reads every few seconds. Internal.';

REVOKE ALL ON FUNCTION agent_trace._projects_granted(text, name), agent_trace._project_id(text),
    agent_trace.create_project(text), agent_trace.grant_project(text, regrole, text),
    agent_trace.revoke_project(text, regrole, text), agent_trace.create_ingest_token(text, text),
    agent_trace.revoke_ingest_token(integer), agent_trace._ingest_tokens(),
    agent_trace._project_redaction(), agent_trace.readable_projects(),
    agent_trace._readable_projects(name) FROM PUBLIC;
-- Every role the policies apply to calls _projects_granted through them.
GRANT EXECUTE ON FUNCTION agent_trace._projects_granted(text, name)
    TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;
GRANT EXECUTE ON FUNCTION agent_trace.readable_projects(), agent_trace._readable_projects(name)
    TO agent_trace_reader, agent_trace_usage_reader;
GRANT EXECUTE ON FUNCTION agent_trace._ingest_tokens(), agent_trace._project_redaction() TO agent_trace_writer;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   projects

-- The two tables users query: one row per span, one row per trace.
--
-- Column names follow Agno's agno_spans/agno_traces where they overlap, so people coming from Agno
-- (or Phoenix, Langfuse) recognise them; times are timestamptz and ids are the compact hex-printing
-- types from ids.sql. Every table and column carries a COMMENT: BI tools show them as descriptions.
--
-- Every row carries its project (projects.sql): a span sent to project B is stored in B even with
-- the ids of a span of project A, so the keys hold project_id too, and no write to one project can
-- change another's trace.
--
-- Keys: every unique key starts with trace_id, and agent_spans' key also holds start_time. That is
-- what the two ways of scaling out need:
--   * Citus distributes by a column every unique key contains: `create_distributed_table(..., 'trace_id')`
--     keeps all spans of a trace, and its agent_traces row, on one node.
--   * Native partitioning needs the partition column in every unique key: agent_spans is partitioned
--     BY RANGE (start_time), one partition per UTC day (partitions.sql). A retried span carries the
--     same start time, so it lands in the same partition and the key still stores it once.
--
-- A span ends no earlier than it starts (the ingest makes an earlier end the start). So every span
-- of a trace starts within [agent_traces.start_time, agent_traces.end_time], and reading one trace
-- needs only the partitions of those days.

CREATE TABLE agent_trace.agent_spans (
    trace_id            agent_trace.trace_id NOT NULL,
    span_id             agent_trace.span_id NOT NULL,
    parent_span_id      agent_trace.span_id,
    start_time          timestamptz NOT NULL,
    end_time            timestamptz NOT NULL,
    duration_ms         double precision GENERATED ALWAYS AS
                            (EXTRACT(epoch FROM end_time - start_time)::double precision * 1000) STORED,
    name                text NOT NULL,
    span_kind           text NOT NULL DEFAULT 'INTERNAL'
                            CHECK (span_kind IN ('UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER')),
    span_type           text NOT NULL DEFAULT 'other'
                            CHECK (span_type IN ('agent', 'llm', 'tool', 'retriever', 'embedding', 'reranker',
                                                 'chain', 'workflow', 'guardrail', 'evaluator', 'prompt',
                                                 'hook', 'team', 'other')),
    status_code         text NOT NULL DEFAULT 'UNSET' CHECK (status_code IN ('UNSET', 'OK', 'ERROR')),
    status_message      text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    model               text,
    provider            text,
    input_tokens        bigint CHECK (input_tokens >= 0),
    output_tokens       bigint CHECK (output_tokens >= 0),
    cache_read_tokens   bigint CHECK (cache_read_tokens >= 0),
    cache_write_tokens  bigint CHECK (cache_write_tokens >= 0),
    reasoning_tokens    bigint CHECK (reasoning_tokens >= 0),
    cost_usd            numeric CHECK (cost_usd >= 0),
    tool_name           text,
    agent_name          text,
    agent_id            text,
    session_id          text,
    user_id             text,
    run_id              text,
    team_id             text,
    workflow_id         text,
    correlation_id      text,
    input               text,
    output              text,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    events              jsonb NOT NULL DEFAULT '[]',
    links               jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    project_id          integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_spans_pkey PRIMARY KEY (trace_id, span_id, start_time, project_id),
    CONSTRAINT agent_spans_end_after_start CHECK (end_time >= start_time)
) PARTITION BY RANGE (start_time);

-- One trace's spans come from the primary key (its leading column is trace_id). These cover the
-- other first questions: a span's children, and spans in a time range (BRIN: tiny, and spans
-- arrive roughly in time order).
CREATE INDEX agent_spans_parent_idx ON agent_trace.agent_spans (trace_id, parent_span_id);
CREATE INDEX agent_spans_start_time_brin ON agent_trace.agent_spans USING brin (start_time);

COMMENT ON TABLE agent_trace.agent_spans IS
    'One row per span: a unit of work in an agent run (an LLM call, a tool call, an agent step, ...). Spans of one run share a trace_id; parent_span_id links a span to the span that started it. Written once, never updated; a re-sent span (same trace_id, span_id, start_time, project_id) is ignored. Token counts and costs are never negative, and a span never ends before it starts. Stored in one partition per UTC day of start_time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_spans.trace_id IS 'Id of the run this span belongs to, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_spans.project_id IS 'The project the span belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_spans.span_id IS 'Id of this span, as 16 hex digits (the OpenTelemetry span id).';
COMMENT ON COLUMN agent_trace.agent_spans.parent_span_id IS 'span_id of the span that started this one; NULL for the root span of a trace.';
COMMENT ON COLUMN agent_trace.agent_spans.start_time IS 'When the span started.';
COMMENT ON COLUMN agent_trace.agent_spans.end_time IS 'When the span ended: never before start_time.';
COMMENT ON COLUMN agent_trace.agent_spans.duration_ms IS 'end_time - start_time in milliseconds (computed).';
COMMENT ON COLUMN agent_trace.agent_spans.input_tokens IS 'Prompt tokens of this LLM call, including cached ones. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.output_tokens IS 'Completion tokens of this LLM call, including reasoning tokens. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.cache_read_tokens IS 'Input tokens served from the provider''s prompt cache (a part of input_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.cache_write_tokens IS 'Input tokens written to the provider''s prompt cache (a part of input_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.reasoning_tokens IS 'Output tokens spent on reasoning (a part of output_tokens). NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.created_at IS 'When this row was stored.';
COMMENT ON COLUMN agent_trace.agent_spans.cost_usd IS 'Cost of this span in US dollars as reported by the client. NULL when not reported.';
COMMENT ON COLUMN agent_trace.agent_spans.name IS 'Span name given by the instrumentation, e.g. "chat gpt-4o" or "execute_tool get_weather".';
COMMENT ON COLUMN agent_trace.agent_spans.span_kind IS 'OpenTelemetry span kind: INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED.';
COMMENT ON COLUMN agent_trace.agent_spans.span_type IS 'What the span does for the agent: agent, llm, tool, retriever, embedding, reranker, chain, workflow, guardrail, evaluator, prompt, hook, team or other.';
COMMENT ON COLUMN agent_trace.agent_spans.status_code IS 'OpenTelemetry status: OK, ERROR, or UNSET (nothing reported).';
COMMENT ON COLUMN agent_trace.agent_spans.status_message IS 'Error description that came with status ERROR.';
COMMENT ON COLUMN agent_trace.agent_spans.service_name IS 'Name of the application that sent the span (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_spans.scope_name IS 'Instrumentation library that created the span.';
COMMENT ON COLUMN agent_trace.agent_spans.scope_version IS 'Version of the instrumentation library.';
COMMENT ON COLUMN agent_trace.agent_spans.model IS 'Model name of an LLM or embedding call, e.g. "gpt-4o" (the requested model, else the responding one).';
COMMENT ON COLUMN agent_trace.agent_spans.provider IS 'Model provider, e.g. "openai", "anthropic".';
COMMENT ON COLUMN agent_trace.agent_spans.tool_name IS 'Name of the tool a tool span executed.';
COMMENT ON COLUMN agent_trace.agent_spans.agent_name IS 'Name of the agent this span belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.agent_id IS 'Id of the agent this span belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.session_id IS 'Conversation or session the run is part of.';
COMMENT ON COLUMN agent_trace.agent_spans.user_id IS 'End user the run was for.';
COMMENT ON COLUMN agent_trace.agent_spans.run_id IS 'Framework run id (e.g. Agno run_id), when it differs from the trace.';
COMMENT ON COLUMN agent_trace.agent_spans.team_id IS 'Team of agents the run belongs to (e.g. Agno team).';
COMMENT ON COLUMN agent_trace.agent_spans.workflow_id IS 'Workflow the run belongs to.';
COMMENT ON COLUMN agent_trace.agent_spans.correlation_id IS 'Caller-supplied id that ties the run to something outside it (a request, a ticket).';
COMMENT ON COLUMN agent_trace.agent_spans.input IS 'Full input of the step: the prompt or messages of an LLM call, the arguments of a tool call.';
COMMENT ON COLUMN agent_trace.agent_spans.output IS 'Full output of the step: the completion of an LLM call, the result of a tool call.';
COMMENT ON COLUMN agent_trace.agent_spans.attributes IS 'All span attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_spans.resource_attributes IS 'Attributes of the sending process (service.name, host, SDK version, ...) as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_spans.events IS 'Timestamped events of the span (exceptions, messages) as a JSON array of {name, time, attributes}.';
COMMENT ON COLUMN agent_trace.agent_spans.links IS 'Links to other spans as a JSON array of {trace_id, span_id, attributes}.';

CREATE TABLE agent_trace.agent_traces (
    trace_id            agent_trace.trace_id NOT NULL,
    name                text,
    status              text GENERATED ALWAYS AS (CASE WHEN error_count > 0 THEN 'ERROR' ELSE 'OK' END) STORED,
    start_time          timestamptz NOT NULL,
    end_time            timestamptz NOT NULL,
    duration_ms         double precision GENERATED ALWAYS AS
                            (EXTRACT(epoch FROM end_time - start_time)::double precision * 1000) STORED,
    span_count          integer NOT NULL,
    error_count         integer NOT NULL,
    llm_call_count      integer NOT NULL,
    tool_call_count     integer NOT NULL,
    input_tokens        bigint,
    output_tokens       bigint,
    cache_read_tokens   bigint,
    cache_write_tokens  bigint,
    reasoning_tokens    bigint,
    cost_usd            numeric,
    service_name        text,
    session_id          text,
    user_id             text,
    agent_name          text,
    agent_id            text,
    run_id              text,
    team_id             text,
    workflow_id         text,
    correlation_id      text,
    input               text,
    output              text,
    root_span_id        agent_trace.span_id,
    root_start_time     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    computed_cost_usd   numeric,
    project_id          integer NOT NULL,
    CONSTRAINT agent_traces_pkey PRIMARY KEY (trace_id, project_id)
);

-- The questions users ask of traces first: the latest ones, and those of one session, user or
-- agent. The ids are text as clients send it, of any length: a btree refuses an entry over 2,704
-- bytes (and with it the whole insert of the spans that made it), so they get hash indexes, which
-- store a 4-byte hash of any value and serve `WHERE session_id = '...'`; NULLs are not indexed.
-- A time range within a session is filtered after the equality (or combined with the start_time
-- index).
CREATE INDEX agent_traces_start_time_idx ON agent_trace.agent_traces (start_time DESC);
CREATE INDEX agent_traces_session_idx ON agent_trace.agent_traces USING hash (session_id);
CREATE INDEX agent_traces_user_idx ON agent_trace.agent_traces USING hash (user_id);
CREATE INDEX agent_traces_agent_idx ON agent_trace.agent_traces USING hash (agent_name);

COMMENT ON TABLE agent_trace.agent_traces IS
    'One row per trace (an agent run), summarising the spans stored for it. Maintained by the database itself as spans are inserted (in any order and in any number of batches), deleted (directly, by retention, by agent_trace.erase) or updated: always equal to an aggregation of the trace''s spans as they are now. Do not write it directly.';
COMMENT ON COLUMN agent_trace.agent_traces.trace_id IS 'Id of the run, as 32 hex digits (the OpenTelemetry trace id).';
COMMENT ON COLUMN agent_trace.agent_traces.project_id IS 'The project of the trace''s spans (a trace id sent to two projects is two traces).';
COMMENT ON COLUMN agent_trace.agent_traces.root_span_id IS 'span_id of the root span (the span without a parent; if several, the earliest). NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.start_time IS 'Start of the trace''s earliest span.';
COMMENT ON COLUMN agent_trace.agent_traces.end_time IS 'End of the trace''s latest-ending span. Every span of the trace starts between start_time and end_time.';
COMMENT ON COLUMN agent_trace.agent_traces.duration_ms IS 'end_time - start_time in milliseconds (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.root_start_time IS 'start_time of the root span; decides which span is the root when several have no parent.';
COMMENT ON COLUMN agent_trace.agent_traces.span_count IS 'Number of the trace''s spans.';
COMMENT ON COLUMN agent_trace.agent_traces.error_count IS 'Number of spans with status ERROR.';
COMMENT ON COLUMN agent_trace.agent_traces.llm_call_count IS 'Number of spans of span_type llm.';
COMMENT ON COLUMN agent_trace.agent_traces.tool_call_count IS 'Number of spans of span_type tool.';
COMMENT ON COLUMN agent_trace.agent_traces.input_tokens IS 'Sum of input_tokens over the LLM and embedding spans (wrapper spans that repeat their children''s usage are not counted again). NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.output_tokens IS 'Sum of output_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_read_tokens IS 'Sum of cache_read_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.cache_write_tokens IS 'Sum of cache_write_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.reasoning_tokens IS 'Sum of reasoning_tokens over the LLM and embedding spans. NULL when none was reported. Saturates at 9223372036854775807 (bigint''s greatest value) rather than refuse a span whose absurd count would overflow it.';
COMMENT ON COLUMN agent_trace.agent_traces.created_at IS 'When the first span of this trace was stored.';
COMMENT ON COLUMN agent_trace.agent_traces.updated_at IS 'When spans of this trace were last stored or removed.';
COMMENT ON COLUMN agent_trace.agent_traces.cost_usd IS 'Sum of cost_usd over the LLM and embedding spans, in US dollars. NULL when none was reported.';
COMMENT ON COLUMN agent_trace.agent_traces.status IS 'ERROR if any span has status ERROR, else OK (computed).';
COMMENT ON COLUMN agent_trace.agent_traces.name IS 'Name of the root span. NULL until the root span arrives.';
COMMENT ON COLUMN agent_trace.agent_traces.service_name IS 'service_name of the root span (until it arrives: the smallest service_name seen).';
COMMENT ON COLUMN agent_trace.agent_traces.session_id IS 'Session of the run (the smallest session_id among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.user_id IS 'End user of the run (the smallest user_id among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE user_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_name IS 'Agent of the run (the smallest agent_name among its spans, if they differ). Indexed by hash, so values of any length are stored and WHERE agent_name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_traces.agent_id IS 'Agent id of the run (the smallest agent_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.run_id IS 'Framework run id (the smallest run_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.team_id IS 'Team of the run (the smallest team_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.workflow_id IS 'Workflow of the run (the smallest workflow_id among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.correlation_id IS 'Caller-supplied correlation id (the smallest among its spans, if they differ).';
COMMENT ON COLUMN agent_trace.agent_traces.input IS 'First 500 characters of the root span''s input.';
COMMENT ON COLUMN agent_trace.agent_traces.output IS 'First 500 characters of the root span''s output.';
COMMENT ON COLUMN agent_trace.agent_traces.computed_cost_usd IS 'Sum of the computed cost of the LLM and embedding spans that reported tokens but no cost_usd, in US dollars, from agent_trace.model_prices (one row per span in agent_span_costs). NULL when no such span could be priced. Each span counts in cost_usd or here, never both: cost_usd + computed_cost_usd is the cost of the run as far as it is known.';
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   tables

-- agent_traces is maintained by the database, not by whoever writes spans, and always equals an
-- aggregation of the spans stored now (docs/rollups.md compares the ways to do that, measured).
--
-- Inserts fold in. An AFTER INSERT statement trigger on agent_spans folds the rows that statement
-- actually inserted (its transition table) into agent_traces. Rows that `INSERT ... ON CONFLICT DO
-- NOTHING` skipped are not in the transition table, so a re-sent span never counts twice. Every fold
-- is order-free (sums, counts, least/greatest, "the earliest root wins"), so spans arriving in any
-- order and in any batches give the same agent_traces row. Folding costs a batch's own rows, not its
-- traces' earlier spans: a long trace that grows batch by batch costs no more per span.
--
-- Deletes and updates recompute. A sum can take a span away, but a least() or "the earliest root"
-- cannot: after a delete, the trace's row is recomputed from the spans that remain
-- (_refresh_traces), by AFTER DELETE and AFTER UPDATE statement triggers, by retention when it
-- drops partitions, and by agent_trace.refresh_traces on request. TRUNCATE empties agent_traces and
-- agent_span_costs with it.
--
-- Token and cost totals add up only LLM and embedding spans: agent and chain spans often repeat the
-- usage of the LLM calls beneath them, and summing those too would count it twice.
--
-- Token totals are bigint, like the span columns they add up, and saturate: a total past bigint's
-- range stays at its end (9223372036854775807) instead of failing the insert. Only spans reporting
-- absurd counts get there, and refusing every later span of their trace would lose real data.
-- Costs are numeric and cannot overflow.
--
-- A trace is a (trace_id, project_id): spans of two projects never fold into one row.
--
-- Concurrency. Every writer of agent_traces takes its rows in (trace_id, project_id) order, in one
-- statement (the fold's upsert, the recompute's insert-or-lock), so concurrent writers cannot
-- deadlock on them. The recompute reads the spans only after it holds the rows it rewrites: a fold
-- that committed first is in what it reads, and one still waiting adds its spans on top afterwards.
--
-- The same statement prices the new LLM and embedding spans that report tokens and a model but no
-- cost (prices.sql): one agent_trace.price_for lookup and one _costs_at_price call per (model,
-- provider, UTC day) of the batch, not per span; one narrow agent_span_costs row per span it could
-- price; their sum folded into agent_traces.computed_cost_usd in the same upsert. agent_spans gets no
-- row trigger, so COPY keeps inserting in batches. price_for, _costs_at_price and agent_span_costs
-- are created by prices.sql, after this file; PL/pgSQL resolves them when the trigger first runs.
--
-- Privileges: the trigger functions are SECURITY DEFINER, so they write agent_traces and
-- agent_span_costs (and read model_prices) with the rights of the extension's owner, and the
-- inserting role needs none of them: agent_trace_writer may insert spans and nothing else, and
-- cannot rewrite a trace's totals. It is safe to run with those rights because their search_path is
-- pinned (pg_temp last: a caller's temporary objects can shadow nothing), they run no dynamic SQL,
-- nobody else may EXECUTE them (so no one can attach them to a table of their own and feed them
-- made-up rows), and they refuse to run as anything but this table's statement triggers.

-- Inlined into the queries that call it (a plain SQL expression: no STRICT, no SET clause), so it
-- costs what the expression costs: called as a function it took more time than the rest of the
-- fold. Nothing in it depends on search_path.
CREATE FUNCTION agent_trace._saturate_bigint(value numeric) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN value IS NULL THEN NULL
                ELSE least(greatest(value, -9223372036854775808), 9223372036854775807) END::bigint
$$;
COMMENT ON FUNCTION agent_trace._saturate_bigint(numeric) IS
    'The bigint nearest to value: value itself, or bigint''s least or greatest value when it lies outside; NULL for NULL. How agent_traces keeps token totals that would overflow. Internal.';
REVOKE ALL ON FUNCTION agent_trace._saturate_bigint(numeric) FROM PUBLIC;

CREATE FUNCTION agent_trace._fold_inserted_spans() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_spans'::regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._fold_inserted_spans runs only as the AFTER INSERT statement trigger of agent_trace.agent_spans'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    WITH batches AS (
        -- The new LLM and embedding spans to price, one row per (model, provider, UTC day): one
        -- price lookup and one cost computation each. The array_aggs of one group see the same rows
        -- in the same order, so their elements line up.
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM new_spans AS s
         WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), costed AS (
        -- ON CONFLICT: a row left behind by a span that was deleted and is now stored again.
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
               computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
        SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
               p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, project_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
         ORDER BY u.trace_id, u.span_id, u.start_time, u.project_id
            ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = now()
        RETURNING c.trace_id, c.project_id, c.computed_cost_usd
    ), computed_per_trace AS (
        SELECT c.trace_id, c.project_id, sum(c.computed_cost_usd) AS computed_cost_usd
          FROM costed AS c
         GROUP BY c.trace_id, c.project_id
    ), per_trace AS (
        SELECT s.trace_id, s.project_id,
               min(s.start_time) AS start_time,
               max(s.end_time) AS end_time,
               count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm') AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool') AS tool_call_count,
               agent_trace._saturate_bigint(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS input_tokens,
               agent_trace._saturate_bigint(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS output_tokens,
               agent_trace._saturate_bigint(sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_read_tokens,
               agent_trace._saturate_bigint(sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_write_tokens,
               agent_trace._saturate_bigint(sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS reasoning_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               min(s.service_name) AS service_name,
               min(s.session_id) AS session_id,
               min(s.user_id) AS user_id,
               min(s.agent_name) AS agent_name,
               min(s.agent_id) AS agent_id,
               min(s.run_id) AS run_id,
               min(s.team_id) AS team_id,
               min(s.workflow_id) AS workflow_id,
               min(s.correlation_id) AS correlation_id
          FROM new_spans AS s
         GROUP BY s.trace_id, s.project_id
    ), root_candidates AS (
        -- The earliest parentless span of this batch, per trace.
        SELECT DISTINCT ON (s.trace_id, s.project_id) s.trace_id, s.project_id, s.span_id, s.start_time,
               s.name, s.service_name, s.input, s.output
          FROM new_spans AS s
         WHERE s.parent_span_id IS NULL
         ORDER BY s.trace_id, s.project_id, s.start_time, s.span_id
    )
    INSERT INTO agent_trace.agent_traces AS t (
        trace_id, project_id, name, start_time, end_time, span_count, error_count, llm_call_count, tool_call_count,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_usd,
        service_name, session_id, user_id, agent_name, agent_id, run_id, team_id, workflow_id,
        correlation_id, input, output, root_span_id, root_start_time, computed_cost_usd)
    SELECT p.trace_id, p.project_id, r.name, p.start_time, p.end_time, p.span_count, p.error_count, p.llm_call_count,
           p.tool_call_count, p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens,
           p.reasoning_tokens, p.cost_usd, coalesce(r.service_name, p.service_name), p.session_id,
           p.user_id, p.agent_name, p.agent_id, p.run_id, p.team_id, p.workflow_id, p.correlation_id,
           left(r.input, 500), left(r.output, 500), r.span_id, r.start_time, cc.computed_cost_usd
      FROM per_trace AS p
      LEFT JOIN root_candidates AS r ON r.trace_id = p.trace_id AND r.project_id = p.project_id
      LEFT JOIN computed_per_trace AS cc ON cc.trace_id = p.trace_id AND cc.project_id = p.project_id
     ORDER BY p.trace_id, p.project_id
        ON CONFLICT (trace_id, project_id) DO UPDATE SET
           start_time = least(t.start_time, excluded.start_time),
           end_time = greatest(t.end_time, excluded.end_time),
           span_count = t.span_count + excluded.span_count,
           error_count = t.error_count + excluded.error_count,
           llm_call_count = t.llm_call_count + excluded.llm_call_count,
           tool_call_count = t.tool_call_count + excluded.tool_call_count,
           -- NULL + n is NULL, so: the sum when both are known, else whichever is known. Token
           -- sums in numeric, saturated to bigint (see the top of this file).
           input_tokens = coalesce(agent_trace._saturate_bigint(t.input_tokens::numeric + excluded.input_tokens), t.input_tokens, excluded.input_tokens),
           output_tokens = coalesce(agent_trace._saturate_bigint(t.output_tokens::numeric + excluded.output_tokens), t.output_tokens, excluded.output_tokens),
           cache_read_tokens = coalesce(agent_trace._saturate_bigint(t.cache_read_tokens::numeric + excluded.cache_read_tokens), t.cache_read_tokens, excluded.cache_read_tokens),
           cache_write_tokens = coalesce(agent_trace._saturate_bigint(t.cache_write_tokens::numeric + excluded.cache_write_tokens), t.cache_write_tokens, excluded.cache_write_tokens),
           reasoning_tokens = coalesce(agent_trace._saturate_bigint(t.reasoning_tokens::numeric + excluded.reasoning_tokens), t.reasoning_tokens, excluded.reasoning_tokens),
           cost_usd = coalesce(t.cost_usd + excluded.cost_usd, t.cost_usd, excluded.cost_usd),
           computed_cost_usd = coalesce(t.computed_cost_usd + excluded.computed_cost_usd,
                                        t.computed_cost_usd, excluded.computed_cost_usd),
           -- least() skips NULLs: the smallest value seen, whatever order the spans came in.
           session_id = least(t.session_id, excluded.session_id),
           user_id = least(t.user_id, excluded.user_id),
           agent_name = least(t.agent_name, excluded.agent_name),
           agent_id = least(t.agent_id, excluded.agent_id),
           run_id = least(t.run_id, excluded.run_id),
           team_id = least(t.team_id, excluded.team_id),
           workflow_id = least(t.workflow_id, excluded.workflow_id),
           correlation_id = least(t.correlation_id, excluded.correlation_id),
           -- The root-derived columns change only when this batch brings an earlier root than the
           -- one stored (a missing stored root counts as infinitely late; a missing new one is
           -- never earlier, since the comparison is then NULL).
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
COMMENT ON FUNCTION agent_trace._fold_inserted_spans() IS
    'Trigger function: folds the spans an INSERT statement stored into their agent_traces rows, and prices those without a provided cost into agent_span_costs, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs no privilege on either table. Internal.';

CREATE TRIGGER agent_spans_fold_into_traces
    AFTER INSERT ON agent_trace.agent_spans
    REFERENCING NEW TABLE AS new_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._fold_inserted_spans();

------------------------------------------------------------------------------------------------------
-- Recomputing traces after spans were deleted or changed
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._refresh_traces(
    trace_ids agent_trace.trace_id[], project_ids integer[],
    spans_from timestamptz[] DEFAULT NULL, spans_to timestamptz[] DEFAULT NULL) RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- Planned for the arrays at hand each time: a plan kept for the session guesses ten keys, and
    -- with ten thousand its nested loops take seconds per trace.
    SET plan_cache_mode = force_custom_plan
AS $$
DECLARE
    -- One time for every row this call writes; a value, not now() in the statements, so the same
    -- statements run where a function call in ON CONFLICT or UPDATE is refused (Citus).
    stamp timestamptz := now();
    keys_trace agent_trace.trace_id[];
    keys_project integer[];
    keys_from timestamptz[];
    keys_to timestamptz[];
    changed bigint;
BEGIN
    -- 1. Hold every trace's row, in key order: its stored row, or a placeholder (no spans) inserted
    --    for a trace without one. Rows another transaction is inserting are waited for; the WHERE
    --    false updates nothing but locks the row it found.
    INSERT INTO agent_trace.agent_traces AS t (trace_id, project_id, start_time, end_time, span_count,
                                               error_count, llm_call_count, tool_call_count)
    SELECT DISTINCT k.trace_id, k.project_id, to_timestamp(0), to_timestamp(0), 0, 0, 0, 0
      FROM unnest(trace_ids, project_ids) AS k(trace_id, project_id)
     WHERE k.trace_id IS NOT NULL AND k.project_id IS NOT NULL
     ORDER BY 1, 2
        ON CONFLICT (trace_id, project_id) DO UPDATE SET span_count = t.span_count WHERE false;

    -- 2. Where the spans can be, to read only those partitions: within the stored row's times
    --    (which held every span the trace had, those just deleted too), widened by what the caller
    --    knows (the new times of updated spans); anywhere for a placeholder.
    SELECT array_agg(t.trace_id ORDER BY t.trace_id, t.project_id),
           array_agg(t.project_id ORDER BY t.trace_id, t.project_id),
           array_agg(CASE WHEN t.span_count > 0 THEN least(t.start_time, b.spans_from) ELSE '-infinity' END
                     ORDER BY t.trace_id, t.project_id),
           array_agg(CASE WHEN t.span_count > 0 THEN greatest(t.end_time, b.spans_to) ELSE 'infinity' END
                     ORDER BY t.trace_id, t.project_id)
      INTO keys_trace, keys_project, keys_from, keys_to
      FROM (SELECT k.trace_id, k.project_id, min(k.spans_from) AS spans_from, max(k.spans_to) AS spans_to
              FROM unnest(trace_ids, project_ids, spans_from, spans_to) AS k(trace_id, project_id, spans_from, spans_to)
             GROUP BY k.trace_id, k.project_id) AS b
      JOIN agent_trace.agent_traces AS t ON t.trace_id = b.trace_id AND t.project_id = b.project_id;
    IF keys_trace IS NULL THEN
        RETURN 0;
    END IF;

    -- 3. Computed costs: none for a span that is gone; one for a span that has none and can be
    --    priced (stored again after a delete, or updated).
    DELETE FROM agent_trace.agent_span_costs AS c
     USING unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
     WHERE c.trace_id = k.trace_id AND c.project_id = k.project_id
       AND c.start_time >= k.spans_from AND c.start_time <= k.spans_to
       AND NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                        WHERE s.trace_id = c.trace_id AND s.span_id = c.span_id
                          AND s.start_time = c.start_time AND s.project_id = c.project_id);
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = k.trace_id AND s.project_id = k.project_id
           AND s.start_time >= k.spans_from AND s.start_time <= k.spans_to
         WHERE s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
           AND NOT EXISTS (SELECT FROM agent_trace.agent_span_costs AS c
                            WHERE c.trace_id = s.trace_id AND c.span_id = s.span_id
                              AND c.start_time = s.start_time AND c.project_id = s.project_id)
         GROUP BY 1, 2, 3
    )
    INSERT INTO agent_trace.agent_span_costs (trace_id, project_id, span_id, start_time, computed_cost_usd,
           price_model_pattern, price_provider, price_effective_from, computed_at)
    SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
           p.effective_from, stamp
      FROM batches AS b
     CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
     CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                            b.cache_write_tokens, b.reasoning_tokens))
                AS u(trace_id, project_id, span_id, start_time, cost)
     WHERE u.cost IS NOT NULL
     ORDER BY u.trace_id, u.span_id, u.start_time, u.project_id;

    -- 4. Each trace from its spans as they are now (this statement sees every transaction that
    --    committed before step 1 got its row): rewrite what differs, remove traces without spans.
    WITH keys AS (
        SELECT * FROM unnest(keys_trace, keys_project, keys_from, keys_to) AS k(trace_id, project_id, spans_from, spans_to)
    ), spans AS (
        SELECT s.*
          FROM keys AS k
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = k.trace_id AND s.project_id = k.project_id
           AND s.start_time >= k.spans_from AND s.start_time <= k.spans_to
    ), per_trace AS (
        SELECT s.trace_id, s.project_id,
               min(s.start_time) AS start_time,
               max(s.end_time) AS end_time,
               count(*) AS span_count,
               count(*) FILTER (WHERE s.status_code = 'ERROR') AS error_count,
               count(*) FILTER (WHERE s.span_type = 'llm') AS llm_call_count,
               count(*) FILTER (WHERE s.span_type = 'tool') AS tool_call_count,
               agent_trace._saturate_bigint(sum(s.input_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS input_tokens,
               agent_trace._saturate_bigint(sum(s.output_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS output_tokens,
               agent_trace._saturate_bigint(sum(s.cache_read_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_read_tokens,
               agent_trace._saturate_bigint(sum(s.cache_write_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS cache_write_tokens,
               agent_trace._saturate_bigint(sum(s.reasoning_tokens) FILTER (WHERE s.span_type IN ('llm', 'embedding'))) AS reasoning_tokens,
               sum(s.cost_usd) FILTER (WHERE s.span_type IN ('llm', 'embedding')) AS cost_usd,
               min(s.service_name) AS service_name,
               min(s.session_id) AS session_id,
               min(s.user_id) AS user_id,
               min(s.agent_name) AS agent_name,
               min(s.agent_id) AS agent_id,
               min(s.run_id) AS run_id,
               min(s.team_id) AS team_id,
               min(s.workflow_id) AS workflow_id,
               min(s.correlation_id) AS correlation_id,
               min(s.created_at) AS created_at
          FROM spans AS s
         GROUP BY s.trace_id, s.project_id
    ), roots AS (
        SELECT DISTINCT ON (s.trace_id, s.project_id) s.trace_id, s.project_id, s.span_id, s.start_time,
               s.name, s.service_name, s.input, s.output
          FROM spans AS s
         WHERE s.parent_span_id IS NULL
         ORDER BY s.trace_id, s.project_id, s.start_time, s.span_id
    ), costs AS (
        SELECT c.trace_id, c.project_id, sum(c.computed_cost_usd) AS computed_cost_usd
          FROM keys AS k
          JOIN agent_trace.agent_span_costs AS c
            ON c.trace_id = k.trace_id AND c.project_id = k.project_id
           AND c.start_time >= k.spans_from AND c.start_time <= k.spans_to
         GROUP BY c.trace_id, c.project_id
    ), fresh AS (
        SELECT p.trace_id, p.project_id, r.name, p.start_time, p.end_time, p.span_count, p.error_count,
               p.llm_call_count, p.tool_call_count, p.input_tokens, p.output_tokens, p.cache_read_tokens,
               p.cache_write_tokens, p.reasoning_tokens, p.cost_usd,
               coalesce(r.service_name, p.service_name) AS service_name, p.session_id, p.user_id,
               p.agent_name, p.agent_id, p.run_id, p.team_id, p.workflow_id, p.correlation_id,
               left(r.input, 500) AS input, left(r.output, 500) AS output, r.span_id AS root_span_id,
               r.start_time AS root_start_time, c.computed_cost_usd, p.created_at
          FROM per_trace AS p
          LEFT JOIN roots AS r ON r.trace_id = p.trace_id AND r.project_id = p.project_id
          LEFT JOIN costs AS c ON c.trace_id = p.trace_id AND c.project_id = p.project_id
    ), rewritten AS (
        UPDATE agent_trace.agent_traces AS t
           SET name = f.name, start_time = f.start_time, end_time = f.end_time, span_count = f.span_count,
               error_count = f.error_count, llm_call_count = f.llm_call_count,
               tool_call_count = f.tool_call_count, input_tokens = f.input_tokens,
               output_tokens = f.output_tokens, cache_read_tokens = f.cache_read_tokens,
               cache_write_tokens = f.cache_write_tokens, reasoning_tokens = f.reasoning_tokens,
               cost_usd = f.cost_usd, service_name = f.service_name, session_id = f.session_id,
               user_id = f.user_id, agent_name = f.agent_name, agent_id = f.agent_id, run_id = f.run_id,
               team_id = f.team_id, workflow_id = f.workflow_id, correlation_id = f.correlation_id,
               input = f.input, output = f.output, root_span_id = f.root_span_id,
               root_start_time = f.root_start_time, computed_cost_usd = f.computed_cost_usd,
               -- A placeholder's trace was first stored when its first span was.
               created_at = CASE WHEN t.span_count = 0 THEN f.created_at ELSE t.created_at END,
               updated_at = stamp
          FROM fresh AS f
         WHERE t.trace_id = f.trace_id AND t.project_id = f.project_id
           AND (t.name, t.start_time, t.end_time, t.span_count, t.error_count, t.llm_call_count,
                t.tool_call_count, t.input_tokens, t.output_tokens, t.cache_read_tokens,
                t.cache_write_tokens, t.reasoning_tokens, t.cost_usd, t.service_name, t.session_id,
                t.user_id, t.agent_name, t.agent_id, t.run_id, t.team_id, t.workflow_id,
                t.correlation_id, t.input, t.output, t.root_span_id, t.root_start_time,
                t.computed_cost_usd)
               IS DISTINCT FROM
               (f.name, f.start_time, f.end_time, f.span_count, f.error_count, f.llm_call_count,
                f.tool_call_count, f.input_tokens, f.output_tokens, f.cache_read_tokens,
                f.cache_write_tokens, f.reasoning_tokens, f.cost_usd, f.service_name, f.session_id,
                f.user_id, f.agent_name, f.agent_id, f.run_id, f.team_id, f.workflow_id,
                f.correlation_id, f.input, f.output, f.root_span_id, f.root_start_time,
                f.computed_cost_usd)
        RETURNING 1
    ), removed AS (
        DELETE FROM agent_trace.agent_traces AS t
         USING keys AS k
         WHERE t.trace_id = k.trace_id AND t.project_id = k.project_id
           AND NOT EXISTS (SELECT FROM fresh AS f WHERE f.trace_id = t.trace_id AND f.project_id = t.project_id)
        RETURNING t.span_count
    )
    SELECT (SELECT count(*) FROM rewritten) + (SELECT count(*) FILTER (WHERE r.span_count > 0) FROM removed AS r)
      INTO changed;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION agent_trace._refresh_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) IS
    'Recomputes the agent_traces rows and computed span costs of these traces (trace_ids[i], project_ids[i]) from the spans stored now: rewrites the rows that differ, removes the rows of traces without spans, removes the costs of spans that are gone and prices spans without one. spans_from/spans_to (optional) widen where their spans are looked for beyond the stored rows'' times. Returns how many traces changed. Internal: the triggers that follow agent_spans, retention and agent_trace.refresh_traces call it.';
REVOKE ALL ON FUNCTION agent_trace._refresh_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) FROM PUBLIC;

CREATE FUNCTION agent_trace._follow_span_changes() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_RELID <> 'agent_trace.agent_spans'::regclass OR TG_WHEN <> 'AFTER' OR TG_LEVEL <> 'STATEMENT'
       OR TG_OP NOT IN ('DELETE', 'UPDATE', 'TRUNCATE') THEN
        RAISE EXCEPTION 'agent_trace._follow_span_changes runs only as the AFTER DELETE, UPDATE or TRUNCATE statement trigger of agent_trace.agent_spans'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        -- A TRUNCATE that names these too has emptied them already, and holds them: it cannot
        -- truncate them again (55006), but has nothing left to delete.
        BEGIN
            TRUNCATE agent_trace.agent_span_costs;
        EXCEPTION WHEN object_in_use THEN
            DELETE FROM agent_trace.agent_span_costs;
        END;
        BEGIN
            TRUNCATE agent_trace.agent_traces;
        EXCEPTION WHEN object_in_use THEN
            DELETE FROM agent_trace.agent_traces;
        END;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM agent_trace._refresh_traces(array_agg(o.trace_id), array_agg(o.project_id))
           FROM (SELECT DISTINCT o.trace_id, o.project_id FROM old_spans AS o) AS o;
    ELSE
        -- An updated span is priced again as it is now: its old cost goes first.
        DELETE FROM agent_trace.agent_span_costs AS c
         USING old_spans AS o
         WHERE c.trace_id = o.trace_id AND c.span_id = o.span_id AND c.start_time = o.start_time
           AND c.project_id = o.project_id;
        PERFORM agent_trace._refresh_traces(array_agg(k.trace_id), array_agg(k.project_id),
                                            array_agg(k.spans_from), array_agg(k.spans_to))
           FROM (SELECT u.trace_id, u.project_id, min(u.start_time) AS spans_from, max(u.start_time) AS spans_to
                   FROM (SELECT o.trace_id, o.project_id, o.start_time FROM old_spans AS o
                         UNION ALL
                         SELECT n.trace_id, n.project_id, n.start_time FROM new_spans AS n) AS u
                  GROUP BY u.trace_id, u.project_id) AS k;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._follow_span_changes() IS
    'Trigger function: after a DELETE or UPDATE of agent_spans, recomputes the traces of the spans it changed (agent_trace._refresh_traces); after a TRUNCATE, empties agent_traces and agent_span_costs. Runs with the rights of the extension''s owner (SECURITY DEFINER). Internal.';
REVOKE ALL ON FUNCTION agent_trace._follow_span_changes() FROM PUBLIC;

CREATE TRIGGER agent_spans_refresh_traces_after_delete
    AFTER DELETE ON agent_trace.agent_spans
    REFERENCING OLD TABLE AS old_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();
CREATE TRIGGER agent_spans_refresh_traces_after_update
    AFTER UPDATE ON agent_trace.agent_spans
    REFERENCING OLD TABLE AS old_spans NEW TABLE AS new_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();
CREATE TRIGGER agent_spans_empty_traces_after_truncate
    AFTER TRUNCATE ON agent_trace.agent_spans
    FOR EACH STATEMENT
    EXECUTE FUNCTION agent_trace._follow_span_changes();

CREATE FUNCTION agent_trace.refresh_traces(from_time timestamptz, to_time timestamptz) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    chunk_trace agent_trace.trace_id[];
    chunk_project integer[];
    chunk_from timestamptz[];
    chunk_to timestamptz[];
    changed bigint := 0;
BEGIN
    IF from_time IS NULL OR to_time IS NULL THEN
        RAISE EXCEPTION 'agent_trace.refresh_traces needs a time range: from_time and to_time'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Every trace: SELECT agent_trace.refresh_traces(''-infinity'', ''infinity'');';
    END IF;
    -- The traces with spans in the range (and where those spans are: a span loaded behind the
    -- triggers' back may lie outside its trace's row), and the rows that claim to be there; 10,000
    -- at a time, so the arrays stay small.
    FOR chunk_trace, chunk_project, chunk_from, chunk_to IN
        SELECT array_agg(k.trace_id), array_agg(k.project_id), array_agg(k.spans_from), array_agg(k.spans_to)
          FROM (SELECT k.trace_id, k.project_id, min(k.spans_from) AS spans_from, max(k.spans_to) AS spans_to,
                       (row_number() OVER (ORDER BY k.trace_id, k.project_id) - 1) / 10000 AS chunk
                  FROM (SELECT s.trace_id, s.project_id, min(s.start_time) AS spans_from, max(s.start_time) AS spans_to
                          FROM agent_trace.agent_spans AS s
                         WHERE s.start_time >= from_time AND s.start_time < to_time
                         GROUP BY s.trace_id, s.project_id
                        UNION ALL
                        SELECT t.trace_id, t.project_id, NULL, NULL FROM agent_trace.agent_traces AS t
                         WHERE t.start_time < to_time AND t.end_time >= from_time) AS k
                 GROUP BY k.trace_id, k.project_id) AS k
         GROUP BY k.chunk
         ORDER BY k.chunk
    LOOP
        changed := changed + agent_trace._refresh_traces(chunk_trace, chunk_project, chunk_from, chunk_to);
    END LOOP;
    RETURN changed;
END
$$;
COMMENT ON FUNCTION agent_trace.refresh_traces(timestamptz, timestamptz) IS
    'Recomputes every trace with spans that started in [from_time, to_time), or whose agent_traces row says so, from its spans (and prices its spans that have no computed cost yet): a repair after spans were changed around the triggers (rows loaded into a partition directly, a restore with --load-via-partition-root or --disable-triggers). Returns how many traces changed: 0 when agent_traces was right. Example: SELECT agent_trace.refresh_traces(''-infinity'', ''infinity'');';
REVOKE ALL ON FUNCTION agent_trace.refresh_traces(timestamptz, timestamptz) FROM PUBLIC;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   rollup

-- Logs and metrics (issue 5): OTLP log records and metric data points, next to the spans.
--
-- Coding-assistant CLIs (Claude Code, Codex, Gemini CLI) report most of their usage here rather than
-- on spans: token counts and cost on log events, counters and histograms as metrics. Both tables
-- follow tables.sql: typed columns for what people ask first, every original attribute kept as
-- jsonb, times as timestamptz, ids as the compact agent_trace.trace_id / span_id types.
--
-- Idempotency. OTLP clients retry after a lost acknowledgement, and log records and data points have
-- no id of their own, so each row carries a key computed by the ingest from its content:
--   * agent_logs.record_key: the first 16 bytes of a SHA-256 over (resource, scope, the log record's
--     protobuf encoding). A retried request stores nothing twice, also when it is re-sent as OTLP/JSON
--     instead of protobuf (both decode to the same message, which encodes to the same bytes).
--   * agent_metrics.series_key: the first 16 bytes of a SHA-256 over (metric name, kind, resource
--     attributes, scope, point attributes; attributes sorted by key). A series is what a client
--     reports repeatedly; the point of a series at (time, start_time) is stored once.
-- Both keys also hold the row's time: the tables are partitioned BY RANGE (time), one partition per
-- UTC day (partitions.sql), and can be distributed by the key column (Citus), as agent_spans can.

CREATE TABLE agent_trace.agent_logs (
    record_key          uuid NOT NULL,
    time                timestamptz NOT NULL,
    observed_time       timestamptz,
    trace_id            agent_trace.trace_id,
    span_id             agent_trace.span_id,
    event_name          text,
    severity_number     smallint CHECK (severity_number BETWEEN 1 AND 24),
    severity_text       text,
    body                text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    session_id          text,
    user_id             text,
    model               text,
    input_tokens        bigint CHECK (input_tokens >= 0),
    output_tokens       bigint CHECK (output_tokens >= 0),
    cache_read_tokens   bigint CHECK (cache_read_tokens >= 0),
    cache_write_tokens  bigint CHECK (cache_write_tokens >= 0),
    reasoning_tokens    bigint CHECK (reasoning_tokens >= 0),
    cost_usd            numeric CHECK (cost_usd >= 0),
    tool_name           text,
    duration_ms         double precision,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    computed_cost_usd   numeric,
    project_id          integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_logs_pkey PRIMARY KEY (record_key, time, project_id)
) PARTITION BY RANGE (time);

-- First questions: the events of a session (how much did it use), of an event type in a time range,
-- the logs of one trace, and anything in a time range (BRIN: tiny; records arrive roughly in time
-- order). Session ids and event names are text as clients send it, of any length: hash indexes
-- (as in tables.sql), which a btree's 2,704-byte limit cannot break; a time range is filtered after
-- the equality, or combined with the BRIN index. Partial index: many records have no trace.
CREATE INDEX agent_logs_session_idx ON agent_trace.agent_logs USING hash (session_id);
CREATE INDEX agent_logs_event_idx ON agent_trace.agent_logs USING hash (event_name);
CREATE INDEX agent_logs_trace_idx ON agent_trace.agent_logs (trace_id, time) WHERE trace_id IS NOT NULL;
CREATE INDEX agent_logs_time_brin ON agent_trace.agent_logs USING brin (time);

COMMENT ON TABLE agent_trace.agent_logs IS
    'One row per OpenTelemetry log record: application logs, and the events coding assistants send (Claude Code api_request, Gemini CLI gemini_cli.api_response, Codex codex.sse_event, ...). Token and cost columns are filled only on records that report one model call''s usage, so summing them over a session counts each call once. Written once, never updated; a re-sent record (same record_key, time and project_id) is ignored. Stored in one partition per UTC day of time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_logs.project_id IS 'The project the record belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_logs.record_key IS 'Dedupe key computed by the ingest: the first 16 bytes of a SHA-256 over the resource, the instrumentation scope and the record''s protobuf encoding. Identical records of one resource and scope are one row.';
COMMENT ON COLUMN agent_trace.agent_logs.time IS 'When the event happened: the record''s time, else (Codex sends none) the time the client observed it.';
COMMENT ON COLUMN agent_trace.agent_logs.observed_time IS 'When the client''s logging pipeline observed the record. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_logs.trace_id IS 'Trace the record was emitted in, as 32 hex digits; NULL outside any trace (an empty or all-zero id means none).';
COMMENT ON COLUMN agent_trace.agent_logs.span_id IS 'Span the record was emitted in, as 16 hex digits; NULL outside any span.';
COMMENT ON COLUMN agent_trace.agent_logs.event_name IS 'Event type: the event.name attribute, else the record''s event_name field (Codex puts a source location such as "event otel/src/...rs:1089" there, so the attribute wins), e.g. "api_request", "gemini_cli.api_response", "codex.sse_event". NULL for plain logs. Indexed by hash, so values of any length are stored and WHERE event_name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_logs.severity_number IS 'OpenTelemetry severity 1-24 (1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL). NULL when unspecified.';
COMMENT ON COLUMN agent_trace.agent_logs.severity_text IS 'Severity as the source names it, e.g. "INFO", "ERROR".';
COMMENT ON COLUMN agent_trace.agent_logs.body IS 'The log message. A body that is not a string (a map, a list, a number) is stored as its JSON text.';
COMMENT ON COLUMN agent_trace.agent_logs.service_name IS 'Name of the application that sent the record (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_logs.scope_name IS 'Instrumentation scope (logger) that emitted the record.';
COMMENT ON COLUMN agent_trace.agent_logs.scope_version IS 'Version of the instrumentation scope.';
COMMENT ON COLUMN agent_trace.agent_logs.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id (Claude Code, Gemini CLI), agno.session.id or conversation.id (Codex), on the record, else on the resource. Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_logs.user_id IS 'End user: user.id (Claude Code) or agno.user.id, on the record, else on the resource.';
COMMENT ON COLUMN agent_trace.agent_logs.model IS 'Model the record is about: gen_ai.request.model, gen_ai.response.model, ..., else model (Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_logs.input_tokens IS 'Prompt tokens of one model call, including cached ones (as on agent_spans). Claude Code api_request: input_tokens + cache_read_tokens + cache_creation_tokens (Anthropic reports them apart). Gemini CLI gemini_cli.api_response: input_token_count (includes cached_content_token_count) + tool_token_count. Codex codex.sse_event: input_token_count (includes cached). GenAI: gen_ai.usage.input_tokens. NULL on other records.';
COMMENT ON COLUMN agent_trace.agent_logs.output_tokens IS 'Completion tokens of one model call, including reasoning tokens (as on agent_spans). Claude Code: output_tokens. Gemini CLI: output_token_count + thoughts_token_count (Gemini reports them apart). Codex: output_token_count (includes reasoning). GenAI: gen_ai.usage.output_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cache_read_tokens IS 'Input tokens served from the prompt cache (a part of input_tokens). Claude Code: cache_read_tokens. Gemini CLI: cached_content_token_count. Codex: cached_token_count. GenAI: gen_ai.usage.cache_read.input_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cache_write_tokens IS 'Input tokens written to the prompt cache (a part of input_tokens). Claude Code: cache_creation_tokens. Codex: cache_write_token_count. GenAI: gen_ai.usage.cache_creation.input_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.reasoning_tokens IS 'Output tokens spent on reasoning (a part of output_tokens). Gemini CLI: thoughts_token_count. Codex: reasoning_token_count. GenAI: gen_ai.usage.reasoning.output_tokens.';
COMMENT ON COLUMN agent_trace.agent_logs.cost_usd IS 'Cost of the call in US dollars as reported by the client (Claude Code api_request cost_usd; gen_ai.usage.cost). NULL when not reported; see computed_cost_usd.';
COMMENT ON COLUMN agent_trace.agent_logs.tool_name IS 'Tool the record is about: gen_ai.tool.name, tool.name or tool_name.';
COMMENT ON COLUMN agent_trace.agent_logs.duration_ms IS 'Duration the record reports in milliseconds (its duration_ms attribute: Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_logs.attributes IS 'All record attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_logs.resource_attributes IS 'Attributes of the sending process (service.name, host, SDK version, ...) as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_logs.created_at IS 'When this row was stored.';
COMMENT ON COLUMN agent_trace.agent_logs.computed_cost_usd IS 'Cost of the call in US dollars computed from the model''s price and the token columns. NULL when no price is known.';

CREATE TABLE agent_trace.agent_metrics (
    series_key          uuid NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL
                            CHECK (kind IN ('sum', 'gauge', 'histogram', 'exponential_histogram', 'summary')),
    temporality         text CHECK (temporality IN ('cumulative', 'delta', 'unspecified')),
    is_monotonic        boolean,
    start_time          timestamptz,
    time                timestamptz NOT NULL,
    value               double precision,
    count               bigint CHECK (count >= 0),
    sum                 double precision,
    min                 double precision,
    max                 double precision,
    bucket_bounds       double precision[],
    bucket_counts       bigint[],
    exponential_buckets jsonb,
    quantiles           jsonb,
    unit                text,
    description         text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    session_id          text,
    model               text,
    token_type          text,
    attributes          jsonb NOT NULL DEFAULT '{}',
    resource_attributes jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    project_id          integer NOT NULL DEFAULT 1,
    -- Not a primary key: gauges usually have no start time, and a primary key cannot hold NULL.
    -- NULLS NOT DISTINCT makes a re-sent point without start_time a conflict too.
    CONSTRAINT agent_metrics_point_key UNIQUE NULLS NOT DISTINCT (series_key, time, start_time, project_id)
) PARTITION BY RANGE (time);

-- First questions: one metric over time (tokens per hour), one session's metrics, anything in a
-- time range. One series' points come from the unique key (its leading column is series_key).
-- Metric names and session ids are text of any length: hash indexes, as for agent_logs.
CREATE INDEX agent_metrics_name_idx ON agent_trace.agent_metrics USING hash (name);
CREATE INDEX agent_metrics_session_idx ON agent_trace.agent_metrics USING hash (session_id);
CREATE INDEX agent_metrics_time_brin ON agent_trace.agent_metrics USING brin (time);

COMMENT ON TABLE agent_trace.agent_metrics IS
    'One row per OpenTelemetry metric data point, as sent: cumulative counters hold running totals (see agent_metric_deltas for per-interval amounts). Points of one series share a series_key. Written once, never updated; a re-sent point (same series_key, time, start_time and project_id) is ignored. Stored in one partition per UTC day of time (schema agent_trace_partitions), which agent_trace.maintain() creates ahead and drops when agent_trace.set_retention says.';
COMMENT ON COLUMN agent_trace.agent_metrics.series_key IS 'Series id computed by the ingest: the first 16 bytes of a SHA-256 over the metric name, kind, resource attributes, instrumentation scope and point attributes (attributes in key order).';
COMMENT ON COLUMN agent_trace.agent_metrics.project_id IS 'The project the point belongs to (agent_trace.projects): the project of the ingest token it was sent with; 1 (default) without one.';
COMMENT ON COLUMN agent_trace.agent_metrics.name IS 'Metric name, e.g. "claude_code.token.usage", "gen_ai.client.token.usage". Indexed by hash, so values of any length are stored and WHERE name = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_metrics.kind IS 'OpenTelemetry metric type: sum (a counter or up-down counter), gauge, histogram, exponential_histogram or summary.';
COMMENT ON COLUMN agent_trace.agent_metrics.temporality IS 'For sums and histograms: cumulative (value is the total since start_time), delta (value is the amount since the previous report) or unspecified. NULL for gauges and summaries.';
COMMENT ON COLUMN agent_trace.agent_metrics.is_monotonic IS 'For sums: true for a counter that only goes up, false for an up-down counter. NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metrics.start_time IS 'Start of the interval the point covers (cumulative: since the series started or last reset). NULL when not sent (most gauges).';
COMMENT ON COLUMN agent_trace.agent_metrics.time IS 'When the point was measured: the end of its interval.';
COMMENT ON COLUMN agent_trace.agent_metrics.value IS 'Value of a sum or gauge point (integers as double precision: exact up to 2^53). NULL for other kinds and for points flagged "no recorded value".';
COMMENT ON COLUMN agent_trace.agent_metrics.count IS 'Number of measurements in a histogram, exponential histogram or summary point. NULL for sums and gauges.';
COMMENT ON COLUMN agent_trace.agent_metrics.sum IS 'Sum of the measurements in a histogram, exponential histogram or summary point (e.g. tokens in gen_ai.client.token.usage). NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.min IS 'Smallest measurement of a histogram point. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.max IS 'Largest measurement of a histogram point. NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.bucket_bounds IS 'Upper bounds of a histogram''s buckets (explicit_bounds); bucket i holds values <= bucket_bounds[i], the last bucket the rest.';
COMMENT ON COLUMN agent_trace.agent_metrics.bucket_counts IS 'Measurements per histogram bucket: one more element than bucket_bounds.';
COMMENT ON COLUMN agent_trace.agent_metrics.exponential_buckets IS 'Buckets of an exponential histogram point as JSON: {scale, zero_count, zero_threshold, positive: {offset, bucket_counts}, negative: {offset, bucket_counts}}.';
COMMENT ON COLUMN agent_trace.agent_metrics.quantiles IS 'Quantiles of a summary point as a JSON array of {quantile, value}.';
COMMENT ON COLUMN agent_trace.agent_metrics.unit IS 'Unit of the values, e.g. "tokens", "USD", "ms". NULL when not sent.';
COMMENT ON COLUMN agent_trace.agent_metrics.description IS 'Description of the metric given by the instrumentation.';
COMMENT ON COLUMN agent_trace.agent_metrics.service_name IS 'Name of the application that sent the point (resource attribute service.name).';
COMMENT ON COLUMN agent_trace.agent_metrics.scope_name IS 'Instrumentation scope (meter) that reported the metric.';
COMMENT ON COLUMN agent_trace.agent_metrics.scope_version IS 'Version of the instrumentation scope.';
COMMENT ON COLUMN agent_trace.agent_metrics.session_id IS 'Conversation or session: gen_ai.conversation.id, session.id, agno.session.id or conversation.id, on the point, else on the resource. Indexed by hash, so values of any length are stored and WHERE session_id = ''...'' uses the index (a btree refuses entries over 2,704 bytes).';
COMMENT ON COLUMN agent_trace.agent_metrics.model IS 'Model the point is about: gen_ai.request.model, gen_ai.response.model, ..., else model (Claude Code, Gemini CLI, Codex).';
COMMENT ON COLUMN agent_trace.agent_metrics.token_type IS 'Kind of tokens a token metric counts, as the client names it: gen_ai.token.type (input, output), token_type (Codex: input, cached_input, output, reasoning_output, total, ...), or type on claude_code.token.usage (input, output, cacheRead, cacheCreation) and gemini_cli.token.usage (input, output, cache, thought, tool).';
COMMENT ON COLUMN agent_trace.agent_metrics.attributes IS 'Point attributes as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_metrics.resource_attributes IS 'Attributes of the sending process as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_metrics.created_at IS 'When this row was stored.';

-- Per-interval amounts. A cumulative counter reports running totals; charts and "per hour" sums need
-- the increase between consecutive points of a series. Computed at query time with window functions
-- over the stored points, so the answer does not depend on the order the points arrived in.
--
-- Rules per point (previous = the point of the same series just before it by (time, start_time)):
--   * cumulative sum or histogram: value - previous value when the previous point has the same
--     start_time and the value did not decrease; otherwise (the first point of a series, a new
--     start_time, or a decrease: the counter restarted) the value itself, accrued since start_time.
--     Histograms: the same for count and sum, with the restart decided by count.
--   * delta sum or histogram: the point's own value, count and sum.
--   * gauge, summary, unspecified temporality: no delta (NULL): a level is not an amount.
-- Points flagged "no recorded value" (value and count NULL) are left out.
--
-- The view reads agent_metrics as its caller (security_invoker), so row-level security shows each
-- role its projects' points; it names only columns usage readers may read, so they may read it
-- whole. A point's attributes are in agent_metrics (join on series_key, time, start_time,
-- project_id).
--
-- Every column after series_key in the window's PARTITION BY is fixed per series, so the groups are
-- the series; listing them lets PostgreSQL apply a filter on them (WHERE name = ..., session_id = ...)
-- before computing the window. A filter on time is applied after it: the first point in the range
-- still gets its delta against the point before the range.
CREATE VIEW agent_trace.agent_metric_deltas WITH (security_invoker = true) AS
SELECT p.series_key, p.name, p.kind, p.temporality, p.unit, p.start_time, p.time,
       p.value,
       CASE
           WHEN p.kind = 'sum' AND p.temporality = 'delta' THEN p.value
           WHEN p.kind = 'sum' AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.value >= p.previous_value THEN p.value - p.previous_value
                    ELSE p.value END
       END AS delta,
       p.count,
       CASE
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'delta' THEN p.count
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.count >= p.previous_count THEN p.count - p.previous_count
                    ELSE p.count END
       END AS delta_count,
       p.sum,
       CASE
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'delta' THEN p.sum
           WHEN p.kind IN ('histogram', 'exponential_histogram') AND p.temporality = 'cumulative' THEN
               CASE WHEN p.continues AND p.count >= p.previous_count THEN p.sum - p.previous_sum
                    ELSE p.sum END
       END AS delta_sum,
       p.service_name, p.session_id, p.model, p.token_type, p.scope_name, p.project_id
  FROM (SELECT m.series_key, m.project_id, m.name, m.kind, m.temporality, m.unit, m.start_time,
               m.time, m.value, m.count, m.sum, m.service_name, m.session_id, m.model,
               m.token_type, m.scope_name,
               lag(m.value) OVER series AS previous_value,
               lag(m.count) OVER series AS previous_count,
               lag(m.sum) OVER series AS previous_sum,
               lag(m.time) OVER series IS NOT NULL
                   AND lag(m.start_time) OVER series IS NOT DISTINCT FROM m.start_time AS continues
          FROM agent_trace.agent_metrics AS m
         WHERE m.value IS NOT NULL OR m.count IS NOT NULL
        WINDOW series AS (PARTITION BY m.name, m.kind, m.service_name, m.session_id, m.model,
                                       m.token_type, m.series_key, m.project_id
                          ORDER BY m.time, m.start_time)) AS p;

COMMENT ON VIEW agent_trace.agent_metric_deltas IS
    'Every stored metric point with its per-interval amount: for cumulative counters and histograms the increase since the previous point of the same series (restarts detected by a new start_time or a decrease), for delta ones the point itself. Sum delta, delta_count or delta_sum over a time range for "per hour" or "per session" totals. Computed at query time, so points may arrive in any order. The points'' attributes are in agent_metrics (join on series_key, time, start_time, project_id).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.series_key IS 'Series the point belongs to (see agent_metrics.series_key).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.project_id IS 'Project of the point.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.name IS 'Metric name.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.kind IS 'sum, gauge, histogram, exponential_histogram or summary.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.temporality IS 'cumulative, delta or unspecified; NULL for gauges and summaries.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.unit IS 'Unit of the values.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.start_time IS 'Start of the interval the stored point covers.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.time IS 'When the point was measured: the end of the interval delta covers.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.value IS 'Value of a sum or gauge point as stored (a running total for cumulative sums).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta IS 'Amount of a sum in this interval: value minus the previous value of the series, or the value itself at the first point, after a restart, and for delta temporality. NULL for gauges, histograms, summaries and unspecified temporality.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.count IS 'Measurement count of a histogram or summary point as stored.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta_count IS 'Measurements of a histogram in this interval, by the same rules as delta (a restart is a new start_time or a smaller count). NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.sum IS 'Sum of a histogram or summary point as stored.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.delta_sum IS 'Sum of a histogram''s measurements in this interval (e.g. tokens of gen_ai.client.token.usage), restarting where delta_count does. NULL for other kinds.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.service_name IS 'Name of the application that sent the point.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.session_id IS 'Conversation or session of the point.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.model IS 'Model the point is about.';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.token_type IS 'Kind of tokens a token metric counts (see agent_metrics.token_type).';
COMMENT ON COLUMN agent_trace.agent_metric_deltas.scope_name IS 'Instrumentation scope that reported the metric.';

-- The ingest inserts into both tables (binary COPY, or INSERT .. ON CONFLICT DO NOTHING for
-- retries, which needs no SELECT when it names no conflict target) and may not read them back: log
-- bodies and attributes hold prompts. access.sql grants the readers.
GRANT INSERT ON agent_trace.agent_logs, agent_trace.agent_metrics TO agent_trace_writer;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   signals

-- Model prices and the cost computed from them (issue 5).
--
-- Two kinds of cost, never mixed:
--   * cost_usd (agent_spans, agent_traces, agent_logs): what the client reported. Stored as sent.
--   * computed_cost_usd: tokens x the price in agent_trace.model_prices, for the LLM and embedding
--     calls that came without a reported cost. A span's computed cost lives in agent_span_costs (so
--     agent_spans stays written once by COPY), its trace's sum in agent_traces.computed_cost_usd; a log
--     record's in agent_logs.computed_cost_usd.
-- Each call is counted in exactly one of the two, so cost_usd + computed_cost_usd is the whole cost
-- of what could be priced.
--
-- Where the prices come from: `agent-trace prices import` reads LiteLLM's
-- model_prices_and_context_window.json (the binary carries a dated snapshot of it for the OpenAI,
-- Anthropic and Gemini API models; scripts/update-price-snapshot.sh refreshes it). The extension
-- itself ships no prices: prices change every few weeks, extension versions do not, and a price list
-- inside the install script would be frozen into every release script and need an upgrade script
-- for each refresh. The table is plain data: INSERT and UPDATE it like any other table, and it is
-- registered with pg_extension_config_dump, so pg_dump keeps every row (imported or your own).
--
-- Which price applies to a call (agent_trace.price_for), given its model name, provider and time:
--   1. Only rows in effect at the call's time: effective_from <= the call's UTC date. Of the rows of
--      one (model_pattern, provider), the latest effective_from wins. An import adds a dated row when
--      a price changes and never rewrites an older one, so old calls keep their old price.
--   2. The model name is lower-cased and matched, most specific first:
--        a. exactly, as sent                      'openai/gpt-4o' = a row 'openai/gpt-4o'
--        b. exactly, without a "vendor/" prefix    'openai/gpt-4o' -> 'gpt-4o', 'models/gemini-2.5-pro'
--           (everything up to the last '/')           -> 'gemini-2.5-pro'
--        c. exactly, without a trailing date stamp 'claude-sonnet-4-5-20250929' -> 'claude-sonnet-4-5',
--           (-YYYYMMDD, -YYYY-MM-DD or @YYYYMMDD)     'gpt-4o-2024-08-06' -> 'gpt-4o' (only when the
--                                                     dated name has no row of its own: LiteLLM lists
--                                                     most dated names, and some cost differently)
--        d. by LIKE pattern: a model_pattern holding '%' matches the name of (b) as LIKE does, except
--           that '_' is a plain character ('ft:gpt-4o-mini%'). The longest pattern wins.
--   3. The provider: the span's provider is normalised by agent_trace.normalize_provider (so
--      'gcp.gen_ai', 'gemini' and 'google' all mean 'gcp.gemini'); a "vendor/" prefix that names a
--      provider ('openai/', 'anthropic/', 'gemini/') overrides it for (b)-(d). A row matches its own
--      provider, a row with provider '*' matches any, and a call whose provider is unknown (NULL)
--      matches rows of any provider. Within one step of (2), a row of the call's own provider beats
--      a '*' row.
-- No match: no computed cost (NULL). A price is never guessed from a similar model.

CREATE TABLE agent_trace.model_prices (
    model_pattern                     text NOT NULL
                                          CHECK (model_pattern <> '' AND model_pattern = lower(model_pattern)),
    provider                          text NOT NULL
                                          CHECK (provider <> '' AND provider = lower(provider)),
    effective_from                    date NOT NULL DEFAULT '-infinity',
    input_usd_per_mtok                numeric CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok               numeric CHECK (output_usd_per_mtok >= 0),
    cache_read_usd_per_mtok           numeric CHECK (cache_read_usd_per_mtok >= 0),
    cache_write_usd_per_mtok          numeric CHECK (cache_write_usd_per_mtok >= 0),
    reasoning_usd_per_mtok            numeric CHECK (reasoning_usd_per_mtok >= 0),
    long_context_above_tokens         bigint CHECK (long_context_above_tokens > 0),
    long_context_input_usd_per_mtok   numeric CHECK (long_context_input_usd_per_mtok >= 0),
    long_context_output_usd_per_mtok  numeric CHECK (long_context_output_usd_per_mtok >= 0),
    long_context_cache_read_usd_per_mtok  numeric CHECK (long_context_cache_read_usd_per_mtok >= 0),
    long_context_cache_write_usd_per_mtok numeric CHECK (long_context_cache_write_usd_per_mtok >= 0),
    source                            text NOT NULL DEFAULT 'manual',
    source_date                       date,
    created_at                        timestamptz NOT NULL DEFAULT now()
);
-- One price per model, provider and day. Not a primary key on the names themselves: a btree refuses
-- entries over 2,704 bytes, and a model name is whatever a client or a price list says. The key is
-- on their md5 instead (two names with one md5 would have to be made on purpose); a hash index
-- serves `WHERE model_pattern = '...'`.
CREATE UNIQUE INDEX model_prices_key ON agent_trace.model_prices (md5(model_pattern), md5(provider), effective_from);
CREATE INDEX model_prices_model_idx ON agent_trace.model_prices USING hash (model_pattern);

COMMENT ON TABLE agent_trace.model_prices IS
    'Prices of models per million tokens, in US dollars, for computing the cost of calls that report tokens but no cost. Edit with plain INSERT/UPDATE; `agent-trace prices import` adds LiteLLM''s prices. Which row applies to a call: agent_trace.price_for (most specific model match, own provider first, latest effective_from not after the call). After changing prices, run agent_trace.recompute_costs(from, to) to re-cost stored calls.';
COMMENT ON COLUMN agent_trace.model_prices.model_pattern IS 'Model name in lower case, e.g. "gpt-4o", "claude-sonnet-4-5". Holding a % it is a LIKE pattern ("ft:gpt-4o-mini%"; _ is a plain character). Matched against the name of the call without a "vendor/" prefix; exact names beat patterns, longer patterns beat shorter ones. Any length: unique per provider and effective_from through md5(model_pattern), and indexed by hash, so WHERE model_pattern = ''...'' uses an index.';
COMMENT ON COLUMN agent_trace.model_prices.provider IS 'Provider the price applies to, as agent_trace.normalize_provider names it: "openai", "anthropic", "gcp.gemini" (Gemini API), "gcp.vertex_ai", "aws.bedrock", "azure.ai.openai", ...; "*" for any provider. Calls of an unknown provider match rows of any provider. Any length: part of the key through md5(provider).';
COMMENT ON COLUMN agent_trace.model_prices.effective_from IS 'First day (UTC) this price applies, up to the next row of the same model_pattern and provider. -infinity: since always (the first price known for a model).';
COMMENT ON COLUMN agent_trace.model_prices.input_usd_per_mtok IS 'Price of one million input tokens that are neither read from nor written to the prompt cache. NULL: not priced (calls with such tokens get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.output_usd_per_mtok IS 'Price of one million output tokens (reasoning tokens too, unless reasoning_usd_per_mtok is set). NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.cache_read_usd_per_mtok IS 'Price of one million input tokens read from the prompt cache. NULL: not priced (calls that read the cache get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.cache_write_usd_per_mtok IS 'Price of one million input tokens written to the prompt cache (Anthropic: the 5-minute cache write). NULL: cache writes cost the input price (OpenAI and Gemini charge nothing extra for them).';
COMMENT ON COLUMN agent_trace.model_prices.reasoning_usd_per_mtok IS 'Price of one million reasoning tokens. NULL: they cost the output price.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_above_tokens IS 'Long-context tier: a call whose input_tokens exceed this many is priced entirely at the long_context_* prices (as Google, Anthropic and OpenAI bill long prompts). NULL: one price at any length.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_input_usd_per_mtok IS 'Input price above long_context_above_tokens. NULL: not priced (such calls get no computed cost).';
COMMENT ON COLUMN agent_trace.model_prices.long_context_output_usd_per_mtok IS 'Output (and reasoning) price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_read_usd_per_mtok IS 'Cache-read price above long_context_above_tokens. NULL: not priced.';
COMMENT ON COLUMN agent_trace.model_prices.long_context_cache_write_usd_per_mtok IS 'Cache-write price above long_context_above_tokens. NULL: cache writes cost the long-context input price.';
COMMENT ON COLUMN agent_trace.model_prices.source IS 'Where the price comes from, e.g. "litellm 1.106.2 model_prices_and_context_window_backup.json"; "manual" for rows entered by hand.';
COMMENT ON COLUMN agent_trace.model_prices.source_date IS 'Date of the source (the price list''s publication date for imports). NULL when unknown.';
COMMENT ON COLUMN agent_trace.model_prices.created_at IS 'When this row was stored.';

-- pg_dump skips the data of extension tables unless they are registered here; prices are user data.
SELECT pg_catalog.pg_extension_config_dump('agent_trace.model_prices', '');

------------------------------------------------------------------------------------------------------
-- Matching a call to its price
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.normalize_provider(provider text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE lower(btrim(provider))
               WHEN '' THEN NULL
               -- Google: the Gemini API (AI Studio). gcp.gen_ai is "any Google GenAI endpoint" in
               -- the semantic conventions; Gemini CLI sends it for the Gemini API it uses by default.
               WHEN 'gcp.gen_ai' THEN 'gcp.gemini'
               WHEN 'gemini' THEN 'gcp.gemini'
               WHEN 'google' THEN 'gcp.gemini'
               WHEN 'google_genai' THEN 'gcp.gemini'
               WHEN 'google-genai' THEN 'gcp.gemini'
               WHEN 'google_ai_studio' THEN 'gcp.gemini'
               WHEN 'vertex_ai' THEN 'gcp.vertex_ai'
               WHEN 'vertexai' THEN 'gcp.vertex_ai'
               WHEN 'azure' THEN 'azure.ai.openai'
               WHEN 'az.ai.openai' THEN 'azure.ai.openai'
               WHEN 'bedrock' THEN 'aws.bedrock'
               WHEN 'aws' THEN 'aws.bedrock'
               WHEN 'mistral' THEN 'mistral_ai'
               WHEN 'mistralai' THEN 'mistral_ai'
               WHEN 'xai' THEN 'x_ai'
               ELSE lower(btrim(provider))
           END
$$;
COMMENT ON FUNCTION agent_trace.normalize_provider(text) IS
    'The provider name model_prices uses for a provider as clients send it: lower case, and the OpenTelemetry GenAI name (gen_ai.provider.name) for common older or vendor spellings: gcp.gen_ai, gemini, google -> gcp.gemini; vertex_ai, vertexai -> gcp.vertex_ai; azure -> azure.ai.openai; bedrock -> aws.bedrock. NULL for NULL or empty.';

CREATE FUNCTION agent_trace.price_for(model text, provider text, at timestamptz)
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
COMMENT ON FUNCTION agent_trace.price_for(text, text, timestamptz) IS
    'The model_prices row that prices a call of this model and provider made at this time, or no row. Most specific model match first (exact name, name without "vendor/" prefix, name without date stamp, longest LIKE pattern), then the call''s own provider before "*", then the latest effective_from not after the call''s UTC date. Example: SELECT * FROM agent_trace.price_for(''claude-sonnet-4-5-20250929'', ''anthropic'', now());';

-- The arithmetic, once, over arrays: the insert trigger and recompute_costs price a whole batch of
-- calls of one model with one call (a function with a pinned search_path cannot be inlined, and
-- calling one per span would cost more than storing the span); cost_at_price wraps it for one call.
CREATE FUNCTION agent_trace._costs_at_price(
    price agent_trace.model_prices, input_tokens bigint[], output_tokens bigint[],
    cache_read_tokens bigint[], cache_write_tokens bigint[], reasoning_tokens bigint[]) RETURNS numeric[]
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Per component: tokens x price per million; 0 tokens cost 0 even when unpriced, and tokens at
    -- an unpriced component make the whole cost unknown (NULL). PL/pgSQL keeps the plan for the
    -- session.
    RETURN (SELECT array_agg(
               CASE WHEN price IS NULL OR (c.input IS NULL AND c.output IS NULL) THEN NULL ELSE
               trim_scale(
                   (CASE WHEN t.uncached = 0 THEN 0 ELSE t.uncached * r.input END
                  + CASE WHEN t.cache_read = 0 THEN 0 ELSE t.cache_read * r.cache_read END
                  + CASE WHEN t.cache_write = 0 THEN 0 ELSE t.cache_write * r.cache_write END
                  + CASE WHEN t.answer = 0 THEN 0 ELSE t.answer * r.output END
                  + CASE WHEN t.reasoning = 0 THEN 0 ELSE t.reasoning * r.reasoning END) * 0.000001)
               END
               ORDER BY c.n)
      FROM unnest(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
           WITH ORDINALITY AS c(input, output, cache_read, cache_write, reasoning, n)
     CROSS JOIN LATERAL (
           -- In numeric: the differences of two bigints need not fit a bigint.
           SELECT greatest(coalesce(c.input, 0)::numeric - coalesce(c.cache_read, 0) - coalesce(c.cache_write, 0), 0) AS uncached,
                  coalesce(c.cache_read, 0) AS cache_read,
                  coalesce(c.cache_write, 0) AS cache_write,
                  greatest(coalesce(c.output, 0)::numeric - coalesce(c.reasoning, 0), 0) AS answer,
                  coalesce(c.reasoning, 0) AS reasoning,
                  (price).long_context_above_tokens IS NOT NULL
                      AND coalesce(c.input, 0) > (price).long_context_above_tokens AS long_context
           ) AS t
     CROSS JOIN LATERAL (
           SELECT CASE WHEN t.long_context THEN (price).long_context_input_usd_per_mtok ELSE (price).input_usd_per_mtok END AS input,
                  CASE WHEN t.long_context THEN (price).long_context_output_usd_per_mtok ELSE (price).output_usd_per_mtok END AS output,
                  CASE WHEN t.long_context THEN (price).long_context_cache_read_usd_per_mtok ELSE (price).cache_read_usd_per_mtok END AS cache_read,
                  CASE WHEN t.long_context
                       THEN coalesce((price).long_context_cache_write_usd_per_mtok, (price).long_context_input_usd_per_mtok)
                       ELSE coalesce((price).cache_write_usd_per_mtok, (price).input_usd_per_mtok) END AS cache_write,
                  CASE WHEN t.long_context
                       THEN (price).long_context_output_usd_per_mtok
                       ELSE coalesce((price).reasoning_usd_per_mtok, (price).output_usd_per_mtok) END AS reasoning
           ) AS r);
END
$$;
COMMENT ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) IS
    'agent_trace.cost_at_price of many calls at one price: the i-th cost from the i-th element of each token array (arrays of equal length). Internal: the insert trigger and recompute_costs price a batch with one call.';

CREATE FUNCTION agent_trace.cost_at_price(
    price agent_trace.model_prices, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (agent_trace._costs_at_price(price, ARRAY[input_tokens], ARRAY[output_tokens],
                ARRAY[cache_read_tokens], ARRAY[cache_write_tokens], ARRAY[reasoning_tokens]))[1]
$$;
COMMENT ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call at this price row, from token counts with the meaning of the agent_spans columns: input_tokens includes cache_read_tokens and cache_write_tokens, output_tokens includes reasoning_tokens. Charges (input - cache_read - cache_write) at the input price, cache reads at the cache-read price, cache writes at the cache-write price (else the input price), (output - reasoning) at the output price and reasoning at the reasoning price (else the output price); above long_context_above_tokens input tokens, the long-context prices. A missing count is 0. NULL when price is NULL, when both input_tokens and output_tokens are NULL, or when tokens fall on an unpriced (NULL) price.';

CREATE FUNCTION agent_trace.compute_cost(
    model text, provider text, at timestamptz, input_tokens bigint, output_tokens bigint,
    cache_read_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint) RETURNS numeric
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT agent_trace.cost_at_price(p, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens)
      FROM agent_trace.price_for(model, provider, at) AS p
$$;
COMMENT ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) IS
    'Cost in US dollars of one call of this model and provider at this time with these token counts (agent_spans meaning: input_tokens includes cache reads and writes, output_tokens includes reasoning): agent_trace.cost_at_price of the row agent_trace.price_for picks. NULL when no price applies, the tokens are missing, or tokens fall on an unpriced component. Example: SELECT agent_trace.compute_cost(''gpt-4o'', ''openai'', now(), 1200, 300, 1000, NULL, NULL);';

------------------------------------------------------------------------------------------------------
-- Computed cost of spans
------------------------------------------------------------------------------------------------------
-- agent_spans is written by binary COPY and never updated; a BEFORE ROW trigger would turn COPY's
-- batched inserts into row-at-a-time ones. So the computed cost is not a column of agent_spans: the
-- statement trigger that folds new spans into agent_traces (rollup.sql) also prices them, one lookup
-- per (model, provider, day) of the batch, inserts one narrow row here per span it could price, and
-- adds their sum to agent_traces.computed_cost_usd in the same upsert. Join it to agent_spans on
-- (trace_id, span_id, start_time, project_id). Partitioned by day of start_time like agent_spans, so
-- retention drops a day of both at once. No foreign key (partitioned tables cannot reference each
-- other's partitions cheaply): the triggers that follow agent_spans' deletes and updates remove the
-- rows of spans that are gone (rollup.sql).

CREATE TABLE agent_trace.agent_span_costs (
    trace_id              agent_trace.trace_id NOT NULL,
    span_id               agent_trace.span_id NOT NULL,
    start_time            timestamptz NOT NULL,
    computed_cost_usd     numeric NOT NULL,
    price_model_pattern   text NOT NULL,
    price_provider        text NOT NULL,
    price_effective_from  date NOT NULL,
    computed_at           timestamptz NOT NULL DEFAULT now(),
    project_id            integer NOT NULL,
    CONSTRAINT agent_span_costs_pkey PRIMARY KEY (trace_id, span_id, start_time, project_id)
) PARTITION BY RANGE (start_time);
CREATE INDEX agent_span_costs_start_time_brin ON agent_trace.agent_span_costs USING brin (start_time);

COMMENT ON TABLE agent_trace.agent_span_costs IS
    'Computed cost of each LLM or embedding span that reported tokens and a model but no cost_usd, and that a model_prices row prices: one row per such span, keyed like agent_spans (join on trace_id, span_id, start_time, project_id). Written by the database as spans are inserted, and removed with them; agent_trace.recompute_costs rewrites it after prices change. Spans without a row here have a provided cost_usd or could not be priced.';
COMMENT ON COLUMN agent_trace.agent_span_costs.trace_id IS 'trace_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.project_id IS 'project_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.span_id IS 'span_id of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.start_time IS 'start_time of the span.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_cost_usd IS 'Cost of the span in US dollars computed from its tokens and the price row named by the price_* columns (agent_trace.cost_at_price).';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_model_pattern IS 'model_pattern of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_provider IS 'provider of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.price_effective_from IS 'effective_from of the model_prices row used.';
COMMENT ON COLUMN agent_trace.agent_span_costs.computed_at IS 'When this cost was computed (at insert, or by the last recompute_costs that changed it).';

------------------------------------------------------------------------------------------------------
-- Computed cost of log records
------------------------------------------------------------------------------------------------------
-- Log records are few (one per model call at most), so a BEFORE INSERT row trigger sets
-- agent_logs.computed_cost_usd directly, only on records that report tokens and a model but no cost.
-- agent_logs has no provider column: the record's gen_ai.provider.name (else gen_ai.system) attribute
-- is used, and without one any provider's price of the model matches.

CREATE FUNCTION agent_trace._log_provider(attributes jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(attributes ->> 'gen_ai.provider.name', attributes ->> 'gen_ai.system')
$$;
COMMENT ON FUNCTION agent_trace._log_provider(jsonb) IS
    'Provider of a log record for pricing: its gen_ai.provider.name, else gen_ai.system attribute. Internal.';

-- SECURITY DEFINER, like the span trigger (rollup.sql): it reads model_prices with the owner's
-- rights, so the writer needs no SELECT on it; only this table's trigger may run it.
CREATE FUNCTION agent_trace._cost_inserted_log() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- TG_RELID is the partition the row goes to: its root must be agent_logs.
    IF pg_partition_root(TG_RELID) IS DISTINCT FROM 'agent_trace.agent_logs'::regclass
       OR TG_WHEN <> 'BEFORE' OR TG_LEVEL <> 'ROW'
       OR TG_OP <> 'INSERT' THEN
        RAISE EXCEPTION 'agent_trace._cost_inserted_log runs only as the BEFORE INSERT row trigger of agent_trace.agent_logs'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    NEW.computed_cost_usd := agent_trace.compute_cost(
        NEW.model, agent_trace._log_provider(NEW.attributes), NEW.time, NEW.input_tokens,
        NEW.output_tokens, NEW.cache_read_tokens, NEW.cache_write_tokens, NEW.reasoning_tokens);
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._cost_inserted_log() IS
    'Trigger function: sets computed_cost_usd of a log record that reports tokens but no cost_usd, reading model_prices with the rights of the extension''s owner (SECURITY DEFINER). Internal.';

CREATE TRIGGER agent_logs_compute_cost
    BEFORE INSERT ON agent_trace.agent_logs
    FOR EACH ROW
    WHEN (NEW.cost_usd IS NULL AND NEW.model IS NOT NULL
          AND (NEW.input_tokens IS NOT NULL OR NEW.output_tokens IS NOT NULL))
    EXECUTE FUNCTION agent_trace._cost_inserted_log();

------------------------------------------------------------------------------------------------------
-- Re-costing after a price change
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace.recompute_costs(
    from_time timestamptz, to_time timestamptz,
    OUT span_costs_added bigint, OUT span_costs_changed bigint, OUT span_costs_removed bigint,
    OUT traces_updated bigint, OUT log_costs_changed bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    affected_traces agent_trace.trace_id[];
    affected_projects integer[];
BEGIN
    -- 1. Spans that started in [from_time, to_time): what their computed cost is now, against what
    --    agent_span_costs holds; write only the differences.
    WITH batches AS (
        SELECT s.model, s.provider, (s.start_time AT TIME ZONE 'UTC')::date AS day,
               array_agg(s.trace_id) AS trace_ids, array_agg(s.project_id) AS project_ids,
               array_agg(s.span_id) AS span_ids,
               array_agg(s.start_time) AS start_times, array_agg(s.input_tokens) AS input_tokens,
               array_agg(s.output_tokens) AS output_tokens, array_agg(s.cache_read_tokens) AS cache_read_tokens,
               array_agg(s.cache_write_tokens) AS cache_write_tokens, array_agg(s.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_spans AS s
         WHERE s.start_time >= from_time AND s.start_time < to_time
           AND s.span_type IN ('llm', 'embedding') AND s.cost_usd IS NULL AND s.model IS NOT NULL
           AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.trace_id, u.project_id, u.span_id, u.start_time, u.cost, p.model_pattern, p.provider,
               p.effective_from
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.trace_ids, b.project_ids, b.span_ids, b.start_times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(trace_id, project_id, span_id, start_time, cost)
         WHERE u.cost IS NOT NULL
    ), stored AS (
        SELECT c.* FROM agent_trace.agent_span_costs AS c
         WHERE c.start_time >= from_time AND c.start_time < to_time
    ), changes AS MATERIALIZED (
        SELECT coalesce(w.trace_id, s.trace_id) AS trace_id, coalesce(w.project_id, s.project_id) AS project_id,
               coalesce(w.span_id, s.span_id) AS span_id,
               coalesce(w.start_time, s.start_time) AS start_time, w.cost, w.model_pattern, w.provider,
               w.effective_from, s.trace_id IS NULL AS added
          FROM wanted AS w
          FULL JOIN stored AS s
            ON s.trace_id = w.trace_id AND s.span_id = w.span_id AND s.start_time = w.start_time
           AND s.project_id = w.project_id
         WHERE (w.cost, w.model_pattern, w.provider, w.effective_from)
               IS DISTINCT FROM (s.computed_cost_usd, s.price_model_pattern, s.price_provider, s.price_effective_from)
    ), written AS (
        INSERT INTO agent_trace.agent_span_costs AS c (trace_id, project_id, span_id, start_time,
               computed_cost_usd, price_model_pattern, price_provider, price_effective_from)
        SELECT ch.trace_id, ch.project_id, ch.span_id, ch.start_time, ch.cost, ch.model_pattern, ch.provider,
               ch.effective_from
          FROM changes AS ch
         WHERE ch.cost IS NOT NULL
         ORDER BY ch.trace_id, ch.span_id, ch.start_time, ch.project_id
            ON CONFLICT (trace_id, span_id, start_time, project_id) DO UPDATE SET
               computed_cost_usd = excluded.computed_cost_usd,
               price_model_pattern = excluded.price_model_pattern,
               price_provider = excluded.price_provider,
               price_effective_from = excluded.price_effective_from,
               computed_at = now()
    ), removed AS (
        DELETE FROM agent_trace.agent_span_costs AS c
         USING changes AS ch
         WHERE ch.cost IS NULL
           AND c.trace_id = ch.trace_id AND c.span_id = ch.span_id AND c.start_time = ch.start_time
           AND c.project_id = ch.project_id
    ), affected AS (
        SELECT DISTINCT ch.trace_id, ch.project_id FROM changes AS ch
    )
    SELECT count(*) FILTER (WHERE ch.cost IS NOT NULL AND ch.added),
           count(*) FILTER (WHERE ch.cost IS NOT NULL AND NOT ch.added),
           count(*) FILTER (WHERE ch.cost IS NULL),
           (SELECT array_agg(a.trace_id ORDER BY a.trace_id, a.project_id) FROM affected AS a),
           (SELECT array_agg(a.project_id ORDER BY a.trace_id, a.project_id) FROM affected AS a)
      INTO span_costs_added, span_costs_changed, span_costs_removed, affected_traces, affected_projects
      FROM changes AS ch;

    -- 2. Their traces' totals, from agent_span_costs. Lock the trace rows first (in trace_id order, as
    --    the insert trigger does): a concurrent insert that already added to a total has then
    --    committed and its cost rows are seen by the sum below (a new statement, a new snapshot); one
    --    that has not reached the trace row yet adds its own spans on top afterwards.
    PERFORM FROM agent_trace.agent_traces AS t
      JOIN unnest(affected_traces, affected_projects) AS a(trace_id, project_id)
        ON t.trace_id = a.trace_id AND t.project_id = a.project_id
      ORDER BY t.trace_id, t.project_id
        FOR UPDATE OF t;
    UPDATE agent_trace.agent_traces AS t
       SET computed_cost_usd = x.total
      FROM (SELECT a.trace_id, a.project_id,
                   (SELECT sum(c.computed_cost_usd) FROM agent_trace.agent_span_costs AS c
                     WHERE c.trace_id = a.trace_id AND c.project_id = a.project_id) AS total
              FROM unnest(affected_traces, affected_projects) AS a(trace_id, project_id)) AS x
     WHERE t.trace_id = x.trace_id AND t.project_id = x.project_id
       AND t.computed_cost_usd IS DISTINCT FROM x.total;
    GET DIAGNOSTICS traces_updated = ROW_COUNT;

    -- 3. Log records of [from_time, to_time) (few: one per model call).
    WITH batches AS (
        SELECT l.model, agent_trace._log_provider(l.attributes) AS provider,
               (l.time AT TIME ZONE 'UTC')::date AS day, array_agg(l.record_key) AS record_keys,
               array_agg(l.time) AS times, array_agg(l.input_tokens) AS input_tokens,
               array_agg(l.output_tokens) AS output_tokens, array_agg(l.cache_read_tokens) AS cache_read_tokens,
               array_agg(l.cache_write_tokens) AS cache_write_tokens, array_agg(l.reasoning_tokens) AS reasoning_tokens
          FROM agent_trace.agent_logs AS l
         WHERE l.time >= from_time AND l.time < to_time
           AND l.cost_usd IS NULL AND l.model IS NOT NULL
           AND (l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL)
         GROUP BY 1, 2, 3
    ), wanted AS (
        SELECT u.record_key, u.time, u.cost
          FROM batches AS b
         CROSS JOIN LATERAL agent_trace.price_for(b.model, b.provider, b.day::timestamp AT TIME ZONE 'UTC') AS p
         CROSS JOIN LATERAL unnest(b.record_keys, b.times,
                    agent_trace._costs_at_price(p, b.input_tokens, b.output_tokens, b.cache_read_tokens,
                                                b.cache_write_tokens, b.reasoning_tokens))
                    AS u(record_key, time, cost)
    ), target AS (
        -- Records that get a cost now, and records that had one (it may go).
        SELECT l.record_key, l.time, l.computed_cost_usd AS stored_cost, w.cost
          FROM agent_trace.agent_logs AS l
          LEFT JOIN wanted AS w ON w.record_key = l.record_key AND w.time = l.time
         WHERE l.time >= from_time AND l.time < to_time
           AND (w.cost IS NOT NULL OR l.computed_cost_usd IS NOT NULL)
    )
    UPDATE agent_trace.agent_logs AS l
       SET computed_cost_usd = t.cost
      FROM target AS t
     WHERE l.record_key = t.record_key AND l.time = t.time AND t.cost IS DISTINCT FROM t.stored_cost;
    GET DIAGNOSTICS log_costs_changed = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) IS
    'Re-computes the computed cost of the spans and log records whose start_time / time lies in [from_time, to_time) against model_prices as they are now, after you changed, added or deleted prices: adds, changes or removes agent_span_costs rows, updates the computed_cost_usd of their traces and of agent_logs rows. Changes only what differs, so a second run changes nothing. Returns how many span costs were added, changed and removed, traces updated and log costs changed. Example: SELECT * FROM agent_trace.recompute_costs(''2026-01-01'', now());';

------------------------------------------------------------------------------------------------------
-- Privileges
------------------------------------------------------------------------------------------------------
-- Prices and computed costs are numbers: both reader roles read them and may compute costs. The
-- writer gets nothing here: the insert triggers price spans and log records with the owner's rights.
-- Changing prices and recompute_costs stay with the owner (grant them to an admin role if needed).
GRANT SELECT ON agent_trace.model_prices, agent_trace.agent_span_costs
    TO agent_trace_reader, agent_trace_usage_reader;

REVOKE ALL ON FUNCTION agent_trace.normalize_provider(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.price_for(text, text, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._log_provider(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace._cost_inserted_log() FROM PUBLIC;
REVOKE ALL ON FUNCTION agent_trace.recompute_costs(timestamptz, timestamptz) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
    agent_trace.normalize_provider(text),
    agent_trace.price_for(text, text, timestamptz),
    agent_trace._costs_at_price(agent_trace.model_prices, bigint[], bigint[], bigint[], bigint[], bigint[]),
    agent_trace.cost_at_price(agent_trace.model_prices, bigint, bigint, bigint, bigint, bigint),
    agent_trace.compute_cost(text, text, timestamptz, bigint, bigint, bigint, bigint, bigint)
    TO agent_trace_reader, agent_trace_usage_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   prices

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
    'How long agent_trace.maintain() keeps each signal: spans (with their traces and computed costs), logs, metrics; for every project (project_id NULL) or one. No row: kept for ever. Change with agent_trace.set_retention.';
COMMENT ON COLUMN agent_trace.retention.signal IS 'spans (agent_spans, and agent_traces and agent_span_costs with them), logs (agent_logs) or metrics (agent_metrics).';
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
        ON CONFLICT ON CONSTRAINT retention_key DO UPDATE SET keep = excluded.keep, set_at = now();
END
$$;
COMMENT ON FUNCTION agent_trace.set_retention(text, interval, text) IS
    'Keeps signal (''spans'' with their traces and costs, ''logs'' or ''metrics'') for keep, for every project (project NULL) or for one project (by name); keep NULL removes the setting (kept for ever, or as every project). agent_trace.maintain() applies it: whole UTC days older than keep are dropped as partitions; a project kept shorter than the others loses its rows by DELETE. Example: SELECT agent_trace.set_retention(''spans'', ''30 days''); SELECT agent_trace.set_retention(''logs'', ''72 hours'', ''staging'');';
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
BEGIN
    -- A partition of the day, or one that covers part of it (the one an upgrade made of a table's
    -- earlier rows): nothing to do.
    IF EXISTS (SELECT FROM agent_trace.agent_partitions AS p
                WHERE p.table_name = _create_day_partition.table_name
                  AND p.from_time < day_end AND p.to_time > day_start) THEN
        RETURN NULL;
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
            EXECUTE format('DELETE FROM agent_trace.%I WHERE %I < $1', delete_table, time_column) USING cutoff;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                done := done || ARRAY[['deleted', delete_table, format('%s rows before %s (UTC)', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'))]];
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
            IF setting.project_id IS NOT NULL THEN
                EXECUTE format('DELETE FROM agent_trace.%I WHERE project_id = $1 AND %I < $2', delete_table, time_column)
                    USING setting.project_id, cutoff;
            ELSE
                EXECUTE format('DELETE FROM agent_trace.%I WHERE project_id <> ALL ($1) AND %I < $2', delete_table, time_column)
                    USING coalesce(own_projects, '{}'), cutoff;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                action := 'deleted'; table_name := delete_table;
                detail := format('%s rows before %s (UTC) of %s', n, to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                                 coalesce((SELECT 'project ' || p.name FROM agent_trace.projects AS p
                                            WHERE p.project_id = setting.project_id),
                                          'the projects without a retention of their own'));
                RETURN NEXT;
            END IF;
        EXCEPTION WHEN lock_not_available THEN
            action := 'skipped'; table_name := delete_table;
            detail := format('expiry before %s (UTC): a lock was not granted within lock_timeout; the next run tries again', to_char(cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
            RETURN NEXT;
        END;
    END LOOP;
END
$$;
COMMENT ON FUNCTION agent_trace._expire(text, timestamptz) IS
    'Applies the retention of one signal as of at: drops the partitions of days every project has let go and deletes what remains of them, deletes the older rows of projects kept shorter, fixes the traces; returns what it did. Internal: agent_trace.maintain() calls it.';
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

    -- 2. Retention.
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
    'Creates the daily partitions of yesterday to three days ahead (moving those days'' rows out of the default partitions) and applies agent_trace.retention: drops the partitions of expired days, deletes expired rows elsewhere, fixes the traces whose spans went. Returns one row per thing it did: created, dropped, deleted, refreshed, or skipped (a lock not granted within 2 s, or another maintain() running; the next run tries again). Run by the ingest when it starts and every hour; schedule it with pg_cron where the ingest does not run (docs/retention.md). Example: SELECT * FROM agent_trace.maintain();';
REVOKE ALL ON FUNCTION agent_trace.maintain() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.maintain() TO agent_trace_writer;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   partitions

-- Sessions across traced agents and coding-assistant CLIs: one row per session, whichever way its
-- telemetry came.
--
-- Two sources, each counted once:
--   * log events (agent_logs): the truth for Claude Code, Gemini CLI and Codex CLI, which put
--     tokens and cost on one event per model call (the ingest fills the usage columns on exactly
--     that event, see ingest/src/map/logs.rs);
--   * traces (agent_traces): every traced agent with a session id.
-- A session can arrive both ways (Claude Code sends traces and logs with the same session.id).
-- Usage then comes from the logs alone, which carry what the tool billed; counts of runs and
-- times merge. Metrics are not summed here: Claude Code and Gemini CLI report the same usage as
-- cumulative counters too (agent_metric_deltas charts them).

CREATE FUNCTION agent_trace.tool_label(service_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
               WHEN service_name = 'claude-code' THEN 'Claude Code'
               WHEN service_name = 'gemini-cli' THEN 'Gemini CLI'
               WHEN service_name LIKE 'codex%' THEN 'Codex'
               ELSE service_name
           END
$$;
COMMENT ON FUNCTION agent_trace.tool_label(text) IS
    'The product behind a service.name: Claude Code, Gemini CLI, Codex, else the service name itself.';

CREATE VIEW agent_trace.agent_sessions WITH (security_invoker = true) AS
WITH from_logs AS (
    SELECT l.session_id, l.project_id,
           agent_trace.tool_label(min(l.service_name)) AS tool,
           min(l.user_id) AS user_id,
           min(l.time) AS first_activity,
           max(l.time) AS last_activity,
           count(*) FILTER (WHERE l.event_name IN ('user_prompt', 'gemini_cli.user_prompt', 'codex.user_prompt')) AS prompts,
           count(*) FILTER (WHERE l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL) AS model_calls,
           count(*) FILTER (WHERE l.event_name IN ('tool_result', 'gemini_cli.tool_call', 'codex.tool_result')) AS tool_calls,
           count(*) FILTER (WHERE l.event_name IN ('api_error', 'gemini_cli.api_error', 'codex.api_error')
                               OR l.severity_number >= 17) AS errors,
           sum(l.input_tokens) AS input_tokens,
           sum(l.output_tokens) AS output_tokens,
           sum(l.cache_read_tokens) AS cache_read_tokens,
           sum(l.cache_write_tokens) AS cache_write_tokens,
           sum(l.reasoning_tokens) AS reasoning_tokens,
           sum(l.cost_usd) AS cost_usd,
           sum(l.computed_cost_usd) AS computed_cost_usd,
           bool_or(l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL) AS has_usage
      FROM agent_trace.agent_logs AS l
     WHERE l.session_id IS NOT NULL
     GROUP BY l.session_id, l.project_id
), from_traces AS (
    SELECT t.session_id, t.project_id,
           agent_trace.tool_label(min(t.service_name)) AS tool,
           min(t.user_id) AS user_id,
           min(t.start_time) AS first_activity,
           max(t.end_time) AS last_activity,
           count(*) AS runs,
           sum(t.llm_call_count) AS model_calls,
           sum(t.tool_call_count) AS tool_calls,
           sum(t.error_count) AS errors,
           sum(t.input_tokens) AS input_tokens,
           sum(t.output_tokens) AS output_tokens,
           sum(t.cache_read_tokens) AS cache_read_tokens,
           sum(t.cache_write_tokens) AS cache_write_tokens,
           sum(t.reasoning_tokens) AS reasoning_tokens,
           sum(t.cost_usd) AS cost_usd,
           sum(t.computed_cost_usd) AS computed_cost_usd
      FROM agent_trace.agent_traces AS t
     WHERE t.session_id IS NOT NULL
     GROUP BY t.session_id, t.project_id
)
SELECT coalesce(l.session_id, t.session_id) AS session_id,
       coalesce(l.tool, t.tool) AS tool,
       coalesce(l.user_id, t.user_id) AS user_id,
       least(l.first_activity, t.first_activity) AS first_activity,
       greatest(l.last_activity, t.last_activity) AS last_activity,
       -- A traced agent's run is one prompt; a CLI logs its prompts.
       CASE WHEN l.prompts > 0 THEN l.prompts ELSE coalesce(t.runs, 0) END AS prompts,
       coalesce(t.runs, 0) AS traces,
       CASE WHEN l.has_usage THEN l.model_calls ELSE coalesce(t.model_calls, 0) END AS model_calls,
       greatest(coalesce(l.tool_calls, 0), coalesce(t.tool_calls, 0)) AS tool_calls,
       greatest(coalesce(l.errors, 0), coalesce(t.errors, 0)) AS errors,
       CASE WHEN l.has_usage THEN l.input_tokens ELSE t.input_tokens END AS input_tokens,
       CASE WHEN l.has_usage THEN l.output_tokens ELSE t.output_tokens END AS output_tokens,
       CASE WHEN l.has_usage THEN l.cache_read_tokens ELSE t.cache_read_tokens END AS cache_read_tokens,
       CASE WHEN l.has_usage THEN l.cache_write_tokens ELSE t.cache_write_tokens END AS cache_write_tokens,
       CASE WHEN l.has_usage THEN l.reasoning_tokens ELSE t.reasoning_tokens END AS reasoning_tokens,
       CASE WHEN l.has_usage THEN l.cost_usd ELSE t.cost_usd END AS cost_usd,
       CASE WHEN l.has_usage THEN l.computed_cost_usd ELSE t.computed_cost_usd END AS computed_cost_usd,
       coalesce(l.project_id, t.project_id) AS project_id
  FROM from_logs AS l
  FULL JOIN from_traces AS t ON t.session_id = l.session_id AND t.project_id = l.project_id;

COMMENT ON VIEW agent_trace.agent_sessions IS
    'One row per session, from coding-assistant log events (Claude Code, Gemini CLI, Codex CLI) and from traced agents, each counted once: when a session has usage in its log events, tokens and cost come from those alone (what the tool reported); otherwise from its traces. Computed when read; filter by session_id, tool or time.';
COMMENT ON COLUMN agent_trace.agent_sessions.session_id IS 'Session id as the tool sends it (session.id, conversation.id, gen_ai.conversation.id).';
COMMENT ON COLUMN agent_trace.agent_sessions.project_id IS 'Project of the session (a session id used in two projects is two sessions).';
COMMENT ON COLUMN agent_trace.agent_sessions.tool IS 'What ran the session: Claude Code, Gemini CLI, Codex, else the service name.';
COMMENT ON COLUMN agent_trace.agent_sessions.user_id IS 'User of the session (user.id), the smallest if several.';
COMMENT ON COLUMN agent_trace.agent_sessions.first_activity IS 'Time of the session''s first event or span.';
COMMENT ON COLUMN agent_trace.agent_sessions.last_activity IS 'Time of the session''s last event, or end of its last span.';
COMMENT ON COLUMN agent_trace.agent_sessions.prompts IS 'User prompts: prompt events of a CLI, else the number of traced runs.';
COMMENT ON COLUMN agent_trace.agent_sessions.traces IS 'Traces (runs) recorded for the session.';
COMMENT ON COLUMN agent_trace.agent_sessions.model_calls IS 'LLM calls: events that reported usage, else LLM spans.';
COMMENT ON COLUMN agent_trace.agent_sessions.tool_calls IS 'Tool calls: tool result events or tool spans, whichever saw more.';
COMMENT ON COLUMN agent_trace.agent_sessions.errors IS 'API error events and events of severity ERROR or worse, or spans with status ERROR, whichever saw more.';
COMMENT ON COLUMN agent_trace.agent_sessions.input_tokens IS 'Input tokens, cache reads and writes included.';
COMMENT ON COLUMN agent_trace.agent_sessions.output_tokens IS 'Output tokens, reasoning included.';
COMMENT ON COLUMN agent_trace.agent_sessions.cache_read_tokens IS 'Input tokens served from the prompt cache.';
COMMENT ON COLUMN agent_trace.agent_sessions.cache_write_tokens IS 'Input tokens written to the prompt cache.';
COMMENT ON COLUMN agent_trace.agent_sessions.reasoning_tokens IS 'Output tokens spent on reasoning.';
COMMENT ON COLUMN agent_trace.agent_sessions.cost_usd IS 'Cost in US dollars as the tool reported it (e.g. Claude Code''s cost_usd).';
COMMENT ON COLUMN agent_trace.agent_sessions.computed_cost_usd IS 'Cost computed from agent_trace.model_prices for the calls that reported none. cost_usd + computed_cost_usd is the session''s cost as far as it is known.';

REVOKE ALL ON FUNCTION agent_trace.tool_label(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.tool_label(text) TO agent_trace_reader, agent_trace_usage_reader;
/* </end connected objects> */

/* <begin connected objects> */

CREATE SCHEMA IF NOT EXISTS agent_trace; /* agent_trace::api::agent_trace */
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::trace_tree_json
CREATE  FUNCTION agent_trace."trace_tree_json"(
	"trace_id" agent_trace.trace_id, /* Option < TraceId > */
	"root_span_id" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS jsonb /* Option < JsonB > */
STABLE PARALLEL SAFE 
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'trace_tree_json_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::critical_path
-- requires:
--   trace_tree_json
CREATE  FUNCTION agent_trace."critical_path"(
	"trace_id" agent_trace.trace_id, /* Option < TraceId > */
	"root_span_id" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS TABLE (
	"step" INT,  /* i32 */
	"depth" INT,  /* i32 */
	"span_id" agent_trace.span_id,  /* SpanId */
	"name" TEXT,  /* String */
	"span_type" TEXT,  /* String */
	"status" TEXT,  /* String */
	"start_offset_ms" double precision,  /* f64 */
	"duration_ms" double precision,  /* f64 */
	"critical_ms" double precision  /* f64 */
)
STABLE PARALLEL SAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'critical_path_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- agent_trace::api::agent_trace::diff_traces
-- requires:
--   critical_path
CREATE  FUNCTION agent_trace."diff_traces"(
	"trace_a" agent_trace.trace_id, /* Option < TraceId > */
	"trace_b" agent_trace.trace_id, /* Option < TraceId > */
	"root_span_a" agent_trace.span_id DEFAULT NULL, /* Option < SpanId > */
	"root_span_b" agent_trace.span_id DEFAULT NULL /* Option < SpanId > */
) RETURNS TABLE (
	"step" INT,  /* i32 */
	"depth" INT,  /* i32 */
	"path" TEXT,  /* String */
	"change" TEXT,  /* String */
	"span_type" TEXT,  /* String */
	"name" TEXT,  /* String */
	"span_id_a" agent_trace.span_id,  /* Option < SpanId > */
	"span_id_b" agent_trace.span_id,  /* Option < SpanId > */
	"status_a" TEXT,  /* Option < String > */
	"status_b" TEXT,  /* Option < String > */
	"model_a" TEXT,  /* Option < String > */
	"model_b" TEXT,  /* Option < String > */
	"start_offset_ms_a" double precision,  /* Option < f64 > */
	"start_offset_ms_b" double precision,  /* Option < f64 > */
	"duration_ms_a" double precision,  /* Option < f64 > */
	"duration_ms_b" double precision,  /* Option < f64 > */
	"duration_delta_ms" double precision,  /* Option < f64 > */
	"tokens_a" bigint,  /* Option < i64 > */
	"tokens_b" bigint,  /* Option < i64 > */
	"tokens_delta" bigint,  /* Option < i64 > */
	"cost_usd_a" NUMERIC,  /* Option < AnyNumeric > */
	"cost_usd_b" NUMERIC,  /* Option < AnyNumeric > */
	"cost_delta_usd" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_usd_a" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_usd_b" NUMERIC,  /* Option < AnyNumeric > */
	"computed_cost_delta_usd" NUMERIC,  /* Option < AnyNumeric > */
	"input_differs" bool,  /* Option < bool > */
	"output_differs" bool,  /* Option < bool > */
	"alignment" TEXT  /* String */
)
STABLE PARALLEL SAFE  
SET search_path TO pg_catalog, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'diff_traces_wrapper';
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   tables
--   api::agent_trace::trace_tree_json
--   api::agent_trace::diff_traces
--   api::agent_trace::critical_path

-- The SQL API over traces: trees, diffs, replay, critical path.
--
-- Four functions need an algorithm and are Rust (extension/src/api.rs): trace_tree (depth-first
-- order with cycle cuts, O(n log n) where a recursive CTE is quadratic on deep chains),
-- trace_tree_json (nesting), diff_traces (sequence alignment) and critical_path (a backward walk).
-- What is set-based is plain SQL here, built on those: ancestors and descendants (a subtree is a
-- contiguous range of tree_order), replay (a join and a sort), replay_json (an aggregate) and
-- diff_summary (aggregates plus one ordered pick from diff_traces).
--
-- Every function takes trace ids as the hex text users copy from logs
-- (trace_tree('4bf92f3577b34da6a3ce929d0e0e4736')) and an optional span id: with one, it works on
-- that span's subtree alone, e.g. one turn of a long session (see agent_turns).
-- An unknown trace or span gives no rows (NULL for the JSON functions), never an error.

-- Where a trace's spans start, for queries that read one trace's spans themselves: every span of a
-- trace starts within [trace_start, trace_end] (tables.sql), and PostgreSQL evaluates a STABLE
-- function before it opens partitions, so
--   WHERE s.trace_id = X AND s.start_time BETWEEN agent_trace.trace_start(X) AND agent_trace.trace_end(X)
-- reads only the days of that trace, where `WHERE s.trace_id = X` alone probes every day's partition.
CREATE FUNCTION agent_trace.trace_start(trace_id agent_trace.trace_id) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min(t.start_time) FROM agent_trace.agent_traces AS t WHERE t.trace_id = trace_start.trace_id
$$;
COMMENT ON FUNCTION agent_trace.trace_start(agent_trace.trace_id) IS
    'When the trace''s earliest span started (agent_traces.start_time); NULL for an unknown trace. With trace_end, bounds a query on one trace''s spans to its days'' partitions: SELECT * FROM agent_trace.agent_spans WHERE trace_id = ''4bf9...'' AND start_time BETWEEN agent_trace.trace_start(''4bf9...'') AND agent_trace.trace_end(''4bf9...'');';
CREATE FUNCTION agent_trace.trace_end(trace_id agent_trace.trace_id) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT max(t.end_time) FROM agent_trace.agent_traces AS t WHERE t.trace_id = trace_end.trace_id
$$;
COMMENT ON FUNCTION agent_trace.trace_end(agent_trace.trace_id) IS
    'When the trace''s latest span ended (agent_traces.end_time): no span of the trace starts after it. NULL for an unknown trace. See trace_start.';

-- One span in a trace's tree: the row type of trace_tree, span_ancestors and span_descendants.
CREATE TYPE agent_trace.tree_node AS (
    tree_order              integer,
    depth                   integer,
    path                    text,
    span_id                 agent_trace.span_id,
    parent_span_id          agent_trace.span_id,
    start_time              timestamptz,
    name                    text,
    span_type               text,
    status                  text,
    model                   text,
    start_offset_ms         double precision,
    duration_ms             double precision,
    self_time_ms            double precision,
    input_tokens            bigint,
    output_tokens           bigint,
    cost_usd                numeric,
    computed_cost_usd       numeric,
    subtree_spans           integer,
    subtree_input_tokens    bigint,
    subtree_output_tokens   bigint,
    subtree_cost_usd        numeric,
    subtree_computed_cost_usd numeric,
    subtree_errors          integer,
    is_orphan               boolean,
    is_cycle                boolean
);
COMMENT ON TYPE agent_trace.tree_node IS 'One span in a trace''s tree, as trace_tree, span_ancestors and span_descendants return it.';
COMMENT ON COLUMN agent_trace.tree_node.tree_order IS 'Position in depth-first order (siblings by start time), from 1.';
COMMENT ON COLUMN agent_trace.tree_node.depth IS 'Levels below the top (0 for a root, an orphan, or the span a subtree was asked for).';
COMMENT ON COLUMN agent_trace.tree_node.path IS 'Rank among siblings at each level from the top, e.g. "1.2.1"; deeper than 24 levels the middle shows as "…".';
COMMENT ON COLUMN agent_trace.tree_node.span_id IS 'The span.';
COMMENT ON COLUMN agent_trace.tree_node.parent_span_id IS 'Its parent as recorded (also when that parent never arrived: see is_orphan).';
COMMENT ON COLUMN agent_trace.tree_node.start_time IS 'When the span started.';
COMMENT ON COLUMN agent_trace.tree_node.name IS 'Span name.';
COMMENT ON COLUMN agent_trace.tree_node.span_type IS 'agent, llm, tool, ... as in agent_spans.';
COMMENT ON COLUMN agent_trace.tree_node.status IS 'OK, ERROR or UNSET.';
COMMENT ON COLUMN agent_trace.tree_node.model IS 'Model of an LLM or embedding call.';
COMMENT ON COLUMN agent_trace.tree_node.start_offset_ms IS 'Milliseconds from the start of the trace (or of the subtree asked for) to the span''s start.';
COMMENT ON COLUMN agent_trace.tree_node.duration_ms IS 'How long the span took, in milliseconds.';
COMMENT ON COLUMN agent_trace.tree_node.self_time_ms IS 'Milliseconds of the span not covered by any of its children.';
COMMENT ON COLUMN agent_trace.tree_node.input_tokens IS 'The span''s own input tokens, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.output_tokens IS 'The span''s own output tokens, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.cost_usd IS 'The span''s own cost in US dollars, as reported.';
COMMENT ON COLUMN agent_trace.tree_node.computed_cost_usd IS 'The span''s cost computed from model_prices (agent_span_costs), when it reported tokens but no cost.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_spans IS 'Spans in the subtree, the span itself included.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_input_tokens IS 'Input tokens of the LLM and embedding spans in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_output_tokens IS 'Output tokens of the LLM and embedding spans in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_cost_usd IS 'Reported cost of the LLM and embedding spans in the subtree, in US dollars.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_computed_cost_usd IS 'Computed cost of the LLM and embedding spans in the subtree; subtree_cost_usd + subtree_computed_cost_usd is its cost as far as it is known.';
COMMENT ON COLUMN agent_trace.tree_node.subtree_errors IS 'Spans with status ERROR in the subtree.';
COMMENT ON COLUMN agent_trace.tree_node.is_orphan IS 'The span names a parent that never arrived; it is shown at the top level.';
COMMENT ON COLUMN agent_trace.tree_node.is_cycle IS 'The span''s parent chain looped back to it; the loop was cut here and the span shown at the top level.';

-- Rust (extension/src/api.rs), returning its rows in materialize mode: a plain C-language function.
-- Its query (sql/queries/trace_spans.sql) runs under the pinned search_path, like every function
-- here: a caller's schema cannot put an operator of its own in front of pg_catalog's.
CREATE FUNCTION agent_trace.trace_tree(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS SETOF agent_trace.tree_node
LANGUAGE c STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'agent_trace_trace_tree';
COMMENT ON FUNCTION agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id) IS
    'The spans of a trace as a tree: one row per span in depth-first order (siblings by start time). path is the rank among siblings at each level ("1.2.1"; deeper than 24 levels the middle shows as "…"). self_time_ms is the time no child covered; subtree_* sum the span and everything below it (tokens and cost over llm and embedding spans only, as agent_traces does, since wrapper spans repeat their children''s usage). is_orphan: the parent never arrived (shown at the top level). is_cycle: the parent chain looped and was cut here. With root_span_id: that span''s subtree only, depths, paths and offsets counted from it.';
COMMENT ON FUNCTION agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id) IS
    'The same tree as trace_tree, as one nested jsonb document for applications: {trace_id, span_count, spans: [{span_id, name, span_type, status, model, start_offset_ms, duration_ms, self_time_ms, input_tokens, output_tokens, cost_usd, computed_cost_usd, subtree: {spans, input_tokens, output_tokens, cost_usd, computed_cost_usd, errors}, children: [...]}]}. NULL for an unknown (or NULL) trace or span.';
COMMENT ON FUNCTION agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'Two runs aligned node by node, depth-first. Spans correspond when they have the same span type and name at every level from the top (an LLM call''s name without its model, so a run against another model still lines up); siblings are aligned as sequences with a minimal edit script, so one extra call does not shift the later ones. change: same, changed (status, model, input, output or tokens differ; duration alone does not count), added (only in B) or removed (only in A). Deltas are B minus A (token deltas saturate at bigint''s range). cost_usd_* are reported costs, computed_cost_usd_* those computed from model_prices. alignment: exact when the row''s sibling list was aligned with a minimal edit script; positional when the diff had spent its budget of agent_trace.diff_alignment_budget million comparisons (the exact alignment of N and M siblings that differ in D places costs about (N + M) x D, quadratic for runs that do not resemble each other): then that list and every later one match their common start and end exactly and pair the rest by position, in linear time, and a call added or removed in the middle shifts the pairs after it. No rows when a trace is unknown or NULL.';
COMMENT ON FUNCTION agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain of spans that determined the trace''s wall time: from the span that finished last, walking back through the child that finished last before each point (a child ending exactly when the next starts counts as before it). critical_ms is the part of the wall time a span accounts for itself; over all rows it adds up to the wall time, minus gaps when nothing ran. No rows for an unknown or NULL trace.';

CREATE FUNCTION agent_trace.span_descendants(trace_id agent_trace.trace_id, span_id agent_trace.span_id)
RETURNS SETOF agent_trace.tree_node
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- In depth-first order a subtree is the range of rows right after its root.
    WITH tree AS MATERIALIZED (SELECT * FROM agent_trace.trace_tree(trace_id))
    SELECT t.*
      FROM tree AS t,
           (SELECT tree_order, subtree_spans FROM tree WHERE tree.span_id = span_descendants.span_id
             ORDER BY tree_order LIMIT 1) AS me
     WHERE t.tree_order > me.tree_order AND t.tree_order < me.tree_order + me.subtree_spans
     ORDER BY t.tree_order
$$;
COMMENT ON FUNCTION agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id) IS
    'Everything below one span (not the span itself), as trace_tree rows of the whole trace, depth-first. No rows for an unknown span.';

CREATE FUNCTION agent_trace.span_ancestors(trace_id agent_trace.trace_id, span_id agent_trace.span_id)
RETURNS SETOF agent_trace.tree_node
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- An ancestor is a row whose subtree range contains the span's row.
    WITH tree AS MATERIALIZED (SELECT * FROM agent_trace.trace_tree(trace_id))
    SELECT t.*
      FROM tree AS t,
           (SELECT tree_order FROM tree WHERE tree.span_id = span_ancestors.span_id
             ORDER BY tree_order LIMIT 1) AS me
     WHERE t.tree_order < me.tree_order AND t.tree_order + t.subtree_spans > me.tree_order
     ORDER BY t.tree_order
$$;
COMMENT ON FUNCTION agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id) IS
    'The chain above one span, from the top of the trace down to its parent, as trace_tree rows. Stops where a loop was cut (is_cycle). No rows for an unknown span or a top-level one.';

-- Text that holds JSON (recorded messages usually do) as that JSON, anything else as a JSON string.
CREATE FUNCTION agent_trace._json_or_text(value text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF left(ltrim(value), 1) IN ('{', '[') THEN
        BEGIN
            RETURN value::jsonb;
        EXCEPTION WHEN invalid_text_representation THEN
            NULL; -- not JSON after all: keep it as text
        END;
    END IF;
    RETURN to_jsonb(value);
END
$$;
COMMENT ON FUNCTION agent_trace._json_or_text(text) IS
    'Internal: text holding a JSON object or array as that jsonb, other text as a jsonb string.';

CREATE FUNCTION agent_trace.replay(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS TABLE (
    step bigint, start_offset_ms double precision, depth integer, span_type text, name text,
    model text, input text, output text, tool_name text, tool_arguments text, tool_result text,
    status text, error text, input_tokens bigint, output_tokens bigint, cost_usd numeric,
    computed_cost_usd numeric, span_id agent_trace.span_id)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    -- Where the trace's spans start (tables.sql), as values the plan sees: only those days'
    -- partitions are read (computed inside the query, every partition would be planned and opened).
    spans_from timestamptz;
    spans_to timestamptz;
BEGIN
    SELECT min(b.start_time), max(b.end_time) INTO spans_from, spans_to
      FROM agent_trace.agent_traces AS b WHERE b.trace_id = replay.trace_id;
    RETURN QUERY
    SELECT row_number() OVER (ORDER BY t.start_time, t.tree_order),
           t.start_offset_ms, t.depth, t.span_type, t.name, t.model, s.input, s.output, s.tool_name,
           CASE WHEN t.span_type = 'tool' THEN s.input END,
           CASE WHEN t.span_type = 'tool' THEN s.output END,
           t.status, s.status_message, t.input_tokens, t.output_tokens, t.cost_usd, t.computed_cost_usd,
           t.span_id
      FROM agent_trace.trace_tree(trace_id, root_span_id) AS t
      JOIN agent_trace.agent_spans AS s
        ON s.trace_id = replay.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
       AND s.start_time >= spans_from AND s.start_time <= spans_to
     ORDER BY t.start_time, t.tree_order;
END
$$;
COMMENT ON FUNCTION agent_trace.replay(agent_trace.trace_id, agent_trace.span_id) IS
    'The run as chronological steps (by start time; a parent before a child that starts with it), with the full input and output of each: the messages an LLM call was sent and what it answered, a tool''s arguments (tool_arguments) and result (tool_result). error is the status message of a failed step.';

CREATE FUNCTION agent_trace.replay_json(trace_id agent_trace.trace_id, root_span_id agent_trace.span_id DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    -- Where the trace's spans start (tables.sql), as values the plan sees: only those days'
    -- partitions are read (computed inside the query, every partition would be planned and opened).
    spans_from timestamptz;
    spans_to timestamptz;
BEGIN
    SELECT min(b.start_time), max(b.end_time) INTO spans_from, spans_to
      FROM agent_trace.agent_traces AS b WHERE b.trace_id = replay_json.trace_id;
    RETURN (
    SELECT CASE WHEN count(*) > 0 THEN jsonb_build_object(
               'trace_id', replay_json.trace_id::text,
               'steps', jsonb_agg(step ORDER BY start_time, tree_order))
           END
      FROM (
        SELECT t.start_time, t.tree_order,
               CASE WHEN t.span_type = 'llm' THEN jsonb_build_object(
                   'step', 'llm_request',
                   'span_id', t.span_id::text,
                   'name', t.name,
                   'model', t.model,
                   'provider', s.provider,
                   'messages', agent_trace._json_or_text(s.input),
                   -- The request parameters as recorded: GenAI's gen_ai.request.* (but the model)
                   -- and OpenInference's llm.invocation_parameters.
                   'parameters', coalesce(
                       (SELECT jsonb_object_agg(substr(a.key, length('gen_ai.request.') + 1), a.value)
                          FROM jsonb_each(s.attributes) AS a
                         WHERE a.key LIKE 'gen\_ai.request.%' AND a.key <> 'gen_ai.request.model'), '{}')
                       || coalesce(agent_trace._json_or_text(s.attributes ->> 'llm.invocation_parameters'), '{}'),
                   'response', agent_trace._json_or_text(s.output),
                   'status', t.status,
                   'input_tokens', t.input_tokens,
                   'output_tokens', t.output_tokens)
               ELSE jsonb_build_object(
                   'step', 'tool_result',
                   'span_id', t.span_id::text,
                   'tool_name', coalesce(s.tool_name, t.name),
                   'arguments', agent_trace._json_or_text(s.input),
                   'result', agent_trace._json_or_text(s.output),
                   'status', t.status,
                   'error', s.status_message)
               END AS step
          FROM agent_trace.trace_tree(trace_id, root_span_id) AS t
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = replay_json.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
           AND s.start_time >= spans_from AND s.start_time <= spans_to
         WHERE t.span_type IN ('llm', 'tool')
      ) AS steps);
END
$$;
COMMENT ON FUNCTION agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id) IS
    'What a harness needs to re-run the agent: the LLM requests (model, messages, parameters as recorded, and the recorded response) and the tool results, in chronological order, as {trace_id, steps: [{step: "llm_request", ...} | {step: "tool_result", tool_name, arguments, result, ...}]}. Messages and results that hold JSON are embedded as JSON. NULL when the trace (or span) has no LLM or tool steps.';

CREATE FUNCTION agent_trace.diff_summary(
    trace_a agent_trace.trace_id, trace_b agent_trace.trace_id,
    root_span_a agent_trace.span_id DEFAULT NULL, root_span_b agent_trace.span_id DEFAULT NULL)
RETURNS TABLE (
    spans_a bigint, spans_b bigint, spans_delta bigint,
    duration_ms_a double precision, duration_ms_b double precision, duration_delta_ms double precision,
    llm_calls_a bigint, llm_calls_b bigint, llm_calls_delta bigint,
    tool_calls_a bigint, tool_calls_b bigint, tool_calls_delta bigint,
    errors_a bigint, errors_b bigint, errors_delta bigint,
    input_tokens_a numeric, input_tokens_b numeric, input_tokens_delta numeric,
    output_tokens_a numeric, output_tokens_b numeric, output_tokens_delta numeric,
    cache_read_tokens_a numeric, cache_read_tokens_b numeric, cache_read_tokens_delta numeric,
    cache_write_tokens_a numeric, cache_write_tokens_b numeric, cache_write_tokens_delta numeric,
    reasoning_tokens_a numeric, reasoning_tokens_b numeric, reasoning_tokens_delta numeric,
    cost_usd_a numeric, cost_usd_b numeric, cost_delta_usd numeric,
    computed_cost_usd_a numeric, computed_cost_usd_b numeric, computed_cost_delta_usd numeric,
    first_divergence_step integer, first_divergence_kind text, first_divergence_path text,
    first_divergence_offset_ms double precision,
    first_divergence_span_a agent_trace.span_id, first_divergence_span_b agent_trace.span_id)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    -- Where the two traces' spans start (tables.sql), as values the plan sees: only those days'
    -- partitions are read (computed inside the query, every partition would be planned and opened).
    spans_from timestamptz;
    spans_to timestamptz;
BEGIN
    SELECT min(b.start_time), max(b.end_time) INTO spans_from, spans_to
      FROM agent_trace.agent_traces AS b WHERE b.trace_id IN (diff_summary.trace_a, diff_summary.trace_b);
    RETURN QUERY
    WITH trees AS MATERIALIZED (
        -- Each tree once (left to the planner, a tree could be rebuilt for every span it joins).
        SELECT run.side, run.trace_id, t.*
          FROM (VALUES ('a', trace_a, root_span_a), ('b', trace_b, root_span_b)) AS run (side, trace_id, root)
         CROSS JOIN LATERAL agent_trace.trace_tree(run.trace_id, run.root) AS t
    ), runs AS (
        SELECT t.side,
               count(*) AS spans,
               max(t.start_offset_ms + t.duration_ms) - min(t.start_offset_ms) AS duration_ms,
               count(*) FILTER (WHERE t.span_type = 'llm') AS llm_calls,
               count(*) FILTER (WHERE t.span_type = 'tool') AS tool_calls,
               count(*) FILTER (WHERE t.status = 'ERROR') AS errors,
               -- Usage over llm and embedding spans only, as agent_traces and trace_tree count it.
               sum(s.input_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS input_tokens,
               sum(s.output_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS output_tokens,
               sum(s.cache_read_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cache_read_tokens,
               sum(s.cache_write_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cache_write_tokens,
               sum(s.reasoning_tokens) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS reasoning_tokens,
               sum(t.cost_usd) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS cost_usd,
               sum(t.computed_cost_usd) FILTER (WHERE t.span_type IN ('llm', 'embedding')) AS computed_cost_usd
          FROM trees AS t
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = t.trace_id AND s.span_id = t.span_id AND s.start_time = t.start_time
           AND s.start_time >= spans_from AND s.start_time <= spans_to
           -- The ids as values too: the plan then reads the two traces by key, not the days by time.
           AND s.trace_id IN (diff_summary.trace_a, diff_summary.trace_b)
         GROUP BY t.side
    ), a AS (
        SELECT * FROM runs WHERE side = 'a'
    ), b AS (
        SELECT * FROM runs WHERE side = 'b'
    ), divergence AS (
        -- Where run B went a different way: the first moment its recorded data differs from A's.
        -- A differing input shows at the step's start, a differing output at its end, a step only
        -- one run has at its start; B's clock, or A's for a step B lacks.
        SELECT d.step, d.path, d.span_id_a, d.span_id_b,
               CASE WHEN d.change IN ('added', 'removed') THEN d.change
                    WHEN d.input_differs THEN 'input'
                    ELSE 'output' END AS kind,
               CASE WHEN d.change = 'added' THEN d.start_offset_ms_b
                    WHEN d.change = 'removed' THEN d.start_offset_ms_a
                    WHEN d.input_differs THEN d.start_offset_ms_b
                    ELSE d.start_offset_ms_b + d.duration_ms_b END AS offset_ms
          FROM agent_trace.diff_traces(trace_a, trace_b, root_span_a, root_span_b) AS d
         WHERE d.change IN ('added', 'removed') OR d.input_differs OR d.output_differs
         ORDER BY offset_ms, d.step
         LIMIT 1
    )
    SELECT coalesce(a.spans, 0), coalesce(b.spans, 0), coalesce(b.spans, 0) - coalesce(a.spans, 0),
           a.duration_ms, b.duration_ms, b.duration_ms - a.duration_ms,
           coalesce(a.llm_calls, 0), coalesce(b.llm_calls, 0), coalesce(b.llm_calls, 0) - coalesce(a.llm_calls, 0),
           coalesce(a.tool_calls, 0), coalesce(b.tool_calls, 0), coalesce(b.tool_calls, 0) - coalesce(a.tool_calls, 0),
           coalesce(a.errors, 0), coalesce(b.errors, 0), coalesce(b.errors, 0) - coalesce(a.errors, 0),
           a.input_tokens, b.input_tokens, b.input_tokens - a.input_tokens,
           a.output_tokens, b.output_tokens, b.output_tokens - a.output_tokens,
           a.cache_read_tokens, b.cache_read_tokens, b.cache_read_tokens - a.cache_read_tokens,
           a.cache_write_tokens, b.cache_write_tokens, b.cache_write_tokens - a.cache_write_tokens,
           a.reasoning_tokens, b.reasoning_tokens, b.reasoning_tokens - a.reasoning_tokens,
           a.cost_usd, b.cost_usd, b.cost_usd - a.cost_usd,
           a.computed_cost_usd, b.computed_cost_usd, b.computed_cost_usd - a.computed_cost_usd,
           d.step, d.kind, d.path, d.offset_ms, d.span_id_a, d.span_id_b
      FROM (SELECT) AS one
      LEFT JOIN a ON true
      LEFT JOIN b ON true
      LEFT JOIN divergence AS d ON true;
END
$$;
COMMENT ON FUNCTION agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id) IS
    'One row comparing two runs: spans, wall time, LLM and tool calls, errors, tokens by kind, reported and computed cost for A and B, with deltas (B minus A; tokens and cost over llm and embedding spans only), and the first divergence: the earliest point where run B''s recorded data differs from A''s (kind input, output, added or removed, at offset_ms on B''s clock), from diff_traces. No divergence columns when the runs match; zero spans for an unknown trace.';

-- Turns: the first-level steps under a trace's root. Codex CLI sends one trace per session with
-- thousands of spans, a turn (one prompt and everything it caused) being a child of the session's
-- root; every function above takes such a turn's span id to work on it alone.
CREATE VIEW agent_trace.agent_turns WITH (security_invoker = true) AS
SELECT t.trace_id,
       t.session_id,
       row_number() OVER (PARTITION BY t.trace_id, t.project_id ORDER BY n.start_time, n.tree_order) AS turn,
       n.span_id AS turn_span_id,
       n.name,
       n.span_type,
       n.status,
       n.start_time,
       n.duration_ms,
       n.subtree_spans AS span_count,
       n.subtree_input_tokens AS input_tokens,
       n.subtree_output_tokens AS output_tokens,
       n.subtree_cost_usd AS cost_usd,
       n.subtree_computed_cost_usd AS computed_cost_usd,
       n.subtree_errors AS error_count,
       t.project_id
  FROM agent_trace.agent_traces AS t
 CROSS JOIN LATERAL agent_trace.trace_tree(t.trace_id, t.root_span_id) AS n
 WHERE t.root_span_id IS NOT NULL AND n.depth = 1;
COMMENT ON VIEW agent_trace.agent_turns IS
    'One row per turn: a first-level step under a trace''s root span (for Codex CLI, whose trace is a whole session, one prompt and everything it caused). turn_span_id is what trace_tree, diff_traces, replay and critical_path take to work on that turn alone. Computed from the tree when read: filter by trace_id or session_id.';
COMMENT ON COLUMN agent_trace.agent_turns.trace_id IS 'The trace (session) the turn belongs to.';
COMMENT ON COLUMN agent_trace.agent_turns.project_id IS 'Project of the trace.';
COMMENT ON COLUMN agent_trace.agent_turns.session_id IS 'Session id of the trace, as in agent_traces.';
COMMENT ON COLUMN agent_trace.agent_turns.turn IS 'Turn number within the trace, 1 for the first, by start time.';
COMMENT ON COLUMN agent_trace.agent_turns.turn_span_id IS 'Span id of the turn: pass it to trace_tree, diff_traces, replay or critical_path.';
COMMENT ON COLUMN agent_trace.agent_turns.name IS 'Name of the turn''s span.';
COMMENT ON COLUMN agent_trace.agent_turns.span_type IS 'span_type of the turn''s span.';
COMMENT ON COLUMN agent_trace.agent_turns.status IS 'Status of the turn''s span: OK, ERROR or UNSET.';
COMMENT ON COLUMN agent_trace.agent_turns.start_time IS 'When the turn started.';
COMMENT ON COLUMN agent_trace.agent_turns.duration_ms IS 'How long the turn''s span took, in milliseconds.';
COMMENT ON COLUMN agent_trace.agent_turns.span_count IS 'Spans in the turn, its own included.';
COMMENT ON COLUMN agent_trace.agent_turns.input_tokens IS 'Input tokens of the LLM and embedding calls in the turn.';
COMMENT ON COLUMN agent_trace.agent_turns.output_tokens IS 'Output tokens of the LLM and embedding calls in the turn.';
COMMENT ON COLUMN agent_trace.agent_turns.cost_usd IS 'Reported cost of the LLM and embedding calls in the turn, in US dollars.';
COMMENT ON COLUMN agent_trace.agent_turns.computed_cost_usd IS 'Cost computed from model_prices for the calls in the turn that reported none.';
COMMENT ON COLUMN agent_trace.agent_turns.error_count IS 'Spans with status ERROR in the turn.';

-- Who may call what. The tree functions read no content (names, types, times, tokens, cost), so
-- both reader roles may call them, and the agent_turns view over them. The diff and replay
-- functions read inputs and outputs: agent_trace_reader only (for agent_trace_usage_reader they
-- would fail on the column privilege anyway). Readers may call the internal _json_or_text too:
-- replay_json calls it as its caller.
REVOKE ALL ON FUNCTION
    agent_trace.trace_start(agent_trace.trace_id),
    agent_trace.trace_end(agent_trace.trace_id),
    agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id),
    agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id),
    agent_trace._json_or_text(text),
    agent_trace.replay(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    agent_trace.trace_start(agent_trace.trace_id),
    agent_trace.trace_end(agent_trace.trace_id),
    agent_trace.trace_tree(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.trace_tree_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.critical_path(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_descendants(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.span_ancestors(agent_trace.trace_id, agent_trace.span_id)
    TO agent_trace_reader, agent_trace_usage_reader;
GRANT EXECUTE ON FUNCTION
    agent_trace.diff_traces(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id),
    agent_trace._json_or_text(text),
    agent_trace.replay(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.replay_json(agent_trace.trace_id, agent_trace.span_id),
    agent_trace.diff_summary(agent_trace.trace_id, agent_trace.trace_id, agent_trace.span_id, agent_trace.span_id)
    TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   functions

-- AgentOS compatibility: an unmodified Agno AgentOS app whose `db` is PostgresDb(db_schema = S)
-- lists and opens every trace agent_trace holds, and its own spans are stored in agent_spans.
--
-- What AgentOS 3.x (agno.db.postgres) needs in schema S, and what agent_trace.enable_agno_compat(S)
-- creates for it:
--
--   S.agno_traces  a TABLE whose primary key is trace_id: AgentOS lists traces with
--                  `SELECT agno_traces.*, count(agno_spans.span_id) ... GROUP BY agno_traces.trace_id`,
--                  which PostgreSQL accepts only over a table with that key (over a view: GroupingError).
--                  It is a copy of agent_traces in AgentOS's shapes (ISO-8601 text times, hex text ids),
--                  kept current by statement triggers on agent_traces. AgentOS's own upserts into it
--                  (INSERT .. ON CONFLICT DO UPDATE, which no view can take) are skipped by a row
--                  trigger: agent_trace derives the same row from the spans.
--   S.agno_spans   a VIEW over agent_spans in AgentOS's shapes, with the attributes AgentOS reads
--                  (openinference.span.kind, llm.model_name, llm.token_count.*, input.value,
--                  output.value, ...) filled from the typed columns, so traces of every client show
--                  their node types, models, tokens, inputs and outputs. An INSTEAD OF INSERT trigger
--                  stores AgentOS's span inserts (one INSERT per span) in agent_spans, with the typed
--                  columns mapped from the attributes in SQL (agent_trace._span_columns).
--
-- A schema is compatible while its agno_traces table carries the guard trigger
-- (agno_traces_written_by_agent_trace): the triggers on agent_traces find their targets that way, so
-- nothing outside the schema records it (a registry
-- table would have to be dumped and restored in step with the schema; triggers and indexes a user
-- adds to an extension's table are not dumped at all).
--
-- Ids and times are text as AgentOS writes and compares them: ids lowercase hex, times ISO 8601 in
-- UTC with microseconds ('2026-11-29T16:23:40.368150+00:00'), compared and sorted as text, so those
-- columns use the "C" collation (byte order is time order; other collations may ignore punctuation).

------------------------------------------------------------------------------------------------------
-- The span mapping in SQL, for spans that arrive through agno_spans instead of OTLP
------------------------------------------------------------------------------------------------------
-- This is the one place the ingest's mapping (ingest/src/map/spans.rs) exists twice. AgentOS writes
-- spans with SQL INSERTs, so only the database sees them; a Rust function in the extension would need
-- the ingest's mapping crate (and its OTLP types) inside PostgreSQL. The key lists below are keys.rs's,
-- in the same order (a test in keys.rs compares them name for name), and the rules are attrs.rs's:
-- "present" is neither missing, null nor an empty string; a present but unusable value gives NULL;
-- numbers may be strings. ingest/tests/agno.rs maps every captured request both ways and compares.
-- One difference remains: a non-string value in a text column is written by jsonb (with spaces
-- after ',' and ':'), by the ingest as compact JSON.

CREATE TYPE agent_trace.mapped_span AS (
    span_type           text,
    model               text,
    provider            text,
    input_tokens        bigint,
    output_tokens       bigint,
    cache_read_tokens   bigint,
    cache_write_tokens  bigint,
    reasoning_tokens    bigint,
    cost_usd            numeric,
    tool_name           text,
    agent_name          text,
    agent_id            text,
    session_id          text,
    user_id             text,
    run_id              text,
    team_id             text,
    workflow_id         text,
    correlation_id      text,
    input               text,
    output              text
);
COMMENT ON TYPE agent_trace.mapped_span IS
    'The typed columns of agent_spans that agent_trace._span_columns maps from a span''s name and attributes.';

-- The helpers below run for every span AgentOS inserts, each span in its own transaction, so they
-- are PL/pgSQL: a SQL function with a pinned search_path is never inlined, and is parsed and planned
-- again in every statement that calls it, where PL/pgSQL keeps its plans for the session.

CREATE FUNCTION agent_trace._first_present(attributes jsonb, keys text[]) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key text;
    value jsonb;
BEGIN
    FOREACH key IN ARRAY keys LOOP
        value := attributes -> key;
        IF value IS NOT NULL AND value <> 'null' AND value <> '""' THEN
            RETURN value;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._first_present(jsonb, text[]) IS
    'Internal: the value of the first key present in attributes (not missing, not null, not an empty string).';

CREATE FUNCTION agent_trace._text(value jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN CASE WHEN jsonb_typeof(value) = 'string' THEN value #>> '{}' ELSE value::text END;
END
$$;
COMMENT ON FUNCTION agent_trace._text(jsonb) IS
    'Internal: a text column''s value: a JSON string as its text, any other value as its JSON text.';

CREATE FUNCTION agent_trace._identity(attributes jsonb, resource_attributes jsonb, keys text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN agent_trace._text(coalesce(agent_trace._first_present(attributes, keys),
                                      agent_trace._first_present(resource_attributes, keys)));
END
$$;
COMMENT ON FUNCTION agent_trace._identity(jsonb, jsonb, text[]) IS
    'Internal: an identity column (agent, session, user, ...): the first key present in the span''s attributes, else in its resource''s, as text.';

-- A number as Rust reads it (attrs.rs): integer syntax as an i64, anything else as the nearest f64.
CREATE FUNCTION agent_trace._parse_number(value jsonb, OUT as_integer bigint, OUT as_double double precision)
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    text_value text;
    n numeric;
BEGIN
    CASE jsonb_typeof(value)
        WHEN 'number' THEN text_value := value #>> '{}';
        WHEN 'string' THEN text_value := btrim(value #>> '{}', E' \t\n\r\f\v');
        ELSE RETURN;
    END CASE;
    IF text_value ~ '^[+-]?[0-9]+$' THEN
        n := text_value::numeric;
        IF abs(n) < 9223372036854775808 OR n = -9223372036854775808 THEN
            as_integer := n;
            as_double := n;
        END IF;
    ELSIF text_value ~ '^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$' THEN
        n := text_value::numeric;
        -- Beyond a double's range Rust reads infinity, which no column takes.
        IF abs(n) <= 1.7976931348623157e308 THEN
            as_double := text_value::double precision;
        END IF;
    END IF;
END
$$;
COMMENT ON FUNCTION agent_trace._parse_number(jsonb) IS
    'Internal: a JSON number, or a string holding one, as Rust parses it (ingest/src/map/attrs.rs): integer syntax as as_integer (an i64) and as_double, any other decimal as as_double (the nearest double); NULLs when it is neither or out of range.';

CREATE FUNCTION agent_trace._token_count(value jsonb) RETURNS bigint
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    -- A non-negative i64; a double counts when it is whole and below 2^63 in magnitude.
    p := agent_trace._parse_number(value);
    IF p.as_integer IS NOT NULL THEN
        RETURN CASE WHEN p.as_integer >= 0 THEN p.as_integer END;
    END IF;
    IF p.as_double >= 0 AND p.as_double < 9223372036854775808 AND p.as_double = trunc(p.as_double) THEN
        RETURN p.as_double::bigint;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._token_count(jsonb) IS
    'Internal: a token count: a non-negative integer, also sent as a string or a whole double; NULL otherwise.';

CREATE FUNCTION agent_trace._cost(value jsonb) RETURNS numeric
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- As the ingest stores a reported cost: the double, as the shortest decimal that reads back as it
    -- (the double's text with extra_float_digits = 1, which _span_columns sets).
    RETURN (agent_trace._parse_number(value)).as_double::text::numeric;
END
$$;
COMMENT ON FUNCTION agent_trace._cost(jsonb) IS
    'Internal: a reported cost: any finite number, also sent as a string, stored as the ingest stores it.';

CREATE FUNCTION agent_trace._lookup(value text, pairs text[]) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wanted text := lower(value COLLATE "C");
BEGIN
    -- pairs: key, span_type, key, span_type, ...; keys match ignoring ASCII case.
    FOR i IN 1..coalesce(array_length(pairs, 1), 0) BY 2 LOOP
        IF lower(pairs[i] COLLATE "C") = wanted THEN
            RETURN pairs[i + 1];
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._lookup(text, text[]) IS
    'Internal: the value paired with the first key of pairs (key, value, key, value, ...) equal to value ignoring ASCII case.';

CREATE FUNCTION agent_trace._span_type(name text, attributes jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text;
BEGIN
    -- spans.rs span_type(): the first that decides. Only string values are looked up.
    kind := agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'openinference.span.kind') = 'string'
                                     THEN attributes ->> 'openinference.span.kind' END,
        ARRAY[ /* OPENINFERENCE_KINDS */ 'LLM', 'llm', 'EMBEDDING', 'embedding', 'CHAIN', 'chain',
               'RETRIEVER', 'retriever', 'RERANKER', 'reranker', 'TOOL', 'tool', 'AGENT', 'agent',
               'GUARDRAIL', 'guardrail', 'EVALUATOR', 'evaluator', 'PROMPT', 'prompt']);
    IF kind IS NOT NULL THEN
        -- Agno marks a team run as an AGENT span that carries a team id.
        RETURN CASE WHEN kind = 'agent' AND agent_trace._first_present(attributes, ARRAY['agno.team.id']) IS NOT NULL
                    THEN 'team' ELSE kind END;
    END IF;
    kind := coalesce(
        agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'gen_ai.operation.name') = 'string'
                                 THEN attributes ->> 'gen_ai.operation.name' END,
            ARRAY[ /* GENAI_OPERATIONS */ 'chat', 'llm', 'text_completion', 'llm', 'generate_content', 'llm',
                   'embeddings', 'embedding', 'retrieval', 'retriever', 'execute_tool', 'tool',
                   'invoke_agent', 'agent', 'create_agent', 'agent', 'invoke_workflow', 'workflow']),
        agent_trace._lookup(name,
            ARRAY[ /* VENDOR_SPAN_NAMES */ 'claude_code.interaction', 'agent', 'claude_code.llm_request', 'llm',
                   'claude_code.tool', 'tool', 'claude_code.hook', 'hook',
                   'claude_code.tool.blocked_on_user', 'other', 'claude_code.tool.execution', 'other',
                   'llm_call', 'llm', 'tool_call', 'tool', 'codex.exec', 'agent']),
        agent_trace._lookup(CASE WHEN jsonb_typeof(attributes -> 'span.type') = 'string'
                                 THEN attributes ->> 'span.type' END,
            ARRAY[ /* CLAUDE_SPAN_TYPES */ 'interaction', 'agent', 'llm_request', 'llm', 'tool', 'tool', 'hook', 'hook']));
    IF kind IS NOT NULL THEN
        RETURN kind;
    END IF;
    -- Codex: per-turn usage makes an agent span, per-response usage an LLM call.
    IF EXISTS (SELECT FROM jsonb_object_keys(attributes) AS k WHERE starts_with(k, 'codex.turn.token_usage.')) THEN
        RETURN 'agent';
    END IF;
    IF EXISTS (SELECT FROM jsonb_object_keys(attributes) AS k WHERE starts_with(k, 'codex.usage.')) THEN
        RETURN 'llm';
    END IF;
    RETURN 'other';
END
$$;
COMMENT ON FUNCTION agent_trace._span_type(text, jsonb) IS
    'Internal: the span_type of a span from its name and attributes, by the ingest''s rules (ingest/src/map/spans.rs).';

CREATE FUNCTION agent_trace._span_columns(name text, attributes jsonb, resource_attributes jsonb DEFAULT '{}')
    RETURNS agent_trace.mapped_span
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    SET extra_float_digits = 1  -- a double's text is then the shortest that reads back as it (_cost)
AS $$
DECLARE
    a jsonb := CASE WHEN jsonb_typeof(attributes) = 'object' THEN attributes ELSE '{}' END;
    r jsonb := CASE WHEN jsonb_typeof(resource_attributes) = 'object' THEN resource_attributes ELSE '{}' END;
    m agent_trace.mapped_span;
    input_keys text[] := ARRAY[ /* INPUT_TOKENS */ 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens',
        'llm.token_count.prompt', 'input_tokens', 'codex.turn.token_usage.input_tokens'];
    input_key text;
    key text;
BEGIN
    m.span_type := agent_trace._span_type(name, a);
    m.model := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* MODEL */ 'gen_ai.request.model',
        'gen_ai.response.model', 'llm.model_name', 'embedding.model_name', 'llm.response.model_name', 'model']));
    m.provider := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* PROVIDER */ 'gen_ai.provider.name',
        'gen_ai.system', 'llm.provider', 'llm.system']));
    -- Input tokens include cached ones: Claude Code's input_tokens leaves them out, so its two cache
    -- counts are added to it (saturating, as the ingest does).
    FOREACH key IN ARRAY input_keys LOOP
        IF a -> key NOT IN ('null', '""') THEN
            input_key := key;
            EXIT;
        END IF;
    END LOOP;
    m.input_tokens := agent_trace._token_count(a -> input_key);
    IF input_key = 'input_tokens' AND m.input_tokens IS NOT NULL THEN
        m.input_tokens := least(m.input_tokens::numeric
            + coalesce(agent_trace._token_count(agent_trace._first_present(a, ARRAY['cache_read_tokens'])), 0)
            + coalesce(agent_trace._token_count(agent_trace._first_present(a, ARRAY['cache_creation_tokens'])), 0),
            9223372036854775807)::bigint;
    END IF;
    m.output_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* OUTPUT_TOKENS */
        'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion',
        'output_tokens', 'codex.turn.token_usage.output_tokens']));
    m.cache_read_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* CACHE_READ_TOKENS */
        'gen_ai.usage.cache_read.input_tokens', 'llm.token_count.prompt_details.cache_read', 'cache_read_tokens',
        'codex.turn.token_usage.cached_input_tokens']));
    m.cache_write_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* CACHE_WRITE_TOKENS */
        'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write.input_tokens',
        'llm.token_count.prompt_details.cache_write', 'cache_creation_tokens',
        'codex.turn.token_usage.cache_write_input_tokens']));
    m.reasoning_tokens := agent_trace._token_count(agent_trace._first_present(a, ARRAY[ /* REASONING_TOKENS */
        'gen_ai.usage.reasoning.output_tokens', 'llm.token_count.completion_details.reasoning',
        'codex.usage.reasoning_output_tokens', 'codex.turn.token_usage.reasoning_output_tokens']));
    m.cost_usd := agent_trace._cost(agent_trace._first_present(a, ARRAY[ /* COST_USD */ 'gen_ai.usage.cost',
        'llm.cost.total', 'cost_usd']));
    m.tool_name := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* TOOL_NAME */ 'gen_ai.tool.name',
        'tool.name', 'tool_name']));
    -- Identity columns: the span's own value, else the resource's (one process is often one agent,
    -- session or user).
    m.agent_name := agent_trace._identity(a, r, ARRAY[ /* AGENT_NAME */ 'gen_ai.agent.name', 'agent.name',
        'graph.node.name']);
    m.agent_id := agent_trace._identity(a, r, ARRAY[ /* AGENT_ID */ 'gen_ai.agent.id', 'agno.agent.id']);
    m.session_id := agent_trace._identity(a, r, ARRAY[ /* SESSION_ID */ 'gen_ai.conversation.id', 'session.id',
        'agno.session.id', 'conversation.id']);
    m.user_id := agent_trace._identity(a, r, ARRAY[ /* USER_ID */ 'user.id', 'agno.user.id']);
    m.run_id := agent_trace._identity(a, r, ARRAY[ /* RUN_ID */ 'agno.run.id', 'run_id']);
    m.team_id := agent_trace._identity(a, r, ARRAY[ /* TEAM_ID */ 'agno.team.id']);
    m.workflow_id := agent_trace._identity(a, r, ARRAY[ /* WORKFLOW_ID */ 'gen_ai.workflow.name',
        'agno.workflow.id']);
    m.correlation_id := agent_trace._identity(a, r, ARRAY[ /* CORRELATION_ID */ 'correlation.id',
        'correlation_id']);
    m.input := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* INPUT */ 'gen_ai.input.messages',
        'gen_ai.tool.call.arguments', 'gen_ai.system_instructions', 'input.value', 'tool.parameters',
        'tool.arguments', 'user_prompt']));
    m.output := agent_trace._text(agent_trace._first_present(a, ARRAY[ /* OUTPUT */ 'gen_ai.output.messages',
        'gen_ai.tool.call.result', 'output.value', 'tool.result']));
    RETURN m;
END
$$;
COMMENT ON FUNCTION agent_trace._span_columns(text, jsonb, jsonb) IS
    'Internal: the typed columns of agent_spans from a span''s name, attributes and resource attributes, with the ingest''s key priorities and rules (ingest/src/map/spans.rs). Used for spans AgentOS inserts through agno_spans.';

------------------------------------------------------------------------------------------------------
-- Reading: agent_spans and agent_traces in AgentOS's shapes
------------------------------------------------------------------------------------------------------

-- PL/pgSQL, as the helpers above: these two run for every trace row a span insert changes.
CREATE FUNCTION agent_trace._agno_time(value timestamptz) RETURNS text
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Python's datetime.isoformat() of a UTC time, always with microseconds, so text order is time order.
    RETURN to_char(value AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"');
END
$$;
COMMENT ON FUNCTION agent_trace._agno_time(timestamptz) IS
    'Internal: a time as AgentOS stores it: ISO 8601 in UTC with microseconds, e.g. 2026-11-29T16:23:40.368150+00:00.';

-- One row of S.agno_traces. Every compatible schema's table is created OF this type, so the shape
-- is defined once, here. root_span_id is not AgentOS's: its spans view hangs the tree from it.
CREATE TYPE agent_trace.agno_trace AS (
    trace_id     text COLLATE "C",
    name         text,
    status       text,
    start_time   text COLLATE "C",
    end_time     text COLLATE "C",
    duration_ms  bigint,
    run_id       text,
    session_id   text,
    user_id      text,
    agent_id     text,
    team_id      text,
    workflow_id  text,
    created_at   text COLLATE "C",
    root_span_id text COLLATE "C"
);
COMMENT ON TYPE agent_trace.agno_trace IS
    'A row of AgentOS''s agno_traces table as enable_agno_compat creates it: one trace of agent_traces with text ids and ISO-8601 text times.';

CREATE FUNCTION agent_trace._agno_trace(t agent_trace.agent_traces) RETURNS agent_trace.agno_trace
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
        SELECT s.name INTO r.name FROM agent_trace.agent_spans AS s
         WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id
           AND s.start_time >= t.start_time AND s.start_time <= t.end_time
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
COMMENT ON FUNCTION agent_trace._agno_trace(agent_trace.agent_traces) IS
    'Internal: an agent_traces row as a row of AgentOS''s agno_traces: name (until the root span arrives, the earliest span''s), status, times as ISO-8601 text, duration_ms truncated to whole milliseconds, agent_id (else agent_name).';

CREATE FUNCTION agent_trace._agno_attributes(s agent_trace.agent_spans) RETURNS jsonb
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- The attributes AgentOS reads (agno/os/routers/traces/schemas.py), from the typed columns, over
    -- the span's own: every client's span shows its type, model, tokens, input, output and error the
    -- way the ingest understood them.
    SELECT s.attributes || jsonb_strip_nulls(jsonb_build_object(
        'openinference.span.kind', CASE s.span_type
            WHEN 'agent' THEN 'AGENT' WHEN 'team' THEN 'AGENT' WHEN 'llm' THEN 'LLM' WHEN 'tool' THEN 'TOOL'
            WHEN 'chain' THEN 'CHAIN' WHEN 'workflow' THEN 'CHAIN' WHEN 'retriever' THEN 'RETRIEVER'
            WHEN 'embedding' THEN 'EMBEDDING' WHEN 'reranker' THEN 'RERANKER' WHEN 'guardrail' THEN 'GUARDRAIL'
            WHEN 'evaluator' THEN 'EVALUATOR' WHEN 'prompt' THEN 'PROMPT' END,
        'agno.team.id', CASE WHEN s.span_type = 'team' THEN s.team_id END,
        'llm.model_name', s.model,
        'llm.token_count.prompt', s.input_tokens,
        'llm.token_count.completion', s.output_tokens,
        'tool.name', s.tool_name,
        'input.value', s.input,
        'output.value', s.output,
        'session.id', s.session_id,
        'user.id', s.user_id,
        'agno.run.id', s.run_id,
        -- The error of a failed span without a status message: its exception event's message.
        'exception.message', CASE WHEN s.status_code = 'ERROR' AND s.status_message IS NULL THEN
            (SELECT e -> 'attributes' ->> 'exception.message' FROM jsonb_array_elements(s.events) AS e
              WHERE e ->> 'name' = 'exception' LIMIT 1) END))
$$;
COMMENT ON FUNCTION agent_trace._agno_attributes(agent_trace.agent_spans) IS
    'Internal: a span''s attributes with the OpenInference keys AgentOS reads set from its typed columns (span kind, model, tokens, tool, input, output, session, user, run, exception message).';

------------------------------------------------------------------------------------------------------
-- Keeping S.agno_traces current
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._agno_traces_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- agent_trace's own writes come from _agno_sync_traces, a trigger that runs as its owner
    -- (SECURITY DEFINER): those pass. Anything else (AgentOS's upsert of its trace summary, which
    -- agent_trace derives from the spans itself, or a writer forging a row) is skipped.
    IF pg_trigger_depth() > 1
       AND current_user = (SELECT proowner::regrole::name FROM pg_proc
                            WHERE oid = 'agent_trace._agno_sync_traces()'::regprocedure) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_traces_guard() IS
    'Trigger function: lets through the writes to an AgentOS agno_traces table that agent_trace''s own trigger makes (as its owner) and skips every other (AgentOS''s own trace upserts, a forged row). Its presence on a table marks the table''s schema as compatible.';

CREATE FUNCTION agent_trace._agno_compat_tables()
    RETURNS TABLE (compat_table regclass, project_id integer)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Looked up by name in both catalogs' indexes: the copy trigger asks for every statement that
    -- writes agent_traces, and pg_trigger can hold many rows. PL/pgSQL keeps the plan for the session.
    -- Only tables the current role owns: the copy trigger runs as the extension's owner and must
    -- not write, with those rights, into a table someone else owns (whose own triggers would run).
    -- The project is the guard trigger's argument, which enable_agno_compat sets.
    RETURN QUERY
        SELECT c.oid::regclass, tg.tgargs_project
          FROM pg_class AS c
          JOIN LATERAL (SELECT convert_from(substring(t.tgargs FROM 1 FOR length(t.tgargs) - 1), 'UTF8')::integer
                                   AS tgargs_project
                          FROM pg_trigger AS t
                         WHERE t.tgrelid = c.oid AND t.tgname = 'agno_traces_written_by_agent_trace'
                           AND t.tgfoid = 'agent_trace._agno_traces_guard()'::regprocedure
                           AND t.tgnargs = 1) AS tg ON true
         WHERE c.relname = 'agno_traces' AND c.relkind = 'r'
           AND c.relowner = (SELECT r.oid FROM pg_roles AS r WHERE r.rolname = current_user)
         ORDER BY c.oid;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_compat_tables() IS
    'Internal: the agno_traces tables of every schema prepared by enable_agno_compat (those carrying its guard trigger) that the current role owns, in creation order, with the project each shows.';

CREATE FUNCTION agent_trace._agno_sync_traces() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target regclass;
    project integer;
BEGIN
    -- The fold's upsert fires the INSERT and the UPDATE trigger; one of them usually has no rows.
    IF TG_OP <> 'TRUNCATE' THEN
        IF NOT EXISTS (SELECT FROM changed_traces) THEN
            RETURN NULL;
        END IF;
    END IF;
    FOR target, project IN SELECT * FROM agent_trace._agno_compat_tables() LOOP
        -- A compatible schema must never cost a span: if its table cannot be written (dropped
        -- columns, missing privileges), the spans are stored all the same and a warning says why.
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                EXECUTE format('DELETE FROM %s', target);
            ELSIF TG_OP = 'DELETE' THEN
                EXECUTE format('DELETE FROM %s AS c USING changed_traces AS o
                                 WHERE c.trace_id = o.trace_id::text AND o.project_id = $1', target)
                  USING project;
            ELSE
                -- In trace_id order, as the fold writes agent_traces: concurrent writers lock rows in
                -- one order.
                EXECUTE format(
                    'INSERT INTO %s AS c SELECT r.* FROM changed_traces AS n, agent_trace._agno_trace(n) AS r
                      WHERE n.project_id = $1
                      ORDER BY r.trace_id
                         ON CONFLICT (trace_id) DO UPDATE SET
                            name = excluded.name, status = excluded.status, start_time = excluded.start_time,
                            end_time = excluded.end_time, duration_ms = excluded.duration_ms,
                            run_id = excluded.run_id, session_id = excluded.session_id,
                            user_id = excluded.user_id, agent_id = excluded.agent_id,
                            team_id = excluded.team_id, workflow_id = excluded.workflow_id,
                            created_at = excluded.created_at, root_span_id = excluded.root_span_id', target)
                  USING project;
            END IF;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'agent_trace: AgentOS table % not updated: %', target, SQLERRM
                USING HINT = 'agent_trace.enable_agno_compat(schema) rebuilds it.';
        END;
    END LOOP;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_sync_traces() IS
    'Trigger function: copies the agent_traces rows a statement inserted, updated or deleted into the agno_traces table of every schema prepared by enable_agno_compat for their project, with the rights of the extension''s owner (SECURITY DEFINER), and only into tables that role owns. Internal.';

CREATE TRIGGER agent_traces_agno_insert
    AFTER INSERT ON agent_trace.agent_traces
    REFERENCING NEW TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_update
    AFTER UPDATE ON agent_trace.agent_traces
    REFERENCING NEW TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_delete
    AFTER DELETE ON agent_trace.agent_traces
    REFERENCING OLD TABLE AS changed_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();
CREATE TRIGGER agent_traces_agno_truncate
    AFTER TRUNCATE ON agent_trace.agent_traces
    FOR EACH STATEMENT EXECUTE FUNCTION agent_trace._agno_sync_traces();

------------------------------------------------------------------------------------------------------
-- Writing: AgentOS's span inserts into agent_spans
------------------------------------------------------------------------------------------------------

CREATE FUNCTION agent_trace._agno_insert_span() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := NEW.start_time::timestamptz;
    m agent_trace.mapped_span := agent_trace._span_columns(NEW.name, NEW.attributes);
    project integer := TG_ARGV[0]::integer;
BEGIN
    -- A span stored already (re-sent, or received over OTLP too) is skipped: its ids identify it, and
    -- times written by AgentOS (microseconds of a double) may differ from the OTLP ones by a microsecond.
    -- The minute around its start reads one or two days' partitions, not all.
    IF NOT EXISTS (SELECT FROM agent_trace.agent_spans AS s
                    WHERE s.trace_id = NEW.trace_id::agent_trace.trace_id
                      AND s.span_id = NEW.span_id::agent_trace.span_id AND s.project_id = project
                      AND s.start_time BETWEEN started - interval '1 minute' AND started + interval '1 minute') THEN
        INSERT INTO agent_trace.agent_spans (
            trace_id, project_id, span_id, parent_span_id, start_time, end_time, name, span_kind, span_type, status_code,
            status_message, model, provider, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
            reasoning_tokens, cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
            workflow_id, correlation_id, input, output, attributes)
        VALUES (
            NEW.trace_id::agent_trace.trace_id, project, NEW.span_id::agent_trace.span_id,
            NEW.parent_span_id::agent_trace.span_id, started, greatest(NEW.end_time::timestamptz, started),
            NEW.name, coalesce(NEW.span_kind, 'INTERNAL'), m.span_type, coalesce(NEW.status_code, 'UNSET'),
            nullif(NEW.status_message, ''), m.model, m.provider, m.input_tokens, m.output_tokens,
            m.cache_read_tokens, m.cache_write_tokens, m.reasoning_tokens, m.cost_usd, m.tool_name,
            m.agent_name, m.agent_id, m.session_id, m.user_id, m.run_id, m.team_id, m.workflow_id,
            m.correlation_id, m.input, m.output, coalesce(NEW.attributes, '{}'))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION agent_trace._agno_insert_span() IS
    'Trigger function (INSTEAD OF INSERT on an AgentOS agno_spans view): stores the span in agent_spans, in the schema''s project (the trigger''s argument), with its typed columns mapped from its attributes, with the rights of the extension''s owner (SECURITY DEFINER), so the inserting role needs INSERT on the view only; a span whose trace and span id are stored already is skipped. Internal.';

------------------------------------------------------------------------------------------------------
-- Turning a schema on and off
------------------------------------------------------------------------------------------------------

-- Both run as the extension's owner (SECURITY DEFINER, granted to nobody else): what they create
-- belongs to that role, which the copy trigger writes into and nothing else (see
-- _agno_compat_tables). A compatible schema shows one project: its copy holds that project's traces,
-- its view that project's spans, and what AgentOS inserts is stored in it.
CREATE FUNCTION agent_trace.enable_agno_compat(schema_name text DEFAULT 'ai', project text DEFAULT 'default')
    RETURNS bigint
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    traces regclass;
    spans regclass;
    copied bigint;
    project_id integer := agent_trace._project_id(project);
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
        INSERT INTO %1$I.agno_traces SELECT r.* FROM agent_trace.agent_traces AS t, agent_trace._agno_trace(t) AS r
         WHERE t.project_id = %2$s;
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
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_traces_guard(%2$s);

        -- The trace comes from agno_traces, so `WHERE trace_id = '...'` finds it by that table's key
        -- and its spans by agent_spans' key. A span whose parent is missing (or a second parentless
        -- span) hangs from the trace's root: AgentOS builds its tree down from the parentless spans,
        -- and would drop it.
        CREATE VIEW %1$I.agno_spans WITH (security_invoker = true) AS
        SELECT s.span_id::text COLLATE "C" AS span_id,
               t.trace_id,
               CASE WHEN s.span_id::text = t.root_span_id THEN NULL
                    WHEN s.parent_span_id IS NOT NULL
                         AND EXISTS (SELECT FROM agent_trace.agent_spans AS p
                                      WHERE p.trace_id = s.trace_id AND p.span_id = s.parent_span_id
                                        AND p.project_id = s.project_id)
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
          JOIN agent_trace.agent_spans AS s
            ON s.trace_id = t.trace_id::agent_trace.trace_id AND s.project_id = %2$s;
        COMMENT ON VIEW %1$I.agno_spans IS
            'AgentOS''s spans table, as agent_trace.enable_agno_compat made it: agent_trace.agent_spans with text ids and times and OpenInference attributes from the typed columns. INSERTs are stored in agent_trace.agent_spans.';
        CREATE TRIGGER agno_spans_into_agent_spans
            INSTEAD OF INSERT ON %1$I.agno_spans
            FOR EACH ROW EXECUTE FUNCTION agent_trace._agno_insert_span(%2$s);

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
    $ddl$, schema_name, project_id);
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
COMMENT ON FUNCTION agent_trace.enable_agno_compat(text, text) IS
    'Prepares schema_name (created if missing) for an AgentOS app whose db is PostgresDb(db_schema = schema_name), showing one project (by default, default): a table agno_traces, a copy of the project''s agent_traces kept current by agent_trace, and a view agno_spans over its agent_spans whose INSERTs are stored in agent_spans, in the project. AgentOS then lists and opens every trace of the project, and its own spans are stored with their typed columns. Runs as the extension''s owner, which owns what it creates. Refuses a schema where AgentOS made its own trace tables. Running it again rebuilds the copy. Also indexes agent_spans by the span id as text (agent_spans_agno_span_id_idx, one for all compatible schemas, dropped with the last), so AgentOS opens a span by its id alone without a scan. Returns the number of traces copied. The objects are not part of the extension: pg_dump keeps the two (not the index on agent_spans: enable again after a restore); DROP EXTENSION needs disable_agno_compat first (or CASCADE).';

CREATE FUNCTION agent_trace.disable_agno_compat(schema_name text DEFAULT 'ai') RETURNS boolean
    LANGUAGE plpgsql
    SECURITY DEFINER
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
    last := NOT EXISTS (SELECT FROM agent_trace._agno_compat_tables() AS c WHERE c.compat_table <> traces);
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
COMMENT ON FUNCTION agent_trace.disable_agno_compat(text) IS
    'Drops what enable_agno_compat made in schema_name (agno_traces and agno_spans, and the span id index on agent_spans with the last compatible schema; no span or trace of agent_trace is touched). Returns false when there was nothing to drop. Refuses AgentOS''s own tables.';

-- Who may call what. Turning compatibility on or off is for the database owner (nothing granted);
-- the triggers write with the owner's rights; readers call the two functions the view reads through.
REVOKE ALL ON FUNCTION agent_trace._first_present(jsonb, text[]), agent_trace._text(jsonb),
    agent_trace._parse_number(jsonb), agent_trace._token_count(jsonb), agent_trace._cost(jsonb),
    agent_trace._identity(jsonb, jsonb, text[]), agent_trace._lookup(text, text[]), agent_trace._span_type(text, jsonb),
    agent_trace._span_columns(text, jsonb, jsonb), agent_trace._agno_time(timestamptz),
    agent_trace._agno_trace(agent_trace.agent_traces), agent_trace._agno_attributes(agent_trace.agent_spans),
    agent_trace._agno_traces_guard(), agent_trace._agno_compat_tables(), agent_trace._agno_sync_traces(),
    agent_trace._agno_insert_span(),
    agent_trace.enable_agno_compat(text, text), agent_trace.disable_agno_compat(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._agno_time(timestamptz), agent_trace._agno_attributes(agent_trace.agent_spans)
    TO agent_trace_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- requires:
--   agno

-- Erasure: everything stored of one user, session or trace, on request (GDPR article 17 and the like).
--
-- What is attributable to them:
--   * every trace with at least one span of that user, session or trace id, whole: a run's LLM
--     spans carry its prompts and answers even when only its root span names the user;
--   * every log record of that user, session or trace, and every record emitted inside an erased
--     trace;
--   * every metric point of that session, or whose attributes (or its sender's) name that user
--     (user.id, agno.user.id: the keys the ingest reads a user from).
-- With them go what the database derives from them: the traces' rows in agent_traces, their computed
-- costs, their copies in AgentOS schemas (the triggers of rollup.sql and agno.sql), and so the views.
--
-- Finding a user's spans reads every partition (user_id is not indexed: nothing else asks for
-- it), so erasure takes about as long as a scan of the tables; it locks only the rows it deletes.

CREATE FUNCTION agent_trace.erase(user_id text DEFAULT NULL, session_id text DEFAULT NULL,
                                  trace_id agent_trace.trace_id DEFAULT NULL, project text DEFAULT NULL)
    RETURNS TABLE (table_name text, rows_removed bigint)
    LANGUAGE plpgsql
    -- As the owner: row-level security would otherwise hide rows from the caller's DELETE, and an
    -- erasure that reports success while rows stay is the one failure it must not have.
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    only_project integer := CASE WHEN project IS NOT NULL THEN agent_trace._project_id(project) END;
    erased_trace agent_trace.trace_id[];
    erased_project integer[];
    compat record;
    n bigint;
BEGIN
    IF erase.user_id IS NULL AND erase.session_id IS NULL AND erase.trace_id IS NULL THEN
        RAISE EXCEPTION 'agent_trace.erase needs a user_id, a session_id or a trace_id'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'SELECT * FROM agent_trace.erase(user_id => ''alice@example.com'');';
    END IF;

    -- The traces to erase: those with a matching span, and those a matching log record was emitted in.
    SELECT array_agg(k.trace_id ORDER BY k.trace_id, k.project_id), array_agg(k.project_id ORDER BY k.trace_id, k.project_id)
      INTO erased_trace, erased_project
      FROM (SELECT s.trace_id, s.project_id FROM agent_trace.agent_spans AS s
             WHERE (s.user_id = erase.user_id OR s.session_id = erase.session_id OR s.trace_id = erase.trace_id)
               AND (only_project IS NULL OR s.project_id = only_project)
            UNION
            SELECT l.trace_id, l.project_id FROM agent_trace.agent_logs AS l
             WHERE l.trace_id IS NOT NULL
               AND (l.user_id = erase.user_id OR l.session_id = erase.session_id OR l.trace_id = erase.trace_id)
               AND (only_project IS NULL OR l.project_id = only_project)) AS k;
    erased_trace := coalesce(erased_trace, '{}');
    erased_project := coalesce(erased_project, '{}');

    -- What the triggers will remove with the spans, counted before they go.
    table_name := 'agent_traces';
    SELECT count(*) INTO rows_removed
      FROM agent_trace.agent_traces AS t
      JOIN unnest(erased_trace, erased_project) AS k(trace_id, project_id)
        ON t.trace_id = k.trace_id AND t.project_id = k.project_id;
    RETURN NEXT;
    table_name := 'agent_span_costs';
    SELECT count(*) INTO rows_removed
      FROM agent_trace.agent_span_costs AS c
      JOIN unnest(erased_trace, erased_project) AS k(trace_id, project_id)
        ON c.trace_id = k.trace_id AND c.project_id = k.project_id;
    RETURN NEXT;
    FOR compat IN SELECT a.compat_table, a.project_id FROM agent_trace._agno_compat_tables() AS a ORDER BY 1 LOOP
        EXECUTE format('SELECT count(*) FROM %s AS c WHERE c.trace_id = ANY ($1)', compat.compat_table)
            INTO n
            USING (SELECT array_agg(k.trace_id::text) FROM unnest(erased_trace, erased_project) AS k(trace_id, project_id)
                    WHERE k.project_id = compat.project_id);
        table_name := compat.compat_table::text; rows_removed := n;
        RETURN NEXT;
    END LOOP;

    table_name := 'agent_spans';
    DELETE FROM agent_trace.agent_spans AS s
     USING unnest(erased_trace, erased_project) AS k(trace_id, project_id)
     WHERE s.trace_id = k.trace_id AND s.project_id = k.project_id;
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;

    table_name := 'agent_logs';
    DELETE FROM agent_trace.agent_logs AS l
     WHERE (only_project IS NULL OR l.project_id = only_project)
       AND (l.user_id = erase.user_id OR l.session_id = erase.session_id OR l.trace_id = erase.trace_id
            OR (l.trace_id, l.project_id) IN (SELECT k.trace_id, k.project_id
                                                FROM unnest(erased_trace, erased_project) AS k(trace_id, project_id)));
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;

    table_name := 'agent_metrics';
    DELETE FROM agent_trace.agent_metrics AS m
     WHERE (only_project IS NULL OR m.project_id = only_project)
       AND (m.session_id = erase.session_id
            OR m.attributes ->> 'user.id' = erase.user_id OR m.attributes ->> 'agno.user.id' = erase.user_id
            OR m.resource_attributes ->> 'user.id' = erase.user_id
            OR m.resource_attributes ->> 'agno.user.id' = erase.user_id);
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agent_trace.erase(text, text, agent_trace.trace_id, text) IS
    'Erases everything stored of a user, a session or a trace (any of the three; in one project, or in all): every trace with a span of theirs, whole, with its agent_traces row, computed costs and AgentOS copies; their log records and those emitted in the erased traces; the metric points of the session or naming the user (user.id, agno.user.id). Returns the rows removed per table. Reads every partition; runs as the owner, and only the owner may call it (grant EXECUTE to an administrator of every project). Example: SELECT * FROM agent_trace.erase(user_id => ''alice@example.com'');';
REVOKE ALL ON FUNCTION agent_trace.erase(text, text, agent_trace.trace_id, text) FROM PUBLIC;
/* </end connected objects> */

/* <begin connected objects> */

-- finalize
-- Who may do what. Nothing is granted to PUBLIC: the schema is private until a role is granted.
--
--   agent_trace_reader        every table and view, every column; every query function
--   agent_trace_usage_reader  the numbers: every column but the content columns below; the tree
--                             functions, agent_sessions, agent_turns, prices and computed costs
--   agent_trace_writer        INSERT on agent_spans, agent_logs and agent_metrics; nothing else
--
-- The roles themselves are created first (roles.sql), so every file grants to them as it creates
-- its objects; this file, run last, grants on the tables and views.
-- Grant them to login roles: GRANT agent_trace_usage_reader TO grafana;
--
-- Content is what an agent read or wrote, and what may quote it: prompts and completions (input,
-- output, log bodies), tool arguments and results, error messages (status_message), and the raw
-- attributes, events and links, which hold all of those and more (user e-mails, file paths). Ids
-- (session_id, user_id, ...), names, models, tokens, cost, times and status are the numbers a cost
-- or latency dashboard needs, and usage readers see them. Column privileges, not views: the tables
-- keep one name, and a usage reader's query names its columns (SELECT * is refused, as it would
-- read content). The grants list the columns a usage reader may read, so a column added later
-- stays hidden from usage readers until it is listed here (tests/sql/schema.sql prints what they
-- cannot read).

GRANT USAGE ON SCHEMA agent_trace TO agent_trace_reader, agent_trace_usage_reader, agent_trace_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA agent_trace TO agent_trace_reader;
-- But not who may read what, nor the tokens: agent_trace.readable_projects() lists the projects a
-- role may read; the rest is for whoever manages projects (projects.sql).
REVOKE SELECT ON agent_trace.projects, agent_trace.project_grants, agent_trace.ingest_tokens
    FROM agent_trace_reader;
-- Nor how long data is kept and how much of it there is, across projects (partitions.sql): the
-- owner's business.
REVOKE SELECT ON agent_trace.retention, agent_trace.agent_partitions FROM agent_trace_reader;

-- The writer inserts spans (agent_logs and agent_metrics: signals.sql). What the fold trigger
-- writes (agent_traces, agent_span_costs) it writes with the owner's rights (rollup.sql), so the
-- writer can neither read what it stored nor change a stored row.
GRANT INSERT ON agent_trace.agent_spans TO agent_trace_writer;
REVOKE ALL ON FUNCTION agent_trace._fold_inserted_spans() FROM PUBLIC;

GRANT SELECT (trace_id, project_id, span_id, parent_span_id, start_time, end_time, duration_ms, name, span_kind,
              span_type, status_code, service_name, scope_name, scope_version, model, provider,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, agent_name, agent_id, session_id, user_id, run_id, team_id,
              workflow_id, correlation_id, created_at)
    ON agent_trace.agent_spans TO agent_trace_usage_reader;
GRANT SELECT (trace_id, project_id, name, status, start_time, end_time, duration_ms, span_count, error_count,
              llm_call_count, tool_call_count, input_tokens, output_tokens, cache_read_tokens,
              cache_write_tokens, reasoning_tokens, cost_usd, service_name, session_id, user_id,
              agent_name, agent_id, run_id, team_id, workflow_id, correlation_id, root_span_id,
              root_start_time, created_at, updated_at, computed_cost_usd)
    ON agent_trace.agent_traces TO agent_trace_usage_reader;
GRANT SELECT (record_key, project_id, time, observed_time, trace_id, span_id, event_name, severity_number,
              severity_text, service_name, scope_name, scope_version, session_id, user_id, model,
              input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
              cost_usd, tool_name, duration_ms, created_at, computed_cost_usd)
    ON agent_trace.agent_logs TO agent_trace_usage_reader;
GRANT SELECT (series_key, project_id, name, kind, temporality, is_monotonic, start_time, time, value, count, sum,
              min, max, bucket_bounds, bucket_counts, exponential_buckets, quantiles, unit,
              description, service_name, scope_name, scope_version, session_id, model, token_type,
              created_at)
    ON agent_trace.agent_metrics TO agent_trace_usage_reader;
GRANT SELECT ON agent_trace.agent_metric_deltas TO agent_trace_usage_reader;
-- The views read their tables as the caller (security_invoker): what they show of content they read
-- with the caller's column privileges, so a usage reader reads their numbers only.
GRANT SELECT ON agent_trace.agent_sessions, agent_trace.agent_turns TO agent_trace_usage_reader;

-- Projects (projects.sql): which rows a role sees and may insert. Row-level security on every table
-- that holds a project's rows; a role reads the rows of the projects granted to it (or to a role it
-- belongs to) for read, and inserts rows only into those granted for write. The views read their
-- tables as the caller (security_invoker), and every function reads as its caller, so the same
-- policies hold through them. The triggers write agent_traces and agent_span_costs as the
-- extension's owner, which row-level security does not restrict, for whichever project the spans
-- were stored in.
--
-- A role subject to these policies cannot COPY into the tables (PostgreSQL refuses COPY FROM with
-- row-level security): it inserts. The ingest's login writes every project's rows, so it gets
-- BYPASSRLS (agent-trace up, docker/, sql/ingest/ingest_role.sql), which lets it COPY and still read
-- nothing: it holds no SELECT privilege.
ALTER TABLE agent_trace.agent_spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_traces ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_span_costs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_trace.agent_metrics ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_granted_projects ON agent_trace.agent_spans FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_spans FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_traces FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_span_costs FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_logs FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_logs FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
CREATE POLICY read_granted_projects ON agent_trace.agent_metrics FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_metrics FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));

-- pg_dump: the tables an extension creates belong to it, and a dump leaves their rows out unless
-- they are registered here (the default project's redaction settings, if changed, are not kept).
-- Spans, logs, metrics and computed costs live in partitions: the daily ones are not part of the
-- extension (maintain() makes them), so pg_dump keeps them like any table; the default partitions
-- register themselves in partitions.sql; model_prices in prices.sql. A restore loads each partition
-- directly, which fires no trigger on the parent: agent_traces, derived from the spans, is dumped
-- too, as it was (a restore through the parents, pg_dump --load-via-partition-root, would fold the
-- spans into it a second time; agent_trace.refresh_traces repairs that).
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_traces', '');
-- And the projects, their grants and tokens, which only the user makes: all but what the extension
-- itself makes (the default project and its three grants, which a restore's CREATE EXTENSION makes
-- again).
SELECT pg_catalog.pg_extension_config_dump('agent_trace.projects', 'WHERE project_id <> 1');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.projects_project_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.project_grants',
    'WHERE NOT (project_id = 1 AND grantee::text IN (''agent_trace_reader'', ''agent_trace_usage_reader'', ''agent_trace_writer''))');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.ingest_tokens', '');
SELECT pg_catalog.pg_extension_config_dump('agent_trace.ingest_tokens_token_id_seq', '');
/* </end connected objects> */


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
