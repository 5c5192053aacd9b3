//! Where each column's value is looked for: the attribute keys of every dialect real agents send,
//! one list per column, first key present wins (GenAI semantic conventions, OpenInference, Agno,
//! Claude Code, Codex, Gemini CLI; docs/attribute-mapping.md). Spans (`spans`), log records
//! (`logs`) and metric points (`metrics`) read the same lists, so one session or model reads the
//! same on every signal. `extension/sql/agno.sql` copies the span lists for AgentOS's inserts; a
//! test below keeps the two equal.

// Spans (spans.rs). Gemini CLI sends gen_ai.* keys, so it needs no keys of its own. MODEL,
// SESSION_ID, USER_ID and TOOL_NAME also fill those columns of agent_logs and agent_metrics.

/// The requested model first, else the responding one (the column's documented meaning).
pub(super) const MODEL: &[&str] = &[
    "gen_ai.request.model",
    "gen_ai.response.model",
    "llm.model_name",
    "embedding.model_name",
    "llm.response.model_name",
    "model", // Claude Code, Codex; Gemini CLI on its log records and metric points
];
pub(super) const PROVIDER: &[&str] = &[
    "gen_ai.provider.name",
    "gen_ai.system",
    "llm.provider",
    "llm.system",
];
/// Input tokens include cached ones. GenAI, OpenInference and Codex count them that way; Claude Code
/// does not, and `input_tokens` adds its cache counts.
pub(super) const INPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.token_count.prompt",
    CLAUDE_INPUT_TOKENS,
    "codex.turn.token_usage.input_tokens",
];
/// Claude Code's input count: Anthropic's `input_tokens`, which leaves out the cache reads and
/// writes it reports apart as these two.
pub(super) const CLAUDE_INPUT_TOKENS: &str = "input_tokens";
pub(super) const CLAUDE_CACHE_TOKENS: [&str; 2] = ["cache_read_tokens", "cache_creation_tokens"];
pub(super) const OUTPUT_TOKENS: &[&str] = &[
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.token_count.completion",
    "output_tokens", // Claude Code
    "codex.turn.token_usage.output_tokens",
];
pub(super) const CACHE_READ_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_read.input_tokens",
    "llm.token_count.prompt_details.cache_read",
    "cache_read_tokens", // Claude Code (CLAUDE_CACHE_TOKENS)
    "codex.turn.token_usage.cached_input_tokens",
];
pub(super) const CACHE_WRITE_TOKENS: &[&str] = &[
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_write.input_tokens", // what Codex sends on its per-response span
    "llm.token_count.prompt_details.cache_write",
    "cache_creation_tokens", // Claude Code (CLAUDE_CACHE_TOKENS)
    "codex.turn.token_usage.cache_write_input_tokens",
];
pub(super) const REASONING_TOKENS: &[&str] = &[
    "gen_ai.usage.reasoning.output_tokens",
    "llm.token_count.completion_details.reasoning",
    "codex.usage.reasoning_output_tokens",
    "codex.turn.token_usage.reasoning_output_tokens",
];
/// No standard key exists; these are the ones clients use.
pub(super) const COST_USD: &[&str] = &["gen_ai.usage.cost", "llm.cost.total", "cost_usd"];
pub(super) const TOOL_NAME: &[&str] = &["gen_ai.tool.name", "tool.name", "tool_name"];
pub(super) const AGENT_NAME: &[&str] = &["gen_ai.agent.name", "agent.name", "graph.node.name"];
pub(super) const AGENT_ID: &[&str] = &["gen_ai.agent.id", "agno.agent.id"];
pub(super) const SESSION_ID: &[&str] = &[
    "gen_ai.conversation.id",
    "session.id", // OpenInference, Claude Code, Gemini CLI (record and resource)
    "agno.session.id",
    "conversation.id", // Codex
];
pub(super) const USER_ID: &[&str] = &["user.id", "agno.user.id"]; // user.id: Claude Code too
pub(super) const RUN_ID: &[&str] = &["agno.run.id", "run_id"];
pub(super) const TEAM_ID: &[&str] = &["agno.team.id"];
pub(super) const WORKFLOW_ID: &[&str] = &["gen_ai.workflow.name", "agno.workflow.id"];
/// No dialect defines one; these are the spellings a caller would choose.
pub(super) const CORRELATION_ID: &[&str] = &["correlation.id", "correlation_id"];
/// The step's input: messages, then tool arguments, then system instructions (GenAI sends those
/// alone when it logs no messages), then OpenInference, then Claude Code's prompt. OpenInference
/// `tool.parameters` comes after `input.value`: on OpenInference tool spans `input.value` holds the
/// call's arguments.
pub(super) const INPUT: &[&str] = &[
    "gen_ai.input.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.system_instructions",
    "input.value",
    "tool.parameters",
    "tool.arguments",
    "user_prompt", // Claude Code
];
pub(super) const OUTPUT: &[&str] = &[
    "gen_ai.output.messages",
    "gen_ai.tool.call.result",
    "output.value",
    "tool.result",
];

