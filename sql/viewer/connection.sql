-- Every connection of the viewer's pool, once: read-only transactions (a second guard behind the
-- reader role), times in UTC (the JSON carries offsets anyway), a fresh plan for each query, so
-- that a filter left empty ($n IS NULL) folds away and the remaining ones can use their indexes,
-- and no JIT compilation.
-- The search path is pg_catalog alone (pg_temp last, so nothing temporary shadows it): every
-- statement names agent_trace's objects in full, and no role that may create objects in another
-- schema (public, or a schema named like the login) can slip its own function or operator into
-- a statement the viewer runs (an `=` on agent_trace.trace_id, say, which would run with the
-- viewer's rights on every row it compares).
SET search_path = pg_catalog, pg_temp;
SET default_transaction_read_only = on;
SET TimeZone = 'UTC';
SET plan_cache_mode = force_custom_plan;
-- No JIT: the viewer's statements are short, and their optional filters (a subquery per candidate
-- trace, as for a model or a score) make the planner's estimates high enough to compile them, which
-- costs more (hundreds of milliseconds) than the statement itself.
SET jit = off;
