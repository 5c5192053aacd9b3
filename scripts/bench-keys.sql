-- Sizes of the candidate representations of OpenTelemetry ids, measured on the same 1,000,000
-- spans (100,000 traces of 10 spans): just the key columns, and the (trace_id, span_id) index.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS agent_trace;
CREATE TEMP TABLE source AS
    SELECT md5(t::text) AS trace_hex, substr(md5(t::text || ':' || s), 1, 16) AS span_hex
      FROM generate_series(1, 100000) AS t, generate_series(1, 10) AS s;

CREATE TABLE keys_text (trace_id text, span_id text, parent_span_id text);
INSERT INTO keys_text SELECT trace_hex, span_hex, span_hex FROM source;
CREATE TABLE keys_bytea (trace_id bytea, span_id bytea, parent_span_id bytea);
INSERT INTO keys_bytea SELECT decode(trace_hex, 'hex'), decode(span_hex, 'hex'), decode(span_hex, 'hex') FROM source;
CREATE TABLE keys_uuid_bigint (trace_id uuid, span_id bigint, parent_span_id bigint);
INSERT INTO keys_uuid_bigint SELECT trace_hex::uuid, ('x' || span_hex)::bit(64)::bigint, ('x' || span_hex)::bit(64)::bigint FROM source;
CREATE TABLE keys_agent_trace (trace_id agent_trace.trace_id, span_id agent_trace.span_id, parent_span_id agent_trace.span_id);
INSERT INTO keys_agent_trace SELECT trace_hex::agent_trace.trace_id, span_hex::agent_trace.span_id, span_hex::agent_trace.span_id FROM source;

CREATE INDEX ON keys_text (trace_id, span_id);
CREATE INDEX ON keys_bytea (trace_id, span_id);
CREATE INDEX ON keys_uuid_bigint (trace_id, span_id);
CREATE INDEX ON keys_agent_trace (trace_id, span_id);
VACUUM ANALYZE keys_text, keys_bytea, keys_uuid_bigint, keys_agent_trace;

\pset format aligned
\pset border 2
SELECT k.representation,
       k.bytes_per_trace_id, k.bytes_per_span_id,
       pg_size_pretty(pg_table_size(k.tab)) AS table_size,
       pg_size_pretty(pg_indexes_size(k.tab)) AS index_size,
       round(100.0 * (pg_table_size(k.tab) + pg_indexes_size(k.tab))
             / (pg_table_size('keys_text') + pg_indexes_size('keys_text'))) AS pct_of_text,
       k.prints_as
  FROM (VALUES
        ('text (hex)', 'keys_text'::regclass,
         (SELECT pg_column_size(trace_id) FROM keys_text LIMIT 1), (SELECT pg_column_size(span_id) FROM keys_text LIMIT 1),
         (SELECT span_id::text FROM keys_text LIMIT 1)),
        ('bytea', 'keys_bytea'::regclass,
         (SELECT pg_column_size(trace_id) FROM keys_bytea LIMIT 1), (SELECT pg_column_size(span_id) FROM keys_bytea LIMIT 1),
         (SELECT span_id::text FROM keys_bytea LIMIT 1)),
        ('uuid + bigint', 'keys_uuid_bigint'::regclass,
         (SELECT pg_column_size(trace_id) FROM keys_uuid_bigint LIMIT 1), (SELECT pg_column_size(span_id) FROM keys_uuid_bigint LIMIT 1),
         (SELECT span_id::text FROM keys_uuid_bigint LIMIT 1)),
        ('agent_trace.trace_id + span_id', 'keys_agent_trace'::regclass,
         (SELECT pg_column_size(trace_id) FROM keys_agent_trace LIMIT 1), (SELECT pg_column_size(span_id) FROM keys_agent_trace LIMIT 1),
         (SELECT span_id::text FROM keys_agent_trace LIMIT 1))
       ) AS k(representation, tab, bytes_per_trace_id, bytes_per_span_id, prints_as);
