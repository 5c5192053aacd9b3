-- Run once per ingest connection: the session's staging table for scores of known runs, the
-- target of the binary COPY before insert_scores.sql (scores always take that way: a retried request
-- repeats them). Its columns are insert_scores.sql's, in order; ids use uuid and macaddr8 (the same
-- bytes as agent_trace.trace_id / span_id), which insert_scores.sql relabels. ON COMMIT DELETE ROWS
-- empties it at every commit.
CREATE TEMP TABLE IF NOT EXISTS agent_trace_staging_scores (
    score_key           uuid NOT NULL,
    project_id          integer NOT NULL,
    trace_id            uuid NOT NULL,
    span_id             macaddr8,
    name                text NOT NULL,
    value               double precision,
    label               text,
    explanation         text,
    response_id         text,
    scored_at           timestamptz NOT NULL,
    attributes          jsonb NOT NULL
) ON COMMIT DELETE ROWS;
