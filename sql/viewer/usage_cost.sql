-- Model calls, tokens and cost over time by tool and model, from the log events that report one
-- call's usage (Claude Code api_request, Gemini CLI api_response, Codex sse_event, GenAI), in
-- buckets of $3 from $1 to $2: the reported cost and the cost computed from model_prices apart.
SELECT date_bin($3::text::interval, l.time, $1::text::timestamptz) AS bucket,
       agent_trace.tool_label(l.service_name) AS tool,
       coalesce(l.model, '(no model)') AS model,
       count(*) AS calls,
       sum(l.input_tokens) AS input_tokens,
       sum(l.output_tokens) AS output_tokens,
       sum(l.cost_usd) AS cost_usd,
       sum(l.computed_cost_usd) AS computed_cost_usd
  FROM agent_trace.agent_logs AS l
 WHERE (l.input_tokens IS NOT NULL OR l.output_tokens IS NOT NULL)
   AND l.time >= $1::text::timestamptz AND l.time < $2::text::timestamptz
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
