-- Wraps a viewer query (on the line that says so) so that PostgreSQL renders its rows as one JSON array of
-- objects, in the query's order: numerics keep every digit, ids print as hex, times as ISO 8601.
SELECT coalesce(json_agg(r), '[]')::text FROM (
QUERY
) AS r
