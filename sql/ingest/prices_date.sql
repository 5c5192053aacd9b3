-- agent-trace prices import: the date a price list is imported as. $1 (YYYY-MM-DD text), else today
-- in UTC. Also rejects a malformed date before anything is written.
SELECT coalesce($1::text::date, (now() AT TIME ZONE 'UTC')::date)::text
