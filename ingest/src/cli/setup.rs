//! `agent-trace setup claude|gemini|codex|agno`: the settings that point a coding assistant's (or an
//! Agno app's) OpenTelemetry export at this server. Pure: renders text, touches no file.
//!
//! Each tool is configured the way its own documentation says, with the names checked there and
//! against what the captured requests in `tests/fixtures/otlp/cli_*` show (paths, encodings):
//!
//! * Claude Code: environment variables (or the same under `"env"` in `~/.claude/settings.json`).
//!   <https://code.claude.com/docs/en/monitoring-usage> (quick start, common configuration
//!   variables, "Traces (beta)": `CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1` with `OTEL_TRACES_EXPORTER`).
//!   Fixtures: http/protobuf to `/v1/traces`, `/v1/logs`, `/v1/metrics` of the base endpoint.
//! * Gemini CLI: the `"telemetry"` object of `.gemini/settings.json`.
//!   <https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/telemetry.md> (Configuration
//!   table: `enabled`, `target`, `otlpEndpoint`, `otlpProtocol` "grpc"/"http", `logPrompts`). With
//!   `otlpProtocol: "http"` it appends `v1/traces`, `v1/logs`, `v1/metrics` to the endpoint
//!   (packages/core/src/telemetry/sdk.ts); the fixtures show OTLP/JSON on those paths. Its settings
//!   have no header field: its opentelemetry-js exporters read `OTEL_EXPORTER_OTLP_HEADERS`.
//! * Codex CLI: the `[otel]` table of `~/.codex/config.toml`.
//!   <https://github.com/openai/codex/blob/main/docs/config.md#otel> (`exporter = { otlp-http = {
//!   endpoint, protocol = "binary", headers } }`, `log_user_prompt`) and the codex-otel crate's
//!   `trace_exporter` / `metrics_exporter`. Codex posts to the endpoint as given, so each signal
//!   gets its full `/v1/...` URL; the fixtures show protobuf on `/v1/logs`, `/v1/traces`,
//!   `/v1/metrics`.
//! * Agno AgentOS: Python lines that add an OTLP/HTTP span exporter to the tracer provider
//!   `AgentOS(..., tracing=True)` sets up (agno/tracing/setup.py: a global SDK `TracerProvider` with
//!   Agno's database exporter and OpenInference's `AgnoInstrumentor`; it does nothing when a
//!   `TracerProvider` is set already, hence the order). The exporter is opentelemetry-python's
//!   `OTLPSpanExporter(endpoint=..., headers=...)`, whose endpoint is the full `/v1/traces` URL.
//!   `ingest/tests/agno.rs` runs the printed lines in a real AgentOS app.
//!
//! For the coding assistants it also prints how to register agent-trace's MCP server
//! (`<endpoint>/mcp`, the Streamable HTTP transport, docs/mcp.md) with the tool, so that the tool can
//! read its own traces, with the bearer token as a header:
//!
//! * Claude Code: `claude mcp add --transport http NAME URL --header "Authorization: Bearer ..."`,
//!   <https://code.claude.com/docs/en/mcp> ("Option 1: Add a remote HTTP server").
//! * Gemini CLI: `gemini mcp add --transport http NAME URL --header "..."`,
//!   <https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md> (`gemini mcp
//!   add`: `--transport`/`-t` http, `--header`/`-H`).
//! * Codex CLI: a `[mcp_servers.NAME]` table of `~/.codex/config.toml` with `url` (a Streamable HTTP
//!   server) and `http_headers`, <https://developers.openai.com/codex/mcp> ("Streamable HTTP
//!   servers").

use serde_json::json;

/// The coding assistant to configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tool {
    /// Claude Code (environment variables)
    Claude,
    /// Gemini CLI (.gemini/settings.json)
    Gemini,
    /// Codex CLI (~/.codex/config.toml)
    Codex,
    /// Agno AgentOS app (Python lines)
    Agno,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupOptions {
    /// Base OTLP/HTTP URL of agent-trace, e.g. `http://127.0.0.1:4318`.
    pub endpoint: String,
    /// Bearer token agent-trace was started with (`--token`), if any.
    pub token: Option<String>,
    /// Whether the tool should include prompt text in its telemetry.
    pub log_prompts: bool,
}

