-- agent_metric_deltas turns stored metric points into per-interval amounts: cumulative counters and
-- histograms by difference within a series (restarts detected), delta ones as they are, gauges not
-- at all. Points are inserted out of order here: the view must not depend on arrival order.
SET timezone = 'UTC';

-- Inserts one point the way the ingest does (ON CONFLICT DO NOTHING: a re-sent point is skipped).
-- The series key is any stable id of the series; the ingest hashes name, kind, resource, scope and
-- point attributes.
CREATE PROCEDURE pg_temp.point(series text, name text, kind text, temporality text, start_min int,
                               time_min int, value double precision, count bigint DEFAULT NULL,
                               sum double precision DEFAULT NULL, token_type text DEFAULT NULL)
LANGUAGE sql AS $$
    INSERT INTO agent_trace.agent_metrics (series_key, name, kind, temporality, start_time, time,
                                           value, count, sum, token_type, service_name)
    VALUES (md5(series)::uuid, name, kind, temporality,
            timestamptz '2026-11-01 12:00:00+00' + start_min * interval '1 minute',
            timestamptz '2026-11-01 12:00:00+00' + time_min * interval '1 minute',
            value, count, sum, token_type, 'svc')
    ON CONFLICT DO NOTHING
$$;

-- Series "in": a cumulative token counter. Started at minute 0; reported 10, 25, 25; then the
-- process restarted without a new start time (the value fell to 4: a reset), reported 9; then a new
-- start time at minute 50 with a value above the last one (20 > 9: still a restart, not +11).
-- Inserted in a scrambled order.
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 40, 9, token_type => 'input');
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 10, 10, token_type => 'input');
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 50, 60, 20, token_type => 'input');
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 30, 4, token_type => 'input');
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 20, 25, token_type => 'input');
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 25, 25, token_type => 'input');
-- Series "out": the same metric, other attributes: its own series, its own first point.
CALL pg_temp.point('out', 'tokens', 'sum', 'cumulative', 0, 20, 7, token_type => 'output');
CALL pg_temp.point('out', 'tokens', 'sum', 'cumulative', 0, 10, 3, token_type => 'output');
-- A delta counter: every point is its own amount, whatever the order.
CALL pg_temp.point('cost', 'cost', 'sum', 'delta', 10, 20, 0.5);
CALL pg_temp.point('cost', 'cost', 'sum', 'delta', 0, 10, 0.25);
CALL pg_temp.point('cost', 'cost', 'sum', 'delta', 20, 30, 0.125);
-- A gauge: a level, not an amount. Gauges usually have no start time.
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value)
VALUES (md5('queue')::uuid, 'queue_depth', 'gauge', '2026-11-01 12:10:00+00', 3),
       (md5('queue')::uuid, 'queue_depth', 'gauge', '2026-11-01 12:20:00+00', 1);
-- A cumulative histogram of tokens per call: count and sum by difference, with a restart.
CALL pg_temp.point('hist', 'token.usage', 'histogram', 'cumulative', 0, 20, NULL, 5, 500);
CALL pg_temp.point('hist', 'token.usage', 'histogram', 'cumulative', 0, 10, NULL, 2, 200);
CALL pg_temp.point('hist', 'token.usage', 'histogram', 'cumulative', 30, 40, NULL, 1, 42);
-- A point flagged "no recorded value" (value NULL) marks a gap: left out, it breaks nothing.
CALL pg_temp.point('in', 'tokens', 'sum', 'cumulative', 0, 15, NULL, token_type => 'input');

-- Re-sent points are skipped, also those without a start time (NULLS NOT DISTINCT).
CALL pg_temp.point('in',  'tokens', 'sum', 'cumulative', 0, 10, 10, token_type => 'input');
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time, value)
VALUES (md5('queue')::uuid, 'queue_depth', 'gauge', '2026-11-01 12:10:00+00', 3)
ON CONFLICT DO NOTHING;
SELECT count(*) AS stored_points FROM agent_trace.agent_metrics;

-- Every point with its delta, series by series, in time order.
SELECT name, token_type, kind, temporality, to_char(start_time, 'HH24:MI') AS start,
       to_char(time, 'HH24:MI') AS time, value, delta, count, delta_count, sum, delta_sum
  FROM agent_trace.agent_metric_deltas
 ORDER BY name, token_type, time;

-- Per-interval totals: the counter's deltas add up to 10 + 15 + 0 + 4 + 5 + 20 = 54 input tokens
-- (summing the stored running totals would say 93).
SELECT token_type, sum(delta) AS tokens, sum(value) AS naive_sum_of_totals
  FROM agent_trace.agent_metric_deltas WHERE name = 'tokens'
 GROUP BY token_type ORDER BY token_type;

-- "Tokens per hour": the deltas bucketed by the hour of the point that reports them.
SELECT date_trunc('hour', time) AS hour, sum(delta) AS tokens
  FROM agent_trace.agent_metric_deltas WHERE name = 'tokens'
 GROUP BY 1 ORDER BY 1;

-- A filter on time keeps each point's delta against the point before the range: 12:20-12:45 of
-- "in" is +15, +0, reset 4, +5.
SELECT to_char(time, 'HH24:MI') AS time, delta
  FROM agent_trace.agent_metric_deltas
 WHERE name = 'tokens' AND token_type = 'input'
   AND time BETWEEN '2026-11-01 12:20:00+00' AND '2026-11-01 12:45:00+00'
 ORDER BY time;

-- A filter on the metric name is applied before the window (the view partitions by it), so a
-- dashboard's "WHERE name = ..." does not compute every series. The plan without the window's
-- definition, which PostgreSQL 18 prints and earlier versions do not.
CREATE FUNCTION pg_temp.plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        CONTINUE WHEN line ~ '^\s*Window: ';
        RETURN NEXT line;
    END LOOP;
END
$$;
SELECT * FROM pg_temp.plan($$SELECT delta FROM agent_trace.agent_metric_deltas WHERE name = 'tokens'$$);

-- The ingest's role writes both tables; the reader role reads them and the view; PUBLIC nothing.
SELECT c.relname,
       has_table_privilege('agent_trace_writer', c.oid, 'INSERT') AS writer_insert,
       has_table_privilege('agent_trace_writer', c.oid, 'UPDATE') AS writer_update,
       has_table_privilege('agent_trace_reader', c.oid, 'SELECT') AS reader_select,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select
  FROM pg_class AS c
 WHERE c.oid IN ('agent_trace.agent_logs'::regclass, 'agent_trace.agent_metrics'::regclass,
                 'agent_trace.agent_metric_deltas'::regclass)
 ORDER BY 1;

-- Vocabularies are checked. (Terse: the full failing row would show created_at, which is now().)
\set VERBOSITY terse
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, time) VALUES (md5('x')::uuid, 'x', 'counter', '2026-11-01 12:00:00+00');
INSERT INTO agent_trace.agent_metrics (series_key, name, kind, temporality, time) VALUES (md5('x')::uuid, 'x', 'sum', 'monthly', '2026-11-01 12:00:00+00');
INSERT INTO agent_trace.agent_logs (record_key, time, severity_number) VALUES (md5('x')::uuid, '2026-11-01 12:00:00+00', 25);
