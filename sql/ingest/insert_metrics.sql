-- Staged metric points -> agent_metrics. DISTINCT ON drops copies of one point inside the batch
-- (PostgreSQL refuses an ON CONFLICT statement that touches one key twice; DISTINCT ON, like the
-- table's NULLS NOT DISTINCT key, treats two missing start times as equal); ON CONFLICT DO NOTHING
-- skips points stored by an earlier request (a client retry). Rows go in key order so concurrent
-- batches take their locks in the same order.
INSERT INTO agent_trace.agent_metrics (
    series_key, project_id, name, kind, temporality, is_monotonic, start_time, time, value, count, sum, min, max,
    bucket_bounds, bucket_counts, exponential_buckets, quantiles, unit, description, service_name,
    scope_name, scope_version, session_id, model, token_type, attributes, resource_attributes)
SELECT DISTINCT ON (s.series_key, s.time, s.start_time, s.project_id)
       s.series_key, s.project_id, s.name, s.kind, s.temporality, s.is_monotonic, s.start_time, s.time, s.value,
       s.count, s.sum, s.min, s.max, s.bucket_bounds, s.bucket_counts, s.exponential_buckets,
       s.quantiles, s.unit, s.description, s.service_name, s.scope_name, s.scope_version,
       s.session_id, s.model, s.token_type, s.attributes, s.resource_attributes
  FROM pg_temp.agent_trace_staging_metrics AS s
 ORDER BY s.series_key, s.time, s.start_time, s.project_id
    ON CONFLICT DO NOTHING
