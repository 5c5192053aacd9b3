-- Erasure: everything stored of one user, session or trace, on request (GDPR article 17 and the like).
--
-- What is attributable to them:
--   * every trace with at least one span of that user, session or trace id, whole: a run's LLM
--     spans carry its prompts and answers even when only its root span names the user;
--   * every log record of that user, session or trace, and every record emitted inside an erased
--     trace;
--   * every metric point of that session, or whose attributes (or its sender's) name that user
--     (user.id, agno.user.id: the keys the ingest reads a user from);
--   * every score of an erased trace (a score may quote the run in its explanation), and every
--     score still waiting for the span of a response id an erased span carries (scores.sql).
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
COMMENT ON FUNCTION agent_trace.erase(text, text, agent_trace.trace_id, text) IS
    'Erases everything stored of a user, a session or a trace (any of the three; in one project, or in all): every trace with a span of theirs, whole, with its agent_traces row, computed costs and AgentOS copies; their log records and those emitted in the erased traces; the scores of the erased traces, and those waiting for a response of theirs; the metric points of the session or naming the user (user.id, agno.user.id). Returns the rows removed per table. Reads every partition; runs as the owner, and only the owner may call it (grant EXECUTE to an administrator of every project). Example: SELECT * FROM agent_trace.erase(user_id => ''alice@example.com'');';
REVOKE ALL ON FUNCTION agent_trace.erase(text, text, agent_trace.trace_id, text) FROM PUBLIC;
