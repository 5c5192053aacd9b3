-- Runs once on every node, when its data directory is first initialised (after the image's
-- 001-create-citus-extension.sql).
CREATE EXTENSION IF NOT EXISTS agent_trace;
