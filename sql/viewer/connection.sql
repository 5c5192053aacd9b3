-- Every connection of the viewer's pool, once: read-only transactions (a second guard behind the
-- reader role), times in UTC (the JSON carries offsets anyway), and a fresh plan for each query, so
-- that a filter left empty ($n IS NULL) folds away and the remaining ones can use their indexes.
SET default_transaction_read_only = on;
SET TimeZone = 'UTC';
SET plan_cache_mode = force_custom_plan;
