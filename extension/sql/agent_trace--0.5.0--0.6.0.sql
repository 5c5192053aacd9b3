-- agent_trace 0.5.0 -> 0.6.0: scores and annotations on runs (scores.sql: agent_scores,
-- add_score, the views agent_trace_scores and agent_score_stats; agent_scores_pending and
-- link_written_scores for scores that name a model response, an index of agent_spans' response
-- ids); retention (signal spans), erase and distribute() take scores with their runs, and
-- maintain() links the scores still waiting for their span; agent_sessions reads one session
-- through the session indexes.
-- Drafted by scripts/draft-upgrade-script.py from the 0.6.0 install script (scores.sql whole,
-- every function whose text changed taken whole); scripts/test-upgrade.sh checks that
-- upgrading gives exactly a fresh 0.6.0 install.

\echo Use "ALTER EXTENSION agent_trace UPDATE TO '0.6.0'" to load this file. \quit

-- requires:
--   signals

-- Scores and annotations on runs (issue 21): a human's thumbs-down, an LLM judge's 0.3 for
-- relevance, a unit check's pass/fail, end-user feedback. What OpenTelemetry's GenAI event
-- gen_ai.evaluation.result carries (gen_ai.evaluation.name, .score.value, .score.label,
-- .explanation, gen_ai.response.id), plus who scored and how.
--
-- Keys: (trace_id, score_key, project_id). score_key is the dedupe key, derived from the score's
-- content (by the ingest from the event, by add_score when not given), so a retried write stores
-- each score once. It holds trace_id so that Citus can distribute the table by trace_id,
-- colocated with agent_spans and agent_traces (citus.sql): a trace's scores sit with its spans.
--
-- No foreign key to agent_traces: a score may arrive before its trace (an evaluator that runs while
-- the run's spans are still in flight), and is kept.
--
-- Not partitioned: scores are few (a handful per run against its tens or hundreds of spans), and a
-- daily partition per table costs DDL, locks and Citus work in maintain(). They follow the spans'
-- retention all the same (partitions.sql: signal 'spans' deletes the scores scored before the
-- cutoff, per project as for the spans), and erasure removes those of the erased traces (erase.sql).

CREATE TABLE agent_trace.agent_scores (
    score_key     uuid NOT NULL,
    trace_id      agent_trace.trace_id NOT NULL,
    span_id       agent_trace.span_id,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    value         double precision CHECK (value > '-Infinity' AND value < 'Infinity'),  -- and not NaN (above Infinity)
    label         text CHECK (label <> ''),
    explanation   text,
    source        text CHECK (source IN ('human', 'llm', 'code', 'end_user')),
    scorer        text,
    response_id   text,
    scored_at     timestamptz NOT NULL DEFAULT now(),
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    project_id    integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_scores_pkey PRIMARY KEY (trace_id, score_key, project_id),
    CONSTRAINT agent_scores_value_or_label CHECK (value IS NOT NULL OR label IS NOT NULL)
);

-- A trace's scores come from the primary key (its leading column is trace_id). Score names are text
-- of any length: a hash index (as in tables.sql); retention deletes by scored_at (BRIN: tiny).
CREATE INDEX agent_scores_name_idx ON agent_trace.agent_scores USING hash (name);
CREATE INDEX agent_scores_scored_at_brin ON agent_trace.agent_scores USING brin (scored_at);

COMMENT ON TABLE agent_trace.agent_scores IS
    'One row per score or annotation of a run or of one of its spans: a human''s thumbs-down, an LLM judge''s 0.3 for relevance, a unit check''s pass/fail, end-user feedback (OpenTelemetry event gen_ai.evaluation.result). Each has a value, a label or both. Kept even when its trace has not arrived (yet). Written once; only span_id is filled in later, when the score names the model response it judges (response_id) and the span carrying that response arrives (agent_trace.link_written_scores, maintain()). A re-sent score (same trace_id, score_key and project_id) is ignored. Write with agent_trace.add_score. Expires with the spans (agent_trace.set_retention(''spans'', ...), counted from scored_at) and goes with its trace in agent_trace.erase. Per run: agent_trace_scores; per day, agent and model: agent_score_stats.';
COMMENT ON COLUMN agent_trace.agent_scores.score_key IS 'Dedupe key: a retried write of the same score carries the same key and is stored once. The ingest derives it from the event; agent_trace.add_score from the score''s content when not given.';
COMMENT ON COLUMN agent_trace.agent_scores.trace_id IS 'Run the score is about, as 32 hex digits (the OpenTelemetry trace id). Its trace may arrive later, or not at all.';
COMMENT ON COLUMN agent_trace.agent_scores.span_id IS 'Span the score is about, as 16 hex digits (e.g. the LLM call judged); NULL for a score of the whole run, or while the span carrying its response_id has not arrived.';
COMMENT ON COLUMN agent_trace.agent_scores.name IS 'What was scored (gen_ai.evaluation.name), e.g. "relevance", "thumbs", "json_valid". Never empty. Indexed by hash.';
COMMENT ON COLUMN agent_trace.agent_scores.value IS 'Numeric score (gen_ai.evaluation.score.value), e.g. 0.3, 1, 5; NULL when the score is a label only. Finite.';
COMMENT ON COLUMN agent_trace.agent_scores.label IS 'Categorical score (gen_ai.evaluation.score.label), e.g. "pass", "fail", "thumbs_down"; NULL when the score is a number only. At least one of value and label is set.';
COMMENT ON COLUMN agent_trace.agent_scores.explanation IS 'Why the score was given (gen_ai.evaluation.explanation): a judge''s reasoning, a reviewer''s note, a user''s comment.';
COMMENT ON COLUMN agent_trace.agent_scores.source IS 'What kind of scorer gave it: human (a reviewer), llm (an LLM judge), code (a programmatic check), end_user (feedback from the agent''s user); NULL when not said.';
COMMENT ON COLUMN agent_trace.agent_scores.scorer IS 'Who or what scored: a reviewer''s name, a judge model or evaluator name, a check''s name.';
COMMENT ON COLUMN agent_trace.agent_scores.response_id IS 'Id of the model response the score is about (gen_ai.response.id). When span_id is NULL, the span of this run whose gen_ai.response.id attribute it is becomes span_id once stored.';
COMMENT ON COLUMN agent_trace.agent_scores.scored_at IS 'When the score was given.';
COMMENT ON COLUMN agent_trace.agent_scores.attributes IS 'Every other attribute of the score as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_scores.created_at IS 'When this row was stored.';
COMMENT ON COLUMN agent_trace.agent_scores.project_id IS 'The project the score belongs to (agent_trace.projects); 1 (default) without one. A score in one project never touches another''s trace of the same id.';

-- Row-level security as on the other tables (access.sql): readers read the projects granted to
-- them, writers insert into those granted for write and read nothing.
ALTER TABLE agent_trace.agent_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_granted_projects ON agent_trace.agent_scores FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_scores FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
-- pg_dump keeps an extension table's rows only when it is registered.
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_scores', '');

-- The project a caller names, if it may write to it; one error for "no such project" and "not
-- yours", so a writer learns nothing of others' projects. SECURITY DEFINER: the projects are not the
-- caller's to read; _projects_granted answers only for a role the session's login belongs to.
CREATE FUNCTION agent_trace._writable_project_id(project text, role name) RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id integer;
BEGIN
    SELECT p.project_id INTO id FROM agent_trace.projects AS p
     WHERE p.name = project AND p.project_id = ANY (agent_trace._projects_granted('write', role));
    IF id IS NULL THEN
        RAISE EXCEPTION 'role % may not write to project %', role, coalesce(quote_literal(project), 'NULL')
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The project does not exist, or was not granted for write: agent_trace.grant_project(project, role, ''write'').';
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION agent_trace._writable_project_id(text, name) IS
    'The id of the project named project if role may write to it (and the session''s login is a member of role); an insufficient_privilege error otherwise, whether or not it exists. Internal: add_score.';
REVOKE ALL ON FUNCTION agent_trace._writable_project_id(text, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace._writable_project_id(text, name) TO agent_trace_writer;

-- As the caller (not SECURITY DEFINER): the write policy decides which projects it may score in,
-- and INSERT .. ON CONFLICT DO NOTHING without a conflict target needs no SELECT privilege.
CREATE FUNCTION agent_trace.add_score(trace_id agent_trace.trace_id, name text,
                                      value double precision DEFAULT NULL, label text DEFAULT NULL,
                                      explanation text DEFAULT NULL, source text DEFAULT NULL,
                                      scorer text DEFAULT NULL, span_id agent_trace.span_id DEFAULT NULL,
                                      scored_at timestamptz DEFAULT NULL, response_id text DEFAULT NULL,
                                      attributes jsonb DEFAULT NULL, score_key uuid DEFAULT NULL,
                                      project text DEFAULT NULL)
    RETURNS uuid
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target integer := CASE WHEN project IS NULL THEN 1 ELSE agent_trace._writable_project_id(project, current_user) END;
    key uuid := add_score.score_key;
BEGIN
    IF add_score.trace_id IS NULL THEN
        RAISE EXCEPTION 'a score needs the trace_id of the run it scores' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF add_score.name IS NULL OR btrim(add_score.name) = '' THEN
        RAISE EXCEPTION 'a score needs a name saying what was scored, e.g. ''relevance'''
            USING ERRCODE = CASE WHEN add_score.name IS NULL THEN 'null_value_not_allowed' ELSE 'invalid_parameter_value' END;
    END IF;
    IF add_score.value IS NULL AND (add_score.label IS NULL OR add_score.label = '') THEN
        RAISE EXCEPTION 'score % has neither a value nor a label', quote_literal(add_score.name)
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'Give value => 0.8, label => ''pass'', or both.';
    END IF;
    IF add_score.label = '' THEN
        RAISE EXCEPTION 'the label of score % is empty: give NULL for none', quote_literal(add_score.name)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF add_score.value IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'the value of score % is %: a score is a finite number', quote_literal(add_score.name), add_score.value
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF add_score.source IS NOT NULL AND add_score.source NOT IN ('human', 'llm', 'code', 'end_user') THEN
        RAISE EXCEPTION 'unknown score source %', quote_literal(add_score.source)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'source is human, llm, code or end_user (or NULL).';
    END IF;
    IF add_score.attributes IS NOT NULL AND jsonb_typeof(add_score.attributes) <> 'object' THEN
        RAISE EXCEPTION 'the attributes of a score are a JSON object, not %', jsonb_typeof(add_score.attributes)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- The same score written twice gets the same key: everything it says, and its time when the
    -- caller gave one (without, a retry a moment later is still the same score).
    IF key IS NULL THEN
        key := md5(jsonb_build_array(target, add_score.trace_id::text, add_score.span_id::text, add_score.name,
                                     add_score.value, add_score.label, add_score.explanation, add_score.source,
                                     add_score.scorer, add_score.response_id, add_score.scored_at,
                                     add_score.attributes)::text)::uuid;
    END IF;
    INSERT INTO agent_trace.agent_scores (score_key, trace_id, span_id, name, value, label, explanation, source,
                                          scorer, response_id, scored_at, attributes, project_id)
    VALUES (key, add_score.trace_id, add_score.span_id, add_score.name, add_score.value, add_score.label,
            add_score.explanation, add_score.source, add_score.scorer, add_score.response_id,
            coalesce(add_score.scored_at, now()), coalesce(add_score.attributes, '{}'), target)
    ON CONFLICT DO NOTHING;
    RETURN key;
END
$$;
COMMENT ON FUNCTION agent_trace.add_score(agent_trace.trace_id, text, double precision, text, text, text, text, agent_trace.span_id, timestamptz, text, jsonb, uuid, text) IS
    'Stores a score of a run (or of one of its spans, span_id) and returns its score_key: name (what was scored) and a value, a label or both; source human, llm, code or end_user; scorer, who or what scored. Stored once however often it is called with the same arguments (the key is derived from them unless score_key is given). Into the default project, or the project named (which the caller must be granted for write). The trace need not have arrived. For agent_trace_writer. Example: SELECT agent_trace.add_score(''4bf92f3577b34da6a3ce929d0e0e4736'', ''helpfulness'', label => ''thumbs_down'', source => ''end_user'', explanation => ''wrong city'');';
REVOKE ALL ON FUNCTION agent_trace.add_score(agent_trace.trace_id, text, double precision, text, text, text, text, agent_trace.span_id, timestamptz, text, jsonb, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.add_score(agent_trace.trace_id, text, double precision, text, text, text, text, agent_trace.span_id, timestamptz, text, jsonb, uuid, text) TO agent_trace_writer;
-- The writer inserts (through add_score, or directly as the ingest does) and reads nothing back.
GRANT INSERT ON agent_trace.agent_scores TO agent_trace_writer;

------------------------------------------------------------------------------------------------------
-- Scores that name a model response instead of a run
------------------------------------------------------------------------------------------------------

-- gen_ai.evaluation.result may name the response it judges (gen_ai.response.id) instead of its span,
-- from an evaluator that runs apart from the agent and never saw the trace context. Such a score is
-- linked to the span carrying that response id (agent_spans.attributes ->> 'gen_ai.response.id'),
-- of its own project only:
--   * a score whose run is known (a trace context without a span, or a span event naming its own
--     span's response) is an agent_scores row from the start, span_id NULL until linked;
--   * a score known only by its response id waits in agent_scores_pending, and moves into
--     agent_scores (keeping its key) once the span is found. It cannot wait in agent_scores: its
--     trace_id, the first column of the key and Citus's distribution column, is what it lacks.
-- Linking is agent_trace.link_written_scores, which the ingest calls in the transaction that
-- stores spans with response ids, or scores that name one; agent_trace.maintain() sweeps what a
-- race left (a span and its score committed at once, neither seeing the other) and spans stored
-- another way (AgentOS, plain SQL). Only the owner's function updates a score, and only its span_id
-- (never trace_id, the distribution column): the writer role still never UPDATEs.
--
-- The cost on agent_spans: a hash index of the response id, partial (only spans that carry one,
-- the LLM calls, are indexed; other inserts only test the key's presence). Without it, a pending
-- score's lookup would read every span of every partition. Hash: ids are text of any length (a
-- btree entry is refused past about 2.7 kB).
CREATE INDEX agent_spans_response_id_idx ON agent_trace.agent_spans
    USING hash ((attributes ->> 'gen_ai.response.id')) WHERE attributes ? 'gen_ai.response.id';

-- A local table on Citus (distribute() leaves it on the coordinator, like distributed_maintenance):
-- without a trace it has no distribution column, its rows are few and only the coordinator reads
-- and writes it.
CREATE TABLE agent_trace.agent_scores_pending (
    score_key     uuid NOT NULL,
    name          text NOT NULL CHECK (btrim(name) <> ''),
    value         double precision CHECK (value > '-Infinity' AND value < 'Infinity'),
    label         text CHECK (label <> ''),
    explanation   text,
    source        text CHECK (source IN ('human', 'llm', 'code', 'end_user')),
    scorer        text,
    response_id   text NOT NULL CHECK (response_id <> ''),
    scored_at     timestamptz NOT NULL DEFAULT now(),
    attributes    jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    project_id    integer NOT NULL DEFAULT 1,
    CONSTRAINT agent_scores_pending_pkey PRIMARY KEY (score_key, project_id),
    CONSTRAINT agent_scores_pending_value_or_label CHECK (value IS NOT NULL OR label IS NOT NULL)
);
CREATE INDEX agent_scores_pending_response_id_idx ON agent_trace.agent_scores_pending USING hash (response_id);
COMMENT ON TABLE agent_trace.agent_scores_pending IS
    'Scores that name only the model response they judge (gen_ai.response.id), while no span of their project carries that response id: each moves into agent_scores, with the run and span of that span, as soon as it is stored (agent_trace.link_written_scores; agent_trace.maintain() sweeps). Same columns and rules as agent_scores, without trace_id and span_id. Expires with the spans (counted from scored_at); agent_trace.erase removes those naming a response of an erased trace.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.score_key IS 'Dedupe key, kept when the score moves into agent_scores: a re-sent score is stored once, waiting or moved.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.name IS 'What was scored (gen_ai.evaluation.name). Never empty.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.value IS 'Numeric score (gen_ai.evaluation.score.value); NULL when a label only. Finite.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.label IS 'Categorical score (gen_ai.evaluation.score.label); NULL when a number only. At least one of value and label is set.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.explanation IS 'Why the score was given (gen_ai.evaluation.explanation).';
COMMENT ON COLUMN agent_trace.agent_scores_pending.source IS 'human, llm, code or end_user; NULL when not said.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.scorer IS 'Who or what scored.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.response_id IS 'Id of the model response the score is about (gen_ai.response.id): the score waits for the span whose gen_ai.response.id attribute it is. Indexed by hash.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.scored_at IS 'When the score was given.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.attributes IS 'Every other attribute of the score as sent, as a JSON object.';
COMMENT ON COLUMN agent_trace.agent_scores_pending.created_at IS 'When this row was stored (kept when it moves).';
COMMENT ON COLUMN agent_trace.agent_scores_pending.project_id IS 'The project the score belongs to; it is linked to a span of this project only.';
ALTER TABLE agent_trace.agent_scores_pending ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_granted_projects ON agent_trace.agent_scores_pending FOR SELECT
    USING (project_id = ANY ((SELECT agent_trace._projects_granted('read', current_user))::integer[]));
CREATE POLICY write_granted_projects ON agent_trace.agent_scores_pending FOR INSERT
    WITH CHECK (project_id = ANY ((SELECT agent_trace._projects_granted('write', current_user))::integer[]));
SELECT pg_catalog.pg_extension_config_dump('agent_trace.agent_scores_pending', '');
GRANT INSERT ON agent_trace.agent_scores_pending TO agent_trace_writer;
GRANT SELECT (score_key, name, value, label, source, scorer, response_id, scored_at, created_at, project_id)
    ON agent_trace.agent_scores_pending TO agent_trace_usage_reader;

-- Links the scores waiting for the span of the response they name: with response_ids NULL, every
-- one (maintain()); else those waiting on these (trace, project, response id) entries, as a batch
-- wrote them: a span carrying a response id (its trace, project and id), a score of a known run
-- naming one (the same), a pending score (trace NULL). A pending score moves to the span of its
-- project carrying its response id; a score of a known run gets the span of that run carrying it.
-- Of several such spans, an LLM call's, then the earliest (a wrapper may repeat its child's
-- attributes). One small statement per waiting response, each routed to one trace's node on Citus
-- (by trace_id) or to the response-id index; nothing waits, nothing is read beyond two index probes.
-- Returns how many pending scores moved, and how many scores got their span.
CREATE FUNCTION agent_trace._link_scores(trace_ids agent_trace.trace_id[], project_ids integer[], response_ids text[])
    RETURNS TABLE (moved bigint, linked bigint)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    sweep boolean := response_ids IS NULL;
    waiting record;
    found_trace agent_trace.trace_id;
    found_span agent_trace.span_id;
    taken agent_trace.agent_scores_pending[];
    n bigint;
BEGIN
    moved := 0;
    linked := 0;
    -- In key order, as every writer of these rows takes them.
    FOR waiting IN
        SELECT DISTINCT p.response_id, p.project_id FROM agent_trace.agent_scores_pending AS p
         WHERE sweep OR (p.response_id = ANY (response_ids) AND p.project_id = ANY (project_ids))
         ORDER BY p.response_id, p.project_id
    LOOP
        SELECT s.trace_id, s.span_id INTO found_trace, found_span
          FROM agent_trace.agent_spans AS s
         WHERE s.attributes ? 'gen_ai.response.id' AND s.attributes ->> 'gen_ai.response.id' = waiting.response_id
           AND s.project_id = waiting.project_id
         ORDER BY s.span_type <> 'llm', s.start_time, s.span_id
         LIMIT 1;
        CONTINUE WHEN NOT FOUND;
        -- Exactly the rows deleted move (a score stored meanwhile waits for the next call).
        WITH gone AS (DELETE FROM agent_trace.agent_scores_pending AS p
                       WHERE p.response_id = waiting.response_id AND p.project_id = waiting.project_id
                      RETURNING p AS score)
        SELECT array_agg(g.score ORDER BY (g.score).score_key) INTO taken FROM gone AS g;
        INSERT INTO agent_trace.agent_scores (score_key, trace_id, span_id, name, value, label, explanation, source,
                                              scorer, response_id, scored_at, attributes, created_at, project_id)
        SELECT t.score_key, found_trace, found_span, t.name, t.value, t.label, t.explanation, t.source,
               t.scorer, t.response_id, t.scored_at, t.attributes, t.created_at, t.project_id
          FROM unnest(taken) AS t
            ON CONFLICT DO NOTHING;
        moved := moved + coalesce(cardinality(taken), 0);
    END LOOP;
    FOR waiting IN
        SELECT DISTINCT sc.trace_id, sc.project_id, sc.response_id FROM agent_trace.agent_scores AS sc
         WHERE sc.span_id IS NULL AND sc.response_id IS NOT NULL
           AND (sweep OR sc.trace_id = ANY (trace_ids))
         ORDER BY sc.trace_id, sc.project_id, sc.response_id
    LOOP
        SELECT s.span_id INTO found_span
          FROM agent_trace.agent_spans AS s
         WHERE s.trace_id = waiting.trace_id AND s.project_id = waiting.project_id
           AND s.attributes ? 'gen_ai.response.id' AND s.attributes ->> 'gen_ai.response.id' = waiting.response_id
         ORDER BY s.span_type <> 'llm', s.start_time, s.span_id
         LIMIT 1;
        CONTINUE WHEN NOT FOUND;
        UPDATE agent_trace.agent_scores AS sc SET span_id = found_span
         WHERE sc.trace_id = waiting.trace_id AND sc.project_id = waiting.project_id
           AND sc.response_id = waiting.response_id AND sc.span_id IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        linked := linked + n;
    END LOOP;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION agent_trace._link_scores(agent_trace.trace_id[], integer[], text[]) IS
    'Links the scores waiting for the span of the model response they name (every one when response_ids is NULL, else those of these entries): pending scores move into agent_scores, scores of known runs get their span_id. Returns how many moved and how many were linked. Internal: link_written_scores and maintain() call it.';
REVOKE ALL ON FUNCTION agent_trace._link_scores(agent_trace.trace_id[], integer[], text[]) FROM PUBLIC;

-- The ingest's call, granted to the writer, which may neither read nor update: linking gives each
-- waiting score the span it names in its own project, so a call for any entries, any number of
-- times, changes nothing that is right, and it answers nothing (a writer learns nothing of what
-- is stored). Entries are (trace_ids[i], project_ids[i], response_ids[i]); no sweep from here.
CREATE FUNCTION agent_trace.link_written_scores(trace_ids agent_trace.trace_id[], project_ids integer[],
                                                response_ids text[])
    RETURNS void
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT FROM agent_trace._link_scores(trace_ids, project_ids, coalesce(response_ids, '{}'))
$$;
COMMENT ON FUNCTION agent_trace.link_written_scores(agent_trace.trace_id[], integer[], text[]) IS
    'Links the scores waiting on these entries (trace_ids[i] or NULL, project_ids[i], response_ids[i]): pending scores of that response id and project move into agent_scores, scores of that run naming that response get their span. What the ingest runs in the transaction that stores spans carrying gen_ai.response.id, or scores naming one; idempotent. Internal.';
REVOKE ALL ON FUNCTION agent_trace.link_written_scores(agent_trace.trace_id[], integer[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agent_trace.link_written_scores(agent_trace.trace_id[], integer[], text[]) TO agent_trace_writer;

-- Per run and score name: what a dashboard's "runs" table shows next to each run. Scores of the
-- run's spans count for the run too. Latest by scored_at (ties: the later stored, then the key).
CREATE VIEW agent_trace.agent_trace_scores WITH (security_invoker = true) AS
SELECT s.project_id, s.trace_id, s.name, t.agent_name, t.start_time AS trace_start_time,
       s.latest_value, s.latest_label, s.latest_source, s.latest_scorer, s.latest_scored_at,
       s.score_count, s.avg_value, s.first_scored_at
  FROM (SELECT sc.project_id, sc.trace_id, sc.name,
               (array_agg(sc.value ORDER BY sc.scored_at DESC, sc.created_at DESC, sc.score_key DESC))[1] AS latest_value,
               (array_agg(sc.label ORDER BY sc.scored_at DESC, sc.created_at DESC, sc.score_key DESC))[1] AS latest_label,
               (array_agg(sc.source ORDER BY sc.scored_at DESC, sc.created_at DESC, sc.score_key DESC))[1] AS latest_source,
               (array_agg(sc.scorer ORDER BY sc.scored_at DESC, sc.created_at DESC, sc.score_key DESC))[1] AS latest_scorer,
               max(sc.scored_at) AS latest_scored_at,
               count(*) AS score_count,
               avg(sc.value) AS avg_value,
               min(sc.scored_at) AS first_scored_at
          FROM agent_trace.agent_scores AS sc
         GROUP BY sc.project_id, sc.trace_id, sc.name) AS s
  LEFT JOIN agent_trace.agent_traces AS t ON t.trace_id = s.trace_id AND t.project_id = s.project_id;
COMMENT ON VIEW agent_trace.agent_trace_scores IS
    'One row per run and score name: the latest score (value, label, source, scorer, time), how many were given and their average value. Scores of the run''s spans count for the run. agent_name and trace_start_time are NULL while the run''s trace has not arrived. Example: SELECT trace_id, latest_label FROM agent_trace.agent_trace_scores WHERE name = ''helpfulness'' AND latest_label = ''thumbs_down'';';
COMMENT ON COLUMN agent_trace.agent_trace_scores.project_id IS 'Project of the scores.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.trace_id IS 'The run scored.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.name IS 'What was scored, e.g. "relevance".';
COMMENT ON COLUMN agent_trace.agent_trace_scores.agent_name IS 'Agent of the run (agent_traces.agent_name); NULL until its trace arrives.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.trace_start_time IS 'When the run started (agent_traces.start_time); NULL until its trace arrives.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.latest_value IS 'Value of the latest score of this name (NULL if that score is a label only).';
COMMENT ON COLUMN agent_trace.agent_trace_scores.latest_label IS 'Label of the latest score of this name (NULL if that score is a number only).';
COMMENT ON COLUMN agent_trace.agent_trace_scores.latest_source IS 'human, llm, code or end_user: who gave the latest score.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.latest_scorer IS 'Who or what gave the latest score.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.latest_scored_at IS 'When the latest score was given.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.score_count IS 'Number of scores of this name given to the run (or its spans).';
COMMENT ON COLUMN agent_trace.agent_trace_scores.avg_value IS 'Average of their values; NULL when all are labels.';
COMMENT ON COLUMN agent_trace.agent_trace_scores.first_scored_at IS 'When the first of them was given.';

-- Per score name, agent, model and day: the quality chart. A score's agent and model are its span's
-- when it scores one, else its run's: the run's agent, and its models listed (one, or
-- "gpt-4o, gpt-4o-mini"). Read by a subquery per score through agent_spans' key, not a scan of all spans.
CREATE VIEW agent_trace.agent_score_stats WITH (security_invoker = true) AS
SELECT g.project_id, g.day, g.name, g.agent_name, g.model,
       sum(g.scores)::bigint AS score_count,
       sum(g.values_given)::bigint AS value_count,
       sum(g.value_sum) / nullif(sum(g.values_given), 0) AS avg_value,
       min(g.min_value) AS min_value,
       max(g.max_value) AS max_value,
       (sum(g.scores) FILTER (WHERE g.label IS NOT NULL))::bigint AS label_count,
       jsonb_object_agg(g.label, round(g.scores / g.labelled, 4)) FILTER (WHERE g.label IS NOT NULL) AS label_shares
  FROM (SELECT sc.project_id, sc.day, sc.name, sc.agent_name, sc.model, sc.label,
               count(*)::numeric AS scores, count(sc.value) AS values_given, sum(sc.value) AS value_sum,
               min(sc.value) AS min_value, max(sc.value) AS max_value,
               sum(count(*)) FILTER (WHERE sc.label IS NOT NULL)
                   OVER (PARTITION BY sc.project_id, sc.day, sc.name, sc.agent_name, sc.model)::numeric AS labelled
          FROM (SELECT s.project_id, (s.scored_at AT TIME ZONE 'UTC')::date AS day, s.name, s.value, s.label,
                       coalesce((SELECT min(x.agent_name) FROM agent_trace.agent_spans AS x
                                  WHERE s.span_id IS NOT NULL AND x.trace_id = s.trace_id
                                    AND x.project_id = s.project_id AND x.span_id = s.span_id),
                                t.agent_name) AS agent_name,
                       (SELECT string_agg(DISTINCT x.model, ', ' ORDER BY x.model) FROM agent_trace.agent_spans AS x
                         WHERE x.trace_id = s.trace_id AND x.project_id = s.project_id
                           AND (s.span_id IS NULL OR x.span_id = s.span_id)) AS model
                  FROM agent_trace.agent_scores AS s
                  LEFT JOIN agent_trace.agent_traces AS t ON t.trace_id = s.trace_id AND t.project_id = s.project_id) AS sc
         GROUP BY sc.project_id, sc.day, sc.name, sc.agent_name, sc.model, sc.label) AS g
 GROUP BY g.project_id, g.day, g.name, g.agent_name, g.model;
COMMENT ON VIEW agent_trace.agent_score_stats IS
    'Scores per project, UTC day (of scored_at), score name, agent and model: how many, the average, smallest and largest value, and the share of each label. A score''s agent and model are those of the span it scores, else of its run (the run''s models listed, e.g. "gpt-4o, gpt-4o-mini"); NULL while its trace has not arrived. Example: SELECT day, agent_name, avg_value FROM agent_trace.agent_score_stats WHERE name = ''relevance'' ORDER BY day;';
COMMENT ON COLUMN agent_trace.agent_score_stats.project_id IS 'Project of the scores.';
COMMENT ON COLUMN agent_trace.agent_score_stats.day IS 'UTC day the scores were given (scored_at).';
COMMENT ON COLUMN agent_trace.agent_score_stats.name IS 'What was scored, e.g. "relevance".';
COMMENT ON COLUMN agent_trace.agent_score_stats.agent_name IS 'Agent of the scored span, else of the scored run; NULL when unknown.';
COMMENT ON COLUMN agent_trace.agent_score_stats.model IS 'Model of the scored span, else the models of the scored run, comma-separated in order; NULL when none.';
COMMENT ON COLUMN agent_trace.agent_score_stats.score_count IS 'Number of scores.';
COMMENT ON COLUMN agent_trace.agent_score_stats.value_count IS 'Number of scores with a value.';
COMMENT ON COLUMN agent_trace.agent_score_stats.avg_value IS 'Average value; NULL when no score has one.';
COMMENT ON COLUMN agent_trace.agent_score_stats.min_value IS 'Smallest value.';
COMMENT ON COLUMN agent_trace.agent_score_stats.max_value IS 'Largest value.';
COMMENT ON COLUMN agent_trace.agent_score_stats.label_count IS 'Number of scores with a label.';
COMMENT ON COLUMN agent_trace.agent_score_stats.label_shares IS 'Share of each label among the scores with one, as a JSON object, e.g. {"pass": 0.75, "fail": 0.25} (rounded to 4 decimals); NULL when no score has a label.';

-- Usage readers: the numbers, not the content (access.sql): an explanation quotes what the agent
-- said, and the attributes may hold anything. The views name no content column.
GRANT SELECT (score_key, trace_id, span_id, name, value, label, source, scorer, response_id, scored_at,
              created_at, project_id)
    ON agent_trace.agent_scores TO agent_trace_usage_reader;
GRANT SELECT ON agent_trace.agent_trace_scores, agent_trace.agent_score_stats TO agent_trace_usage_reader;
/* </end connected objects> */

/* <begin connected objects> */

-- access.sql grants every table and view to the reader (GRANT SELECT ON ALL TABLES).
GRANT SELECT ON agent_trace.agent_scores, agent_trace.agent_scores_pending, agent_trace.agent_trace_scores,
    agent_trace.agent_score_stats TO agent_trace_reader;

-- Functions whose body changed (retention, maintain, erase, distribute), and the COMMENTs of their files.
CREATE OR REPLACE FUNCTION agent_trace._expire(signal text, at timestamptz)
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
CREATE OR REPLACE FUNCTION agent_trace._maintain(at timestamptz)
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
CREATE OR REPLACE FUNCTION agent_trace.erase(user_id text DEFAULT NULL, session_id text DEFAULT NULL,
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
    erased_response text[];
    erased_response_project integer[];
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

    -- Scores waiting for an erased span (by the response id it carries), found before it goes.
    table_name := 'agent_scores_pending';
    WITH responses AS (
        SELECT DISTINCT s.attributes ->> 'gen_ai.response.id' AS response_id, s.project_id
          FROM agent_trace.agent_spans AS s
          JOIN unnest(erased_trace, erased_project) AS k(trace_id, project_id)
            ON s.trace_id = k.trace_id AND s.project_id = k.project_id
         WHERE s.attributes ? 'gen_ai.response.id')
    SELECT array_agg(r.response_id), array_agg(r.project_id) INTO erased_response, erased_response_project
      FROM responses AS r;
    DELETE FROM agent_trace.agent_scores_pending AS p
     USING unnest(erased_response, erased_response_project) AS r(response_id, project_id)
     WHERE p.response_id = r.response_id AND p.project_id = r.project_id;
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;

    table_name := 'agent_spans';
    DELETE FROM agent_trace.agent_spans AS s
     USING unnest(erased_trace, erased_project) AS k(trace_id, project_id)
     WHERE s.trace_id = k.trace_id AND s.project_id = k.project_id;
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;
    -- On Citus agent_spans has no delete trigger (citus.sql): the traces go here.
    IF agent_trace.distributed() THEN
        PERFORM agent_trace._refresh_traces(erased_trace, erased_project);
    END IF;

    table_name := 'agent_logs';
    DELETE FROM agent_trace.agent_logs AS l
     WHERE (only_project IS NULL OR l.project_id = only_project)
       AND (l.user_id = erase.user_id OR l.session_id = erase.session_id OR l.trace_id = erase.trace_id
            OR (l.trace_id, l.project_id) IN (SELECT k.trace_id, k.project_id
                                                FROM unnest(erased_trace, erased_project) AS k(trace_id, project_id)));
    GET DIAGNOSTICS rows_removed = ROW_COUNT;
    RETURN NEXT;

    -- Scores of the erased traces, and of the trace asked for even when its spans have not arrived.
    table_name := 'agent_scores';
    DELETE FROM agent_trace.agent_scores AS sc
     WHERE (only_project IS NULL OR sc.project_id = only_project)
       AND (sc.trace_id = erase.trace_id
            OR (sc.trace_id, sc.project_id) IN (SELECT k.trace_id, k.project_id
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
CREATE OR REPLACE FUNCTION agent_trace.distribute(shard_count integer DEFAULT NULL)
    RETURNS TABLE (action text, table_name text, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    policy_tables text[] := ARRAY['agent_spans', 'agent_traces', 'agent_span_costs', 'agent_logs', 'agent_metrics', 'agent_scores'];
    fk record;
    policy text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'agent_trace.distribute() needs Citus: this database has no citus extension'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'On every node: shared_preload_libraries = ''citus'', CREATE EXTENSION citus, CREATE EXTENSION agent_trace; then add the workers on the coordinator (docs/scaling-out.md).';
    END IF;
    IF NOT (SELECT citus_is_coordinator()) THEN
        RAISE EXCEPTION 'agent_trace.distribute() runs on the coordinator'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    -- Before any change the transaction makes on the workers (their locks would stop it).
    PERFORM agent_trace._prepare_nodes();
    IF agent_trace.distributed() THEN
        action := 'skipped'; table_name := NULL; detail := 'distributed already; every node prepared';
        RETURN NEXT;
        RETURN;
    END IF;
    IF shard_count IS NOT NULL THEN
        PERFORM set_config('citus.shard_count', shard_count::text, true);
    END IF;
    -- maintain() finds the spans stored since its last run by this (small, as rows arrive in order).
    CREATE INDEX agent_spans_created_at_idx ON agent_trace.agent_spans USING brin (created_at);
    INSERT INTO agent_trace.distributed_maintenance (traces_refreshed_at) VALUES (now())
        ON CONFLICT (one_row) DO UPDATE SET traces_refreshed_at = excluded.traces_refreshed_at;
    -- The statement triggers read transition tables, which Citus does not have for distributed
    -- tables; their work moves to the ingest, maintain(), retention and erase (see the top).
    FOR t IN SELECT tg.tgname, tg.tgrelid::regclass AS rel
               FROM pg_catalog.pg_trigger AS tg
              WHERE tg.tgrelid IN ('agent_trace.agent_spans'::regclass, 'agent_trace.agent_traces'::regclass)
                AND NOT tg.tgisinternal AND tg.tgtype & 1 = 0  -- statement triggers
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
        PERFORM agent_trace._on_workers(format('DROP TRIGGER IF EXISTS %I ON %s', t.tgname, t.rel));
        action := 'dropped'; table_name := t.rel::text; detail := format('trigger %s', t.tgname);
        RETURN NEXT;
    END LOOP;
    -- Policies without a subquery (Citus refuses one in a policy of a distributed table), alike on
    -- every node: a worker plans a query on its own through its copy of the table (its policies
    -- apply then), and Citus does not make that copy again where CREATE EXTENSION made it.
    FOREACH table_name IN ARRAY policy_tables LOOP
        FOR t IN SELECT p.polname, p.polcmd FROM pg_catalog.pg_policy AS p
                  WHERE p.polrelid = format('agent_trace.%I', table_name)::regclass LOOP
            policy := format('DROP POLICY IF EXISTS %1$I ON agent_trace.%2$I; CREATE POLICY %1$I ON agent_trace.%2$I ', t.polname, table_name)
                || CASE WHEN t.polcmd = 'r'
                        THEN 'FOR SELECT USING (project_id = ANY (agent_trace._projects_granted_cached(''read'', current_user)))'
                        ELSE 'FOR INSERT WITH CHECK (project_id = ANY (agent_trace._projects_granted_cached(''write'', current_user)))' END;
            EXECUTE policy;
            PERFORM agent_trace._on_workers(policy);
        END LOOP;
    END LOOP;
    -- Reference tables: a copy on every node. Citus makes them one at a time, so the foreign keys
    -- between them go first and come back after.
    CREATE TEMPORARY TABLE agent_trace_distribute_fks ON COMMIT DROP AS
    SELECT c.conrelid::regclass AS rel, c.conname, pg_catalog.pg_get_constraintdef(c.oid) AS definition
      FROM pg_catalog.pg_constraint AS c
     WHERE c.contype = 'f' AND c.confrelid = 'agent_trace.projects'::regclass;
    FOR fk IN SELECT * FROM agent_trace_distribute_fks LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.rel, fk.conname);
        PERFORM agent_trace._on_workers(format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.rel, fk.conname));
    END LOOP;
    -- Row triggers run on each shard: model_prices' (an edited built-in price becomes the user's,
    -- prices.sql) and, below, agent_logs' (pricing, from the reference table model_prices). Citus
    -- takes a table with row triggers only with this set.
    PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    FOREACH table_name IN ARRAY ARRAY['projects', 'project_grants', 'ingest_tokens', 'model_prices', 'retention'] LOOP
        PERFORM create_reference_table(format('agent_trace.%I', table_name));
        -- The rows are on every node now; the coordinator's own copy goes.
        PERFORM truncate_local_data_after_distributing_table(format('agent_trace.%I', table_name));
        action := 'reference'; detail := 'a copy on every node';
        RETURN NEXT;
    END LOOP;
    FOR fk IN SELECT * FROM agent_trace_distribute_fks LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.rel, fk.conname, fk.definition);
    END LOOP;
    -- AgentOS's spans views read agent_spans through a function on Citus (agno.sql): made again
    -- below; the index on the span id as text, which they no longer use, goes.
    FOR t IN SELECT c.compat_table, c.project_id, n.nspname FROM agent_trace._agno_compat_tables() AS c
               JOIN pg_catalog.pg_class AS r ON r.oid = c.compat_table
               JOIN pg_catalog.pg_namespace AS n ON n.oid = r.relnamespace LOOP
        EXECUTE format('DROP VIEW IF EXISTS %I.agno_spans', t.nspname);
    END LOOP;
    DROP INDEX IF EXISTS agent_trace.agent_spans_agno_span_id_idx;
    -- The traces, by trace id; their spans and costs with them.
    PERFORM create_distributed_table('agent_trace.agent_traces', 'trace_id');
    PERFORM create_distributed_table('agent_trace.agent_spans', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    PERFORM create_distributed_table('agent_trace.agent_span_costs', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    -- A trace's scores beside its spans (scores.sql).
    PERFORM create_distributed_table('agent_trace.agent_scores', 'trace_id', colocate_with => 'agent_trace.agent_traces');
    -- Log records by their key, metric points by their series: many carry no trace.
    PERFORM create_distributed_table('agent_trace.agent_logs', 'record_key');
    PERFORM create_distributed_table('agent_trace.agent_metrics', 'series_key');
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs', 'agent_scores', 'agent_logs', 'agent_metrics'] LOOP
        PERFORM truncate_local_data_after_distributing_table(format('agent_trace.%I', table_name));
    END LOOP;
    FOREACH table_name IN ARRAY ARRAY['agent_traces', 'agent_spans', 'agent_span_costs', 'agent_scores'] LOOP
        action := 'distributed'; detail := 'by trace_id, colocated';
        RETURN NEXT;
    END LOOP;
    table_name := 'agent_logs'; detail := 'by record_key'; RETURN NEXT;
    table_name := 'agent_metrics'; detail := 'by series_key'; RETURN NEXT;
    action := 'kept'; table_name := 'agent_scores_pending';
    detail := 'on the coordinator: a score waiting for its span has no trace to distribute by'; RETURN NEXT;
    FOR t IN SELECT c.compat_table, c.project_id, n.nspname FROM agent_trace._agno_compat_tables() AS c
               JOIN pg_catalog.pg_class AS r ON r.oid = c.compat_table
               JOIN pg_catalog.pg_namespace AS n ON n.oid = r.relnamespace LOOP
        PERFORM agent_trace._agno_create_spans_view(t.nspname, t.project_id);
        action := 'remade'; table_name := format('%I.agno_spans', t.nspname);
        detail := 'AgentOS''s spans view, one query per trace';
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON SCHEMA agent_trace_partitions IS
    'Daily partitions of agent_trace''s agent_spans, agent_span_costs, agent_logs and agent_metrics, made and dropped by agent_trace.maintain(). Query the tables in agent_trace instead; only the owner may use this schema.';
COMMENT ON TABLE agent_trace_partitions.agent_spans_default IS 'Spans of days that have no partition of their own (agent_trace.maintain() moves them into one when it creates it).';
COMMENT ON TABLE agent_trace_partitions.agent_span_costs_default IS 'Computed costs of spans of days that have no partition of their own.';
COMMENT ON TABLE agent_trace_partitions.agent_logs_default IS 'Log records of days that have no partition of their own.';
COMMENT ON TABLE agent_trace_partitions.agent_metrics_default IS 'Metric points of days that have no partition of their own.';
COMMENT ON FUNCTION agent_trace._partitioned_tables() IS
    'The tables partitioned by day, their time column, and the signal whose retention applies to them. Internal.';
COMMENT ON VIEW agent_trace.agent_partitions IS
    'The partitions of agent_spans, agent_span_costs, agent_logs and agent_metrics: their time range [from_time, to_time) (NULL for the default partition, which holds rows of days without a partition), estimated rows (-1 before the first ANALYZE) and size on disk. Example: SELECT * FROM agent_trace.agent_partitions ORDER BY table_name, from_time;';
COMMENT ON COLUMN agent_trace.agent_partitions.table_name IS 'The partitioned table in agent_trace.';
COMMENT ON COLUMN agent_trace.agent_partitions.partition_name IS 'The partition, in schema agent_trace_partitions: <table>_pYYYYMMDD for a UTC day, <table>_default for the rest.';
COMMENT ON COLUMN agent_trace.agent_partitions.from_time IS 'First instant the partition holds; -infinity for one holding everything before to_time (from an upgrade); NULL for the default partition.';
COMMENT ON COLUMN agent_trace.agent_partitions.to_time IS 'First instant past the partition; NULL for the default partition.';
COMMENT ON COLUMN agent_trace.agent_partitions.estimated_rows IS 'Rows as of the last ANALYZE or VACUUM (pg_class.reltuples); -1 when never analyzed.';
COMMENT ON COLUMN agent_trace.agent_partitions.total_bytes IS 'Size on disk with indexes and TOAST (pg_total_relation_size).';
COMMENT ON TABLE agent_trace.retention IS
    'How long agent_trace.maintain() keeps each signal: spans (with their traces, computed costs and scores), logs, metrics; for every project (project_id NULL) or one. No row: kept for ever. Change with agent_trace.set_retention.';
COMMENT ON COLUMN agent_trace.retention.signal IS 'spans (agent_spans, and agent_traces, agent_span_costs and agent_scores with them), logs (agent_logs) or metrics (agent_metrics).';
COMMENT ON COLUMN agent_trace.retention.project_id IS 'The project this setting is for; NULL: every project without a setting of its own.';
COMMENT ON COLUMN agent_trace.retention.keep IS 'How long rows are kept, counted from their time (a span''s start_time). Whole UTC days expire at once, so a row stays between keep and keep + 1 day. At least 1 day.';
COMMENT ON COLUMN agent_trace.retention.set_at IS 'When this setting was made.';
COMMENT ON FUNCTION agent_trace.set_retention(text, interval, text) IS
    'Keeps signal (''spans'' with their traces, costs and scores, ''logs'' or ''metrics'') for keep, for every project (project NULL) or for one project (by name); keep NULL removes the setting (kept for ever, or as every project). agent_trace.maintain() applies it: whole UTC days older than keep are dropped as partitions; a project kept shorter than the others loses its rows by DELETE. Example: SELECT agent_trace.set_retention(''spans'', ''30 days''); SELECT agent_trace.set_retention(''logs'', ''72 hours'', ''staging'');';
COMMENT ON FUNCTION agent_trace._create_day_partition(text, text, date) IS
    'Creates the partition of table_name for one UTC day, moving that day''s rows out of the default partition into it; returns how many moved, or NULL when a partition covers the day already. Internal: agent_trace.maintain() calls it.';
COMMENT ON FUNCTION agent_trace._fix_traces_before(timestamptz) IS
    'After the spans before cutoff are gone: removes the traces that ended before it and recomputes those that straddle it; returns how many changed. Internal: retention.';
COMMENT ON FUNCTION agent_trace._delete_before(text, text, timestamptz, integer, integer[]) IS
    'Deletes the rows of a partitioned table (or of agent_scores, agent_scores_pending) older than cutoff (of one project, or of all but some), fixing the traces of deleted spans; returns how many rows went. Internal: retention.';
COMMENT ON FUNCTION agent_trace._expire(text, timestamptz) IS
    'Applies the retention of one signal as of at: drops the partitions of days every project has let go and deletes what remains of them, deletes the older rows of projects kept shorter, fixes the traces; signal spans deletes the scores given before the same cutoff (agent_scores and agent_scores_pending). Returns what it did. Internal: agent_trace.maintain() calls it.';
COMMENT ON FUNCTION agent_trace._maintain(timestamptz) IS
    'agent_trace.maintain() as if the time were at. Internal: for tests, which cannot wait for days to pass.';
COMMENT ON FUNCTION agent_trace.maintain() IS
    'Creates the daily partitions of yesterday to three days ahead (moving those days'' rows out of the default partitions) and applies agent_trace.retention: drops the partitions of expired days, deletes expired rows elsewhere, fixes the traces whose spans went; links the scores still waiting for the span of the model response they name. Returns one row per thing it did: created, dropped, deleted, refreshed, linked, or skipped (a lock not granted within 2 s, or another maintain() running; the next run tries again). Run by the ingest when it starts and every hour; schedule it with pg_cron where the ingest does not run (docs/retention.md). Example: SELECT * FROM agent_trace.maintain();';
COMMENT ON FUNCTION agent_trace.erase(text, text, agent_trace.trace_id, text) IS
    'Erases everything stored of a user, a session or a trace (any of the three; in one project, or in all): every trace with a span of theirs, whole, with its agent_traces row, computed costs and AgentOS copies; their log records and those emitted in the erased traces; the scores of the erased traces, and those waiting for a response of theirs; the metric points of the session or naming the user (user.id, agno.user.id). Returns the rows removed per table. Reads every partition; runs as the owner, and only the owner may call it (grant EXECUTE to an administrator of every project). Example: SELECT * FROM agent_trace.erase(user_id => ''alice@example.com'');';
COMMENT ON FUNCTION agent_trace.distributed() IS
    'true once agent_trace.distribute() has distributed the tables over a Citus cluster.';
COMMENT ON FUNCTION agent_trace._projects_granted_here(text, name) IS
    'agent_trace._projects_granted, read from this node''s copy of the grants. Internal: on a distributed install, the policies ask it through _projects_granted_cached.';
COMMENT ON FUNCTION agent_trace._projects_granted_cached(text, name) IS
    'agent_trace._projects_granted_here, asked once per statement. Internal: the row-level security policies of a distributed install call it for every row.';
COMMENT ON FUNCTION agent_trace._on_workers(text) IS
    'Runs command on every Citus worker; an error if it fails on one. Internal: distribute().';
COMMENT ON FUNCTION agent_trace._prepare_nodes() IS
    'On a distributed install: lets the trace functions and the policies'' function query the tables inside a query on a shard, on every node. distribute() runs it. Internal.';
COMMENT ON FUNCTION agent_trace.distribute(integer) IS
    'Distributes agent_trace over the Citus cluster this database coordinates (docs/scaling-out.md): traces, spans, computed costs and scores by trace_id, colocated; log records by record_key; metric points by series_key; projects, grants, tokens, prices and retention as reference tables; scores waiting for their span (agent_scores_pending) stay on the coordinator; the daily partitions with their tables. Takes the statement triggers off agent_spans and agent_traces (Citus has no transition tables): the ingest, maintain(), retention and erase keep agent_traces exact instead. Rows already stored move to the workers. Run again, it does nothing. shard_count: citus.shard_count for the distributed tables (default: Citus''s, 32).';
COMMENT ON TABLE agent_trace.distributed_maintenance IS
    'On a distributed install (agent_trace.distribute()): until when maintain() has recomputed the traces of stored spans. Empty otherwise.';
COMMENT ON COLUMN agent_trace.distributed_maintenance.one_row IS 'Always true: the table has one row.';
COMMENT ON COLUMN agent_trace.distributed_maintenance.traces_refreshed_at IS 'The start of the last maintain() that recomputed the traces of the spans stored since the one before.';
COMMENT ON FUNCTION agent_trace._refresh_stored_traces(interval) IS
    'On a distributed install: recomputes the traces of the spans stored since the last run began, less margin. maintain() runs it. Internal.';
COMMENT ON FUNCTION agent_trace.refresh_written_traces(agent_trace.trace_id[], integer[], timestamptz[], timestamptz[]) IS
    'Recomputes these traces (trace_ids[i], project_ids[i], whose new spans start between spans_from[i] and spans_to[i]) from their stored spans. What the ingest runs after each batch of spans on a distributed install, where agent_spans has no insert trigger; idempotent. Internal.';

-- sessions.sql: agent_sessions as one grouping of both sources, so that one session's row is read
-- through the session indexes.
CREATE OR REPLACE VIEW agent_trace.agent_sessions WITH (security_invoker = true) AS
SELECT u.session_id,
       coalesce(agent_trace.tool_label(min(u.service_name) FILTER (WHERE u.from_logs)),
                agent_trace.tool_label(min(u.service_name) FILTER (WHERE NOT u.from_logs))) AS tool,
       coalesce(min(u.user_id) FILTER (WHERE u.from_logs), min(u.user_id) FILTER (WHERE NOT u.from_logs)) AS user_id,
       min(u.first_time) AS first_activity,
       max(u.last_time) AS last_activity,
       -- A traced agent's run is one prompt; a CLI logs its prompts.
       CASE WHEN count(*) FILTER (WHERE u.from_logs AND u.is_prompt) > 0
            THEN count(*) FILTER (WHERE u.from_logs AND u.is_prompt)
            ELSE count(*) FILTER (WHERE NOT u.from_logs) END AS prompts,
       count(*) FILTER (WHERE NOT u.from_logs) AS traces,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs)
            THEN count(*) FILTER (WHERE u.from_logs AND u.has_usage)
            ELSE coalesce(sum(u.model_calls) FILTER (WHERE NOT u.from_logs), 0) END AS model_calls,
       greatest(count(*) FILTER (WHERE u.from_logs AND u.is_tool_call),
                coalesce(sum(u.tool_calls) FILTER (WHERE NOT u.from_logs), 0)) AS tool_calls,
       greatest(count(*) FILTER (WHERE u.from_logs AND u.is_error),
                coalesce(sum(u.errors) FILTER (WHERE NOT u.from_logs), 0)) AS errors,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.input_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.input_tokens) FILTER (WHERE NOT u.from_logs) END AS input_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.output_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.output_tokens) FILTER (WHERE NOT u.from_logs) END AS output_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cache_read_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.cache_read_tokens) FILTER (WHERE NOT u.from_logs) END AS cache_read_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cache_write_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.cache_write_tokens) FILTER (WHERE NOT u.from_logs) END AS cache_write_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.reasoning_tokens) FILTER (WHERE u.from_logs)
            ELSE sum(u.reasoning_tokens) FILTER (WHERE NOT u.from_logs) END AS reasoning_tokens,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.cost_usd) FILTER (WHERE u.from_logs)
            ELSE sum(u.cost_usd) FILTER (WHERE NOT u.from_logs) END AS cost_usd,
       CASE WHEN bool_or(u.has_usage) FILTER (WHERE u.from_logs) THEN sum(u.computed_cost_usd) FILTER (WHERE u.from_logs)
            ELSE sum(u.computed_cost_usd) FILTER (WHERE NOT u.from_logs) END AS computed_cost_usd,
       u.project_id
  FROM (SELECT true AS from_logs, l.session_id, l.project_id, l.service_name, l.user_id,
               l.time AS first_time, l.time AS last_time,
               l.event_name IN ('user_prompt', 'gemini_cli.user_prompt', 'codex.user_prompt') AS is_prompt,
               l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL AS has_usage,
               l.event_name IN ('tool_result', 'gemini_cli.tool_call', 'codex.tool_result') AS is_tool_call,
               l.event_name IN ('api_error', 'gemini_cli.api_error', 'codex.api_error') OR l.severity_number >= 17 AS is_error,
               NULL::integer AS model_calls, NULL::integer AS tool_calls, NULL::integer AS errors,
               l.input_tokens, l.output_tokens, l.cache_read_tokens, l.cache_write_tokens, l.reasoning_tokens,
               l.cost_usd, l.computed_cost_usd
          FROM agent_trace.agent_logs AS l
         WHERE l.session_id IS NOT NULL
        UNION ALL
        SELECT false, t.session_id, t.project_id, t.service_name, t.user_id, t.start_time, t.end_time,
               NULL, NULL, NULL, NULL, t.llm_call_count, t.tool_call_count, t.error_count,
               t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens, t.reasoning_tokens,
               t.cost_usd, t.computed_cost_usd
          FROM agent_trace.agent_traces AS t
         WHERE t.session_id IS NOT NULL) AS u
 GROUP BY u.session_id, u.project_id;
