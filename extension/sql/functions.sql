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
