-- Run once per ingest connection: the session's staging table for metric points, the target of the
-- binary COPY when a batch repeats stored points. Its columns are agent_metrics' columns in
-- copy_metrics.sql's order. ON COMMIT DELETE ROWS empties it at every commit.
CREATE TEMP TABLE IF NOT EXISTS agent_trace_staging_metrics (
    series_key          uuid NOT NULL,
    project_id          integer NOT NULL,
    name                text NOT NULL,
    kind                text NOT NULL,
    temporality         text,
    is_monotonic        boolean,
    start_time          timestamptz,
    time                timestamptz NOT NULL,
    value               double precision,
    count               bigint,
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
    attributes          jsonb NOT NULL,
    resource_attributes jsonb NOT NULL
) ON COMMIT DELETE ROWS;
