-- The query tool's transaction: read-only, and one snapshot for the whole statement. The snapshot is
-- taken by the first query that follows (sql_settings.sql), before the caller's statement, so that
-- the statement cannot make the transaction read-write again (SET TRANSACTION READ WRITE must come
-- before any query: 25001).
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
