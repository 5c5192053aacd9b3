-- On Citus, where agent_spans has no insert trigger (extension/sql/citus.sql): the traces a batch of
-- spans touched, recomputed right after the batch committed. $1: their ids (hex), $2: their projects,
-- $3 and $4: where the batch's spans of each start, in microseconds since the epoch.
SELECT agent_trace.refresh_written_traces(
    $1::text[]::agent_trace.trace_id[], $2::integer[],
    ARRAY(SELECT timestamptz 'epoch' + m * interval '1 microsecond' FROM unnest($3::bigint[]) WITH ORDINALITY AS u(m, i) ORDER BY i),
    ARRAY(SELECT timestamptz 'epoch' + m * interval '1 microsecond' FROM unnest($4::bigint[]) WITH ORDINALITY AS u(m, i) ORDER BY i))