/// `openinference.span.kind` -> span_type (matched ignoring case).
pub(super) const OPENINFERENCE_KINDS: &[(&str, &str)] = &[
    ("LLM", "llm"),
    ("EMBEDDING", "embedding"),
    ("CHAIN", "chain"),
    ("RETRIEVER", "retriever"),
    ("RERANKER", "reranker"),
    ("TOOL", "tool"),
    ("AGENT", "agent"),
    ("GUARDRAIL", "guardrail"),
    ("EVALUATOR", "evaluator"),
    ("PROMPT", "prompt"),
];
/// `gen_ai.operation.name` -> span_type. Other values (Gemini CLI sends `llm_call`) fall through.
pub(super) const GENAI_OPERATIONS: &[(&str, &str)] = &[
    ("chat", "llm"),
    ("text_completion", "llm"),
    ("generate_content", "llm"),
    ("embeddings", "embedding"),
    ("retrieval", "retriever"),
    ("execute_tool", "tool"),
    ("invoke_agent", "agent"),
    ("create_agent", "agent"),
    ("invoke_workflow", "workflow"),
];
/// Span names of the coding CLIs -> span_type.
pub(super) const VENDOR_SPAN_NAMES: &[(&str, &str)] = &[
    ("claude_code.interaction", "agent"), // one user turn
    ("claude_code.llm_request", "llm"),
    ("claude_code.tool", "tool"),
    ("claude_code.hook", "hook"),
    // The two children of claude_code.tool: as tools they would count one tool call two or three times.
    ("claude_code.tool.blocked_on_user", "other"),
    ("claude_code.tool.execution", "other"),
    ("llm_call", "llm"), // Gemini CLI
    ("tool_call", "tool"),
    ("codex.exec", "agent"), // the root of a `codex exec` run
];
/// Claude Code's `span.type` attribute, for spans whose name did not decide.
pub(super) const CLAUDE_SPAN_TYPES: &[(&str, &str)] = &[
    ("interaction", "agent"),
    ("llm_request", "llm"),
    ("tool", "tool"),
    ("hook", "hook"),
];
/// Codex reports usage twice. Per model response, on the `handle_responses` span that received the
/// completed response, as `gen_ai.usage.*` plus `codex.usage.*`: that span is the LLM call. Per turn,
/// on `session_task.turn`, as `codex.turn.token_usage.*`: the turn repeats the sum of its responses,
/// so it is an agent span, whose usage the database does not add to the trace again.
pub(super) const CODEX_RESPONSE_USAGE: &str = "codex.usage.";
pub(super) const CODEX_TURN_USAGE: &str = "codex.turn.token_usage.";

