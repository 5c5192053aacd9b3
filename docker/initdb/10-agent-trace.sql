-- Runs once, when the container's data directory is first initialised.
CREATE EXTENSION IF NOT EXISTS agent_trace;