/// The text `agent-trace setup TOOL` prints.
pub fn render(tool: Tool, options: &SetupOptions) -> Result<String, String> {
    let endpoint = check_endpoint(&options.endpoint)?;
    if let Some(token) = &options.token
        && (token.is_empty() || token.chars().any(|c| c.is_control() || c == ','))
    {
        return Err("--token must be non-empty, without commas or control characters".to_string());
    }
    if tool == Tool::Agno && options.log_prompts {
        return Err("--log-prompts does not apply to agno: its spans carry what Agno's instrumentation \
                    records (OpenInference's OPENINFERENCE_HIDE_INPUTS and OPENINFERENCE_HIDE_OUTPUTS \
                    environment variables hide inputs and outputs)"
            .to_string());
    }
    Ok(match tool {
        Tool::Claude => claude(&endpoint, options),
        Tool::Gemini => gemini(&endpoint, options),
        Tool::Codex => codex(&endpoint, options),
        Tool::Agno => agno(&endpoint, options),
    })
}

/// `http(s)://host[:port][/path]` without a trailing slash.
fn check_endpoint(endpoint: &str) -> Result<String, String> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("http://")
        .or_else(|| trimmed.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !trimmed.chars().any(char::is_whitespace) => {
            Ok(trimmed.to_string())
        }
        _ => Err(format!(
            "--endpoint {endpoint:?} is not an http:// or https:// URL (agent-trace's OTLP/HTTP address, e.g. http://127.0.0.1:4318)"
        )),
    }
}

fn claude_values(endpoint: &str, options: &SetupOptions) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".to_string()),
        ("CLAUDE_CODE_ENHANCED_TELEMETRY_BETA", "1".to_string()),
        ("OTEL_METRICS_EXPORTER", "otlp".to_string()),
        ("OTEL_LOGS_EXPORTER", "otlp".to_string()),
        ("OTEL_TRACES_EXPORTER", "otlp".to_string()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_string()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_string()),
    ];
    if let Some(token) = &options.token {
        vars.push((
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("Authorization=Bearer {token}"),
        ));
    }
    vars.extend([
        ("OTEL_METRIC_EXPORT_INTERVAL", "10000".to_string()),
        ("OTEL_LOGS_EXPORT_INTERVAL", "5000".to_string()),
        ("OTEL_TRACES_EXPORT_INTERVAL", "5000".to_string()),
        (
            "OTEL_LOG_USER_PROMPTS",
            if options.log_prompts { "1" } else { "0" }.to_string(),
        ),
    ]);
    vars
}

fn claude(endpoint: &str, options: &SetupOptions) -> String {
    let vars = claude_values(endpoint, options);
    let mut out = String::new();
    out.push_str(
        "# Claude Code -> agent-trace (https://code.claude.com/docs/en/monitoring-usage)\n",
    );
    out.push_str("# Metrics, log events (tokens and cost per API request) and traces (beta) over OTLP/HTTP.\n");
    out.push_str("# Run in the shell that starts `claude`, or add to your shell profile:\n");
    for (name, value) in &vars {
        out.push_str(&format!("export {name}={}\n", shell_quote(value)));
    }
    if !options.log_prompts {
        out.push_str(
            "# Prompt text is redacted; `agent-trace setup claude --log-prompts` includes it.\n",
        );
    }
    out.push('\n');
    out.push_str("# Or, for every session, merge this into ~/.claude/settings.json:\n");
    let env: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), json!(value)))
        .collect();
    out.push_str(&pretty(&json!({ "env": env })));
    out.push('\n');
    out.push_str(
        "# And let Claude Code read these traces itself through agent-trace's MCP server (once;\n",
    );
    out.push_str("# https://code.claude.com/docs/en/mcp):\n");
    out.push_str(&mcp_add_line("claude", endpoint, options));
    out
}

