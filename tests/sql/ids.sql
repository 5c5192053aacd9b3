-- trace_id and span_id: strict hex input, lower-case output, and the uuid/macaddr8 machinery
-- (comparison, ordering, indexes) working without agent_trace on the search_path.
SELECT '4BF92F3577B34DA6A3CE929D0E0E4736'::agent_trace.trace_id AS trace_id,
       '00F067AA0BA902B7'::agent_trace.span_id AS span_id;
SELECT pg_column_size('4bf92f3577b34da6a3ce929d0e0e4736'::agent_trace.trace_id) AS trace_id_bytes,
       pg_column_size('00f067aa0ba902b7'::agent_trace.span_id) AS span_id_bytes;

-- Bad input is an error that says what is wrong, never a silent mismatch, with SQLSTATE 22P02
-- (invalid_text_representation), a data exception like any other bad value.
SELECT 'abc'::agent_trace.trace_id;
\echo :SQLSTATE
SELECT '4bf92f3577b34da6a3ce929d0e0e473z'::agent_trace.trace_id;
\echo :SQLSTATE
SELECT '00000000000000000000000000000000'::agent_trace.trace_id;
\echo :SQLSTATE
SELECT '00f067aa0ba902b7ff'::agent_trace.span_id;
\echo :SQLSTATE
SELECT '0000000000000000'::agent_trace.span_id;
\echo :SQLSTATE
SELECT ''::agent_trace.span_id;
\echo :SQLSTATE

-- Compare with a pasted literal, in either case; order is hex order.
CREATE TEMP TABLE ids (trace_id agent_trace.trace_id, span_id agent_trace.span_id);
INSERT INTO ids VALUES
    ('f0000000000000000000000000000001', 'f000000000000001'),
    ('0f000000000000000000000000000001', '0f00000000000001'),
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7');
SELECT span_id FROM ids WHERE trace_id = '4BF92F3577B34DA6A3CE929D0E0E4736';
SELECT trace_id FROM ids WHERE span_id = '00f067aa0ba902b7';
SELECT trace_id, span_id FROM ids ORDER BY trace_id;
SELECT span_id FROM ids ORDER BY span_id DESC;
SELECT count(DISTINCT trace_id) AS distinct_traces FROM ids;
SELECT a.span_id FROM ids a JOIN ids b ON a.trace_id = b.trace_id AND a.span_id = b.span_id ORDER BY 1;

-- The text form round-trips, and the uuid twin is the same 16 bytes.
SELECT trace_id::text::agent_trace.trace_id = trace_id AS round_trips FROM ids;
SELECT '4bf92f3577b34da6a3ce929d0e0e4736'::agent_trace.trace_id::uuid AS as_uuid;
SELECT to_jsonb('4bf92f3577b34da6a3ce929d0e0e4736'::agent_trace.trace_id) AS in_json;

-- Indexes on these columns use the built-in operator classes.
CREATE TEMP TABLE many AS
    SELECT lpad(to_hex(i), 32, '0')::agent_trace.trace_id AS trace_id,
           lpad(to_hex(i), 16, '0')::agent_trace.span_id AS span_id
      FROM generate_series(1, 5000) AS i;
CREATE INDEX ON many (trace_id);
CREATE INDEX ON many (span_id);
ANALYZE many;
SELECT opc.opcname
  FROM pg_index i JOIN pg_opclass opc ON opc.oid = i.indclass[0]
 WHERE i.indrelid = 'many'::regclass ORDER BY 1;
EXPLAIN (COSTS OFF) SELECT * FROM many WHERE trace_id = '00000000000000000000000000000fff';
EXPLAIN (COSTS OFF) SELECT * FROM many WHERE span_id = '0000000000000fff';
SELECT span_id FROM many WHERE trace_id = '00000000000000000000000000000FFF';

-- Binary COPY uses our receive function, which applies the same rules as text input; a bad value
-- is 22P03 (invalid_binary_representation).
COPY (SELECT trace_id, span_id FROM ids ORDER BY trace_id) TO '/tmp/agent_trace_regress_ids.bin' (FORMAT binary);
CREATE TEMP TABLE ids_copy (LIKE ids);
COPY ids_copy FROM '/tmp/agent_trace_regress_ids.bin' (FORMAT binary);
SELECT * FROM ids_copy ORDER BY trace_id;
COPY (SELECT '00000000-0000-0000-0000-000000000000'::uuid, '01:02:03:04:05:06:07:08'::macaddr8)
    TO '/tmp/agent_trace_regress_ids.bin' (FORMAT binary);
COPY ids_copy FROM '/tmp/agent_trace_regress_ids.bin' (FORMAT binary);
\echo :SQLSTATE
