-- Whether agent_trace.model_prices holds any price: `serve` warns at start when it does not (no
-- call would get a computed cost). Through the extension's function: the writer may not read the
-- table.
SELECT agent_trace.has_prices()
