-- Tokens over time by model and tool, from the token counters of Claude Code, Gemini CLI, Codex
-- and the GenAI conventions (agent_metric_deltas), in buckets of $3 from $1 to $2. Input and
-- output tokens as each client counts them. Gemini CLI reports its tokens twice (gemini_cli.* and
-- gen_ai.*): its gen_ai.client.token.usage is left out.
SELECT date_bin($3::text::interval, d.time, $1::text::timestamptz) AS bucket,
       coalesce(d.model, '(no model)') AS model,
       agent_trace.tool_label(d.service_name) AS tool,
       d.token_type,
       sum(coalesce(d.delta, d.delta_sum)) AS tokens
  FROM agent_trace.agent_metric_deltas AS d
 WHERE d.name IN ('claude_code.token.usage', 'gemini_cli.token.usage', 'codex.turn.token_usage',
                  'gen_ai.client.token.usage')
   AND NOT (d.name = 'gen_ai.client.token.usage' AND d.service_name = 'gemini-cli')
   AND d.token_type IN ('input', 'output')
   AND d.time >= $1::text::timestamptz AND d.time < $2::text::timestamptz
 GROUP BY 1, 2, 3, 4
 ORDER BY 1, 2, 3, 4
