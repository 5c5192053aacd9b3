-- Run once per ingest connection: the session's staging table for log records, the target of the
-- binary COPY when a batch repeats stored records. Its columns are agent_logs' columns in
-- copy_logs.sql's order; ids use uuid and macaddr8 (the same bytes as agent_trace.trace_id /
-- span_id), which insert_logs.sql relabels. ON COMMIT DELETE ROWS empties it at every commit.
CREATE TEMP TABLE IF NOT EXISTS agent_trace_staging_logs (
    record_key          uuid NOT NULL,
    project_id          integer NOT NULL,
    time                timestamptz NOT NULL,
    observed_time       timestamptz,
    trace_id            uuid,
    span_id             macaddr8,
    event_name          text,
    severity_number     smallint,
    severity_text       text,
    body                text,
    service_name        text,
    scope_name          text,
    scope_version       text,
    session_id          text,
    user_id             text,
    model               text,
    input_tokens        bigint,
    output_tokens       bigint,
    cache_read_tokens   bigint,
    cache_write_tokens  bigint,
    reasoning_tokens    bigint,
    cost_usd            numeric,
    tool_name           text,
    duration_ms         double precision,
    attributes          jsonb NOT NULL,
    resource_attributes jsonb NOT NULL
) ON COMMIT DELETE ROWS;
