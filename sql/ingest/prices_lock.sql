-- agent-trace prices import, first statement of its transaction: one import at a time (a second
-- waits here), while span and log inserts, which only read prices, go on.
LOCK TABLE agent_trace.model_prices IN SHARE ROW EXCLUSIVE MODE