/// The name the coding assistants know agent-trace's MCP server by.
const MCP_NAME: &str = "agent-trace";

/// `TOOL mcp add --transport http agent-trace URL [--header 'Authorization: Bearer TOKEN']`: the
/// command Claude Code and Gemini CLI both take.
fn mcp_add_line(tool: &str, endpoint: &str, options: &SetupOptions) -> String {
    let mut line = format!(
        "{tool} mcp add --transport http {MCP_NAME} {}",
        shell_quote(&format!("{endpoint}/mcp"))
    );
    if let Some(token) = &options.token {
        line.push_str(&format!(
            " --header {}",
            shell_quote(&format!("Authorization: Bearer {token}"))
        ));
    }
    line.push('\n');
    line
}

fn gemini(endpoint: &str, options: &SetupOptions) -> String {
    let mut out = String::new();
    out.push_str("# Gemini CLI -> agent-trace (https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/telemetry.md)\n");
    out.push_str("# Logs, metrics and traces over OTLP/HTTP. Merge this into .gemini/settings.json (this project)\n");
    out.push_str("# or ~/.gemini/settings.json (every project):\n");
    let settings = json!({
        "telemetry": {
            "enabled": true,
            "target": "local",
            "otlpEndpoint": endpoint,
            "otlpProtocol": "http",
            "logPrompts": options.log_prompts,
        }
    });
    out.push_str(&pretty(&settings));
    if let Some(token) = &options.token {
        out.push_str("# Gemini CLI's settings have no header field; its OpenTelemetry exporters read this one.\n");
        out.push_str("# Run it in the shell that starts `gemini`:\n");
        out.push_str(&format!(
            "export OTEL_EXPORTER_OTLP_HEADERS={}\n",
            shell_quote(&format!("Authorization=Bearer {token}"))
        ));
    }
    out.push_str(
        "# And let Gemini CLI read these traces itself through agent-trace's MCP server (once;\n",
    );
    out.push_str(
        "# https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md):\n",
    );
    out.push_str(&mcp_add_line("gemini", endpoint, options));
    out
}

fn codex(endpoint: &str, options: &SetupOptions) -> String {
    let exporter = |signal: &str| {
        let mut fields = format!(
            "endpoint = {}, protocol = \"binary\"",
            toml_string(&format!("{endpoint}/v1/{signal}"))
        );
        if let Some(token) = &options.token {
            fields.push_str(&format!(
                ", headers = {{ \"Authorization\" = {} }}",
                toml_string(&format!("Bearer {token}"))
            ));
        }
        format!("{{ otlp-http = {{ {fields} }} }}")
    };
    let mut out = String::new();
    out.push_str("# Codex CLI -> agent-trace (https://github.com/openai/codex/blob/main/docs/config.md#otel)\n");
    out.push_str(
        "# Log events (tokens per response), traces and metrics over OTLP/HTTP (protobuf).\n",
    );
    out.push_str("# Add to ~/.codex/config.toml, in place of an [otel] table already there:\n");
    out.push_str("[otel]\n");
    out.push_str(&format!("log_user_prompt = {}\n", options.log_prompts));
    out.push_str(&format!("exporter = {}\n", exporter("logs")));
    out.push_str(&format!("trace_exporter = {}\n", exporter("traces")));
    out.push_str(&format!("metrics_exporter = {}\n", exporter("metrics")));
    out.push('\n');
    out.push_str("# And let Codex read these traces itself through agent-trace's MCP server\n");
    out.push_str("# (https://developers.openai.com/codex/mcp):\n");
    out.push_str(&format!("[mcp_servers.{MCP_NAME}]\n"));
    out.push_str(&format!(
        "url = {}\n",
        toml_string(&format!("{endpoint}/mcp"))
    ));
    if let Some(token) = &options.token {
        out.push_str(&format!(
            "http_headers = {{ \"Authorization\" = {} }}\n",
            toml_string(&format!("Bearer {token}"))
        ));
    }
    out
}

