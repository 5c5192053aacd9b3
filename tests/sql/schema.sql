-- The schema as users and BI tools see it: tables, columns, types and the descriptions shown for
-- them, the indexes, and the security rules every object must follow.

-- Tables and their descriptions (agent_spans, agent_span_costs, agent_logs and agent_metrics are
-- partitioned: relkind p).
SELECT c.relname AS table, obj_description(c.oid, 'pg_class') AS description
  FROM pg_class AS c
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY 1;

-- Views and their descriptions.
SELECT c.relname AS view, obj_description(c.oid, 'pg_class') AS description
  FROM pg_class AS c
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind = 'v'
 ORDER BY 1;

-- Columns, in table order, with their types and descriptions.
SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
       col_description(c.oid, a.attnum) AS description
  FROM pg_class AS c
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p')
 ORDER BY c.relname, a.attnum;

-- Indexes: one trace's spans and children by parent, latest traces, traces, log records and metric
-- points of a session, user, agent, event or metric name (hash indexes: text of any length), time
-- ranges, and the idempotency keys.
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) AS definition
  FROM pg_index
 WHERE indrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'agent_trace'::regnamespace)
 ORDER BY indexrelid::regclass::text;

-- No GIN index on attributes: it halves COPY throughput; users add one if they need it.
SELECT count(*) AS gin_indexes
  FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid JOIN pg_am AS am ON am.oid = ic.relam
 WHERE i.indrelid = 'agent_trace.agent_spans'::regclass AND am.amname = 'gin';

-- pg_dump keeps the rows of every table (extension/sql/access.sql): of the extension's own tables and
-- default partitions as registered here; the daily partitions, which maintain() makes outside the
-- extension, like any table.
SELECT c.oid::regclass AS table, c.relkind, c.oid = ANY (e.extconfig) AS rows_dumped
  FROM pg_class AS c, pg_extension AS e
 WHERE c.relnamespace IN ('agent_trace'::regnamespace, 'agent_trace_partitions'::regnamespace)
   AND c.relkind IN ('r', 'p') AND e.extname = 'agent_trace'
 ORDER BY c.oid::regclass::text COLLATE "C";

-- Every table, column, type and function has a description.
SELECT 'table ' || c.relname AS undocumented
  FROM pg_class AS c
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
   AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname
  FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
   AND col_description(c.oid, a.attnum) IS NULL
UNION ALL
SELECT 'type ' || t.typname
  FROM pg_type AS t
 WHERE t.typnamespace = 'agent_trace'::regnamespace AND t.typtype = 'b' AND t.typname NOT LIKE '\_%'
   AND obj_description(t.oid, 'pg_type') IS NULL
UNION ALL
SELECT 'function ' || p.oid::regprocedure
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'agent_trace'::regnamespace AND l.lanname NOT IN ('c', 'internal')
   AND obj_description(p.oid, 'pg_proc') IS NULL;

-- Every function pins its search_path (in any language: the Rust trace functions run a query
-- through SPI too), so a caller's search_path cannot swap in another table or operator. The only
-- exceptions are the id types' input/output functions, which run no query: a SET clause on them
-- would cost every id read or printed a save and restore of the setting; and _saturate_bigint, an
-- expression inlined where it is used (a SET clause would stop that), which names no table,
-- function or operator that a search_path could change.
SELECT p.oid::regprocedure AS function_without_pinned_search_path, l.lanname AS language
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'agent_trace'::regnamespace
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY p.oid::regprocedure::text COLLATE "C";

-- SECURITY DEFINER functions run with the owner's rights: the triggers, which nobody may call or
-- attach to a table of their own; the owner's own tools (AgentOS schemas, erase, _maintain), which
-- nobody else may call; and what a role may do through them: the ingest reads tokens and redaction
-- and runs maintain() (which takes no time argument: it cannot be made to expire what has not
-- expired), a reader learns which projects it may read.
SELECT p.oid::regprocedure AS security_definer,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute,
       has_function_privilege('agent_trace_writer', p.oid, 'EXECUTE') AS writer_execute,
       has_function_privilege('agent_trace_reader', p.oid, 'EXECUTE') AS reader_execute
  FROM pg_proc AS p
 WHERE p.pronamespace = 'agent_trace'::regnamespace AND p.prosecdef
 ORDER BY p.oid::regprocedure::text COLLATE "C";

-- Nothing is open to PUBLIC; the reader roles read, the writer role inserts received data and can
-- do nothing else (tests/sql/roles.sql tries).
SELECT c.relname AS table,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('agent_trace_reader', c.oid, 'SELECT') AS reader_select,
       has_table_privilege('agent_trace_reader', c.oid, 'INSERT') AS reader_insert,
       has_any_column_privilege('agent_trace_usage_reader', c.oid, 'SELECT') AS usage_select,
       has_table_privilege('agent_trace_writer', c.oid, 'INSERT') AS writer_insert,
       has_any_column_privilege('agent_trace_writer', c.oid, 'SELECT') AS writer_select,
       has_table_privilege('agent_trace_writer', c.oid, 'UPDATE, DELETE, TRUNCATE') AS writer_change
  FROM pg_class AS c
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p', 'v')
 ORDER BY 1;

-- What agent_trace_usage_reader cannot read: the content columns (extension/sql/access.sql).
SELECT c.relname AS relation, string_agg(a.attname, ', ' ORDER BY a.attnum) AS hidden_from_usage_reader
  FROM pg_class AS c
  JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace = 'agent_trace'::regnamespace AND c.relkind IN ('r', 'p', 'v')
   AND NOT has_column_privilege('agent_trace_usage_reader', c.oid, a.attnum, 'SELECT')
 GROUP BY 1
 ORDER BY 1;

-- Who may call each function (internal helpers with a leading _ and the id types' input/output
-- functions left out). The writer calls add_score alone: the triggers call what they need as the owner.
SELECT p.proname AS function,
       has_function_privilege('agent_trace_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('agent_trace_usage_reader', p.oid, 'EXECUTE') AS usage_reader,
       has_function_privilege('agent_trace_writer', p.oid, 'EXECUTE') AS writer
  FROM pg_proc AS p
 WHERE p.pronamespace = 'agent_trace'::regnamespace AND p.proname NOT LIKE '\_%'
   AND NOT EXISTS (SELECT FROM pg_type AS t WHERE p.oid IN (t.typinput, t.typoutput, t.typreceive, t.typsend))
 ORDER BY 1;
SELECT has_schema_privilege('public', 'agent_trace', 'USAGE') AS public_schema_usage;

-- A login role holding agent_trace_writer can store spans, and the trace row follows.
CREATE ROLE regress_schema_ingest LOGIN IN ROLE agent_trace_writer;
CREATE ROLE regress_schema_dashboard LOGIN IN ROLE agent_trace_reader;
SET ROLE regress_schema_ingest;
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time, span_type, output_tokens)
VALUES ('abababababababababababababababab', 'abababababababab', 'chat', '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00', 'llm', 3)
ON CONFLICT DO NOTHING;
SET ROLE regress_schema_dashboard;
SELECT name, span_count, output_tokens FROM agent_trace.agent_traces WHERE trace_id = 'abababababababababababababababab';
INSERT INTO agent_trace.agent_spans (trace_id, span_id, name, start_time, end_time)
VALUES ('abababababababababababababababab', 'abababababababac', 'x', '2026-11-01 12:00:00+00', '2026-11-01 12:00:01+00');
RESET ROLE;
DROP ROLE regress_schema_ingest;
DROP ROLE regress_schema_dashboard;
