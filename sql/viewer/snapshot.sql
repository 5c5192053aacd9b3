-- Several queries that must agree (the MCP server's answers: a trace, its tree and its scores) in
-- one transaction that sees the data as it was at its first query, and writes nothing.
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY
