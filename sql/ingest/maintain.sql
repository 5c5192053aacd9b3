-- The extension's maintenance (extension/sql/partitions.sql): partitions ahead, retention. One row
-- per thing it did; nothing when there was nothing to do. agent_trace_writer may call it.
SELECT m.action, m.table_name, m.detail FROM agent_trace.maintain() AS m