// Content (redact.rs): the keys whose values are prompts, completions, messages, tool arguments
// and results, documents, in every dialect we map, on spans, span events, log records, metric
// points and their resources. A key ending in `*` matches every key that starts with what comes
// before it.
pub(super) const CONTENT: &[&str] = &[
    // GenAI semantic conventions, and their older span-event form (gen_ai.user.message, ...,
    // gen_ai.choice: content, tool_calls, message).
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
    "gen_ai.prompt",
    "gen_ai.prompt.*",
    "gen_ai.completion",
    "gen_ai.completion.*",
    "gen_ai.event.content",
    // An evaluator's reasons quote what it judged (scores.rs).
    "gen_ai.evaluation.explanation",
    "content",
    "tool_calls",
    "message",
    // OpenInference (and Agno, which speaks it).
    "input.value",
    "output.value",
    "llm.input_messages.*",
    "llm.output_messages.*",
    "llm.prompts",
    "llm.prompts.*",
    "llm.prompt_template.*",
    "tool.parameters",
    "tool.arguments",
    "tool.result",
    "retrieval.documents.*",
    "reranker.query",
    "reranker.input_documents.*",
    "reranker.output_documents.*",
    "embedding.embeddings.*",
    // Claude Code (user_prompt on spans; prompt and response on log events).
    "user_prompt",
    "prompt",
    "response",
    // Gemini CLI's log events.
    "request_text",
    "response_text",
    "function_args",
    // Codex's log events (prompt above), and agents' own start/end events.
    "arguments",
    "input",
    "output",
    // The process's command line, a resource attribute: a CLI's prompt is often an argument
    // (`gemini -p "..."`, `claude -p "..."`).
    "process.command_args",
    "process.command_line",
];

// Scores (scores.rs): OpenTelemetry's GenAI evaluation event, as open-telemetry/
// semantic-conventions-genai defines it (model/gen-ai/events.yaml, registry.yaml). It names no
// source or scorer (docs/attribute-mapping.md).
pub(super) const EVALUATION_EVENT: &str = "gen_ai.evaluation.result";
pub(super) const EVALUATION_NAME: &str = "gen_ai.evaluation.name";
pub(super) const EVALUATION_SCORE_VALUE: &str = "gen_ai.evaluation.score.value";
pub(super) const EVALUATION_SCORE_LABEL: &str = "gen_ai.evaluation.score.label";
pub(super) const EVALUATION_EXPLANATION: &str = "gen_ai.evaluation.explanation";
/// The response a model call returned: on its span, and on an evaluation of it that names no span.
/// extension/sql/scores.sql reads the same key from agent_spans.attributes.
pub(super) const RESPONSE_ID: &str = "gen_ai.response.id";
/// The keys an evaluation's columns come from; a score's `attributes` hold the others.
pub(super) const EVALUATION_KEYS: &[&str] = &[
    EVALUATION_NAME,
    EVALUATION_SCORE_VALUE,
    EVALUATION_SCORE_LABEL,
    EVALUATION_EXPLANATION,
    RESPONSE_ID,
];

// Log records (logs.rs).
pub(super) const DURATION_MS: &[&str] = &["duration_ms"]; // Claude Code, Gemini CLI, Codex

/// Gemini CLI's repeat of each call's usage (see the top of logs.rs): (service.name, event name).
pub(super) const REPEATED_USAGE: &[(&str, &str)] =
    &[("gemini-cli", "gen_ai.client.inference.operation.details")];

// Metric points (metrics.rs).
pub(super) const TOKEN_TYPE: &[&str] = &["gen_ai.token.type", "token_type"];
/// Claude Code and Gemini CLI name the token kind `type` on their token counters.
pub(super) const VENDOR_TOKEN_TYPE: &str = "type";
pub(super) const TOKEN_USAGE_SUFFIX: &str = "token.usage";

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL twin of this mapping (`extension/sql/agno.sql`, for spans AgentOS inserts through the
    /// database) marks each key list with the name of the constant it copies: every list there must
    /// be this file's, key for key and in order. ingest/tests/agno.rs compares the two mappings'
    /// results on every captured request.
    #[test]
    fn the_sql_mapping_uses_these_key_lists() {
        let sql = include_str!("../../../extension/sql/agno.sql");
        let list = |name: &str| -> Vec<String> {
            let marker = format!("/* {name} */");
            let start = sql
                .find(&marker)
                .unwrap_or_else(|| panic!("agno.sql has no {marker}"))
                + marker.len();
            let end = start + sql[start..].find(']').expect("the list's end");
            sql[start..end]
                .split(',')
                .map(|key| key.trim().trim_matches('\'').to_string())
                .collect()
        };
        let keys = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        let pairs = |table: &[(&str, &str)]| {
            table
                .iter()
                .flat_map(|(key, span_type)| [key.to_string(), span_type.to_string()])
                .collect::<Vec<_>>()
        };
        for (name, expected) in [
            ("MODEL", keys(MODEL)),
            ("PROVIDER", keys(PROVIDER)),
            ("INPUT_TOKENS", keys(INPUT_TOKENS)),
            ("OUTPUT_TOKENS", keys(OUTPUT_TOKENS)),
            ("CACHE_READ_TOKENS", keys(CACHE_READ_TOKENS)),
            ("CACHE_WRITE_TOKENS", keys(CACHE_WRITE_TOKENS)),
            ("REASONING_TOKENS", keys(REASONING_TOKENS)),
            ("COST_USD", keys(COST_USD)),
            ("TOOL_NAME", keys(TOOL_NAME)),
            ("AGENT_NAME", keys(AGENT_NAME)),
            ("AGENT_ID", keys(AGENT_ID)),
            ("SESSION_ID", keys(SESSION_ID)),
            ("USER_ID", keys(USER_ID)),
            ("RUN_ID", keys(RUN_ID)),
            ("TEAM_ID", keys(TEAM_ID)),
            ("WORKFLOW_ID", keys(WORKFLOW_ID)),
            ("CORRELATION_ID", keys(CORRELATION_ID)),
            ("INPUT", keys(INPUT)),
            ("OUTPUT", keys(OUTPUT)),
            ("OPENINFERENCE_KINDS", pairs(OPENINFERENCE_KINDS)),
            ("GENAI_OPERATIONS", pairs(GENAI_OPERATIONS)),
            ("VENDOR_SPAN_NAMES", pairs(VENDOR_SPAN_NAMES)),
            ("CLAUDE_SPAN_TYPES", pairs(CLAUDE_SPAN_TYPES)),
        ] {
            assert_eq!(list(name), expected, "{name} in extension/sql/agno.sql");
        }
        // The keys the code names outside those lists.
        for key in [
            CLAUDE_INPUT_TOKENS,
            CLAUDE_CACHE_TOKENS[0],
            CLAUDE_CACHE_TOKENS[1],
            CODEX_RESPONSE_USAGE,
            CODEX_TURN_USAGE,
            "agno.team.id",
            "openinference.span.kind",
            "gen_ai.operation.name",
            "span.type",
        ] {
            assert!(sql.contains(&format!("'{key}'")), "{key} in agno.sql");
        }
    }

    /// scores.sql finds the span of a response by the key the mapping reads it from, and indexes it.
    #[test]
    fn the_sql_links_scores_by_this_response_key() {
        let scores = include_str!("../../../extension/sql/scores.sql");
        let index = format!(
            "USING hash ((attributes ->> '{RESPONSE_ID}')) WHERE attributes ? '{RESPONSE_ID}'"
        );
        assert!(scores.contains(&index), "the partial index");
        // The index's predicate, and each lookup repeating it so the planner may use the index.
        let present = format!("attributes ? '{RESPONSE_ID}' AND s.attributes ->> '{RESPONSE_ID}'");
        assert_eq!(scores.matches(&present).count(), 2, "the two lookups");
    }
}
