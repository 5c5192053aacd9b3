-- OpenTelemetry ids as compact types that read and print as the hex users paste from logs.
--
--   trace_id: 16 bytes, written as 32 hex digits    span_id: 8 bytes, written as 16 hex digits
--
-- Stored values go through strict input (either case; wrong length, non-hex or the all-zero id is an
-- error) and print in lower case, as SDKs and OTLP/JSON write them.
--
-- The bytes are laid out exactly like the built-in `uuid` (16 bytes) and `macaddr8` (8 bytes), whose
-- comparison functions compare byte-wise, i.e. in hex order. So each type gets an implicit
-- binary-coercible cast to its twin and no operators of its own, the way `varchar` rides on `text`:
-- `=`, `<`, ORDER BY, hashing, joins and indexes use the twin's C functions and operator classes,
-- which live in pg_catalog and so work whatever the caller's search_path is. A query therefore
-- needs nothing special: `WHERE trace_id = '4bf92f3577b34da6a3ce929d0e0e4736'` reads the literal
-- as a uuid (which accepts 32 bare hex digits) and uses the index. Only text input/output and
-- binary input are ours (Rust, `extension/src/ids.rs`).

CREATE SCHEMA agent_trace;
COMMENT ON SCHEMA agent_trace IS
    'agent_trace: traces of AI agent runs (LLM calls, tool calls, tokens, cost, errors) stored as OpenTelemetry spans.';

------------------------------------------------------------------------------------------------------
-- trace_id
------------------------------------------------------------------------------------------------------
CREATE TYPE agent_trace.trace_id;

CREATE FUNCTION agent_trace.trace_id_in(cstring) RETURNS agent_trace.trace_id
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_trace_id_in';
CREATE FUNCTION agent_trace.trace_id_out(agent_trace.trace_id) RETURNS cstring
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_trace_id_out';
CREATE FUNCTION agent_trace.trace_id_recv(internal) RETURNS agent_trace.trace_id
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_trace_id_recv';
CREATE FUNCTION agent_trace.trace_id_send(agent_trace.trace_id) RETURNS bytea
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE internal AS 'uuid_send';

CREATE TYPE agent_trace.trace_id (
    INPUT = agent_trace.trace_id_in,
    OUTPUT = agent_trace.trace_id_out,
    RECEIVE = agent_trace.trace_id_recv,
    SEND = agent_trace.trace_id_send,
    INTERNALLENGTH = 16,
    ALIGNMENT = char,  -- as uuid: binary coercion requires the same length and alignment
    STORAGE = plain
);
COMMENT ON TYPE agent_trace.trace_id IS
    'OpenTelemetry trace id: 16 bytes, written as 32 hex digits. Compares, sorts and indexes as uuid.';

-- Comparisons are uuid's: `trace_id = '4bf9...'` is `trace_id::uuid = '4bf9...'::uuid`, whatever the
-- search_path. Back the other way in assignments too: Citus, asked for the shard of such a
-- comparison, converts the uuid value to the column's type as an assignment, and without this cast
-- took the comparison for one that no row satisfies.
CREATE CAST (agent_trace.trace_id AS uuid) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (uuid AS agent_trace.trace_id) WITHOUT FUNCTION AS ASSIGNMENT;

------------------------------------------------------------------------------------------------------
-- span_id
------------------------------------------------------------------------------------------------------
CREATE TYPE agent_trace.span_id;

CREATE FUNCTION agent_trace.span_id_in(cstring) RETURNS agent_trace.span_id
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_span_id_in';
CREATE FUNCTION agent_trace.span_id_out(agent_trace.span_id) RETURNS cstring
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_span_id_out';
CREATE FUNCTION agent_trace.span_id_recv(internal) RETURNS agent_trace.span_id
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'agent_trace_span_id_recv';
CREATE FUNCTION agent_trace.span_id_send(agent_trace.span_id) RETURNS bytea
    IMMUTABLE STRICT PARALLEL SAFE LANGUAGE internal AS 'macaddr8_send';

CREATE TYPE agent_trace.span_id (
    INPUT = agent_trace.span_id_in,
    OUTPUT = agent_trace.span_id_out,
    RECEIVE = agent_trace.span_id_recv,
    SEND = agent_trace.span_id_send,
    INTERNALLENGTH = 8,
    ALIGNMENT = int4,  -- as macaddr8: binary coercion requires the same length and alignment
    STORAGE = plain
);
COMMENT ON TYPE agent_trace.span_id IS
    'OpenTelemetry span id: 8 bytes, written as 16 hex digits. Compares, sorts and indexes as macaddr8.';

CREATE CAST (agent_trace.span_id AS macaddr8) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (macaddr8 AS agent_trace.span_id) WITHOUT FUNCTION AS ASSIGNMENT;
