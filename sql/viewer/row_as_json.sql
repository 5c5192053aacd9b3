-- Wraps a viewer query that returns at most one row (on the line that says so): that row as a JSON object,
-- no row when the query has none.
SELECT row_to_json(r)::text FROM (
QUERY
) AS r
