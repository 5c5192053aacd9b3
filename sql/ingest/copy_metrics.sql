COPY agent_trace.agent_metrics (
    series_key, project_id, name, kind, temporality, is_monotonic, start_time, time, value, count, sum, min, max,
    bucket_bounds, bucket_counts, exponential_buckets, quantiles, unit, description, service_name,
    scope_name, scope_version, session_id, model, token_type, attributes, resource_attributes)
FROM STDIN (FORMAT binary)
