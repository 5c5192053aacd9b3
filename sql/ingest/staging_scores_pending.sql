-- Run once per ingest connection: the session's staging table for scores known only by the model
-- response they judge, the target of the binary COPY before insert_scores_pending.sql. Its columns
-- are insert_scores_pending.sql's, in order. ON COMMIT DELETE ROWS empties it at every commit.
CREATE TEMP TABLE IF NOT EXISTS agent_trace_staging_scores_pending (
    score_key           uuid NOT NULL,
    project_id          integer NOT NULL,
    name                text NOT NULL,
    value               double precision,
    label               text,
    explanation         text,
    response_id         text NOT NULL,
    scored_at           timestamptz NOT NULL,
    attributes          jsonb NOT NULL
) ON COMMIT DELETE ROWS;
