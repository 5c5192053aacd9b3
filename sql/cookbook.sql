-- Questions people ask of their agent traces first, as plain SQL over the agent_trace tables.
-- Run any of them in psql; tests/sql/cookbook.sql runs this whole file against sample data.

-- Latest runs, newest first.
SELECT trace_id, name, status, start_time, duration_ms, span_count, llm_call_count, tool_call_count,
       input_tokens, output_tokens, cost_usd
  FROM agent_trace.agent_traces
 ORDER BY start_time DESC
 LIMIT 20;

-- One run, step by step (paste the trace id from your logs).
SELECT span_id, parent_span_id, span_type, name, model, tool_name, status_code,
       start_time, duration_ms, input_tokens, output_tokens
  FROM agent_trace.agent_spans
 WHERE trace_id = '4bf92f3577b34da6a3ce929d0e0e4736'
 ORDER BY start_time, span_id;

-- Tokens and cost per model per day.
SELECT date_trunc('day', start_time) AS day, model,
       count(*) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens,
       sum(cost_usd) AS cost_usd
  FROM agent_trace.agent_spans
 WHERE span_type = 'llm'
 GROUP BY 1, 2
 ORDER BY 1, 2;

-- Failing tools: how often each tool errors, and the last error message.
SELECT tool_name, count(*) AS calls, count(*) FILTER (WHERE status_code = 'ERROR') AS errors,
       (array_agg(status_message ORDER BY start_time DESC) FILTER (WHERE status_code = 'ERROR'))[1] AS last_error
  FROM agent_trace.agent_spans
 WHERE span_type = 'tool'
 GROUP BY tool_name
 ORDER BY errors DESC, tool_name;

-- Runs of one session, in order.
SELECT trace_id, name, status, start_time, duration_ms, input, output
  FROM agent_trace.agent_traces
 WHERE session_id = 'sess-1'
 ORDER BY start_time;