fn agno(endpoint: &str, options: &SetupOptions) -> String {
    let mut exporter = format!(
        "endpoint={}",
        python_string(&format!("{endpoint}/v1/traces"))
    );
    if let Some(token) = &options.token {
        exporter.push_str(&format!(
            ", headers={{\"Authorization\": {}}}",
            python_string(&format!("Bearer {token}"))
        ));
    }
    let mut out = String::new();
    out.push_str("# Agno AgentOS -> agent-trace: the app's spans over OTLP/HTTP (protobuf).\n");
    out.push_str("# Needs: pip install opentelemetry-exporter-otlp-proto-http\n");
    out.push_str(
        "# Put these lines right after `agent_os = AgentOS(..., tracing=True)`: AgentOS sets up\n",
    );
    out.push_str("# Agno's tracer provider there, and they add agent-trace to it. Order matters: with a tracer\n");
    out.push_str("# provider set before AgentOS(tracing=True), Agno skips its tracing setup (no instrumentation,\n");
    out.push_str("# no database exporter). The app's service_name is OTEL_SERVICE_NAME's, set before it starts.\n");
    out.push_str("from opentelemetry import trace\n");
    out.push_str(
        "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n",
    );
    out.push_str("from opentelemetry.sdk.trace.export import BatchSpanProcessor\n");
    out.push('\n');
    out.push_str("trace.get_tracer_provider().add_span_processor(\n");
    out.push_str(&format!(
        "    BatchSpanProcessor(OTLPSpanExporter({exporter}))\n"
    ));
    out.push_str(")\n");
    out.push_str("# If AgentOS's db is a schema prepared by agent_trace.enable_agno_compat(), Agno already stores its\n");
    out.push_str("# spans in agent_trace through it: leave these lines out, or each span is stored twice (the two\n");
    out.push_str("# paths round its times differently).\n");
    out
}

/// A Python string literal: JSON's escapes are Python's.
fn python_string(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

fn pretty(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("JSON of strings and booleans");
    text.push('\n');
    text
}

/// A word for POSIX shells: bare when it is only safe characters, else in single quotes.
fn shell_quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+".contains(c))
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(token: Option<&str>, log_prompts: bool) -> SetupOptions {
        SetupOptions {
            endpoint: "http://127.0.0.1:4318".to_string(),
            token: token.map(String::from),
            log_prompts,
        }
    }

    /// The names are checked against the documentation in tests/setup.rs.
    #[test]
    fn claude_exports_the_token_prompts_and_endpoint() {
        let text = render(Tool::Claude, &options(Some("s3cret"), true)).unwrap();
        assert!(text.contains("export OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer s3cret'\n"));
        assert!(text.contains("export OTEL_LOG_USER_PROMPTS=1\n"));
        assert!(text.contains("export OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318\n"));
    }

    #[test]
    fn without_a_token_no_header_is_printed() {
        for tool in [Tool::Claude, Tool::Gemini, Tool::Codex, Tool::Agno] {
            let text = render(tool, &options(None, false)).unwrap();
            assert!(!text.contains("Authorization"), "{text}");
            assert!(!text.contains("OTEL_EXPORTER_OTLP_HEADERS"), "{text}");
        }
    }

    #[test]
    fn endpoints_are_checked_and_trailing_slashes_dropped() {
        let mut o = options(None, false);
        o.endpoint = "https://traces.example.com:4318/".to_string();
        let text = render(Tool::Codex, &o).unwrap();
        assert!(text.contains("\"https://traces.example.com:4318/v1/logs\""));
        for bad in ["127.0.0.1:4318", "ftp://x", "http://", "http://a b"] {
            o.endpoint = bad.to_string();
            assert!(render(Tool::Claude, &o).is_err(), "{bad}");
        }
        let mut o = options(Some("a,b"), false);
        assert!(render(Tool::Claude, &o).is_err());
        o.token = Some(String::new());
        assert!(render(Tool::Claude, &o).is_err());
    }

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318"
        );
        assert_eq!(shell_quote("Bearer it's"), r"'Bearer it'\''s'");
        assert_eq!(toml_string("a\"b\\c"), r#""a\"b\\c""#);
    }
}
