//! `agent-trace setup claude|gemini|codex|agno`, run as a user runs it: the printed settings use
//! exactly the names each tool documents, the JSON and TOML blocks parse, and --endpoint, --token and
//! --log-prompts land in them; the coding assistants are also told how to add agent-trace's MCP
//! server, in each one's documented syntax. (ingest/tests/agno.rs also runs the Python `setup agno` prints in a
//! real AgentOS app.)
//!
//! The documented names are written out here, from each tool's documentation, not taken from the
//! code under test: a name misspelled there fails here.

use std::collections::BTreeMap;
use std::process::Command;

/// Claude Code's telemetry variables, in the order `setup claude` prints them, as documented at
/// <https://code.claude.com/docs/en/monitoring-usage>: "Quick start" and "Common configuration
/// variables" (`CLAUDE_CODE_ENABLE_TELEMETRY`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`,
/// `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_LOGS_EXPORT_INTERVAL`, `OTEL_LOG_USER_PROMPTS`) and
/// "Traces (beta)" (`CLAUDE_CODE_ENHANCED_TELEMETRY_BETA`, `OTEL_TRACES_EXPORTER`,
/// `OTEL_TRACES_EXPORT_INTERVAL`).
const CLAUDE_CODE_DOCUMENTED: &[&str] = &[
    "CLAUDE_CODE_ENABLE_TELEMETRY",
    "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_METRIC_EXPORT_INTERVAL",
    "OTEL_LOGS_EXPORT_INTERVAL",
    "OTEL_TRACES_EXPORT_INTERVAL",
    "OTEL_LOG_USER_PROMPTS",
];

/// The keys of Gemini CLI's `"telemetry"` settings object, as documented in the Configuration
/// table of <https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/telemetry.md>
/// (`telemetry.enabled`, `.target`, `.otlpEndpoint`, `.otlpProtocol`, `.logPrompts`), sorted.
const GEMINI_DOCUMENTED: &[&str] = &[
    "enabled",
    "logPrompts",
    "otlpEndpoint",
    "otlpProtocol",
    "target",
];

/// The keys of Codex's `[otel]` table, as documented at
/// <https://github.com/openai/codex/blob/main/docs/config.md#otel> (`exporter`, `log_user_prompt`)
/// and in codex-rs/otel's settings (`trace_exporter`, `metrics_exporter`), sorted.
const CODEX_DOCUMENTED: &[&str] = &[
    "exporter",
    "log_user_prompt",
    "metrics_exporter",
    "trace_exporter",
];

fn setup(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .arg("setup")
        .args(args)
        .env_remove("AGENT_TRACE_TOKEN")
        .output()
        .expect("run agent-trace setup");
    assert!(
        output.status.success(),
        "setup {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8")
}

/// The lines from the first that starts with `{` to the next that is `}`: the JSON block.
fn json_block(text: &str) -> serde_json::Value {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with('{'))
        .expect("a JSON block");
    let end = start
        + lines[start..]
            .iter()
            .position(|l| *l == "}")
            .expect("its end");
    serde_json::from_str(&lines[start..=end].join("\n")).expect("valid JSON")
}

/// `export NAME=VALUE` lines, with the shell's single quotes removed.
fn exports(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .map(|l| {
            let (name, value) = l.split_once('=').expect("NAME=VALUE");
            let value = value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(value);
            (name.to_string(), value.replace(r"'\''", "'"))
        })
        .collect()
}

#[test]
fn claude_code_gets_its_documented_environment_variables() {
    let text = setup(&[
        "claude",
        "--endpoint",
        "http://10.1.2.3:4318/",
        "--token",
        "tok-123",
        "--log-prompts",
    ]);
    let vars = exports(&text);
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, CLAUDE_CODE_DOCUMENTED);
    let vars: BTreeMap<String, String> = vars.into_iter().collect();
    let expected = [
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1"),
        ("CLAUDE_CODE_ENHANCED_TELEMETRY_BETA", "1"),
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_LOGS_EXPORTER", "otlp"),
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://10.1.2.3:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer tok-123"),
        ("OTEL_LOG_USER_PROMPTS", "1"),
    ];
    for (name, value) in expected {
        assert_eq!(vars[name], value, "{name}");
    }
    // The same variables as a settings.json "env" object.
    let settings = json_block(&text);
    let env = settings["env"].as_object().expect("env object");
    assert_eq!(env.len(), CLAUDE_CODE_DOCUMENTED.len());
    for (name, value) in &vars {
        assert_eq!(env[name.as_str()], serde_json::json!(value), "{name}");
    }

    // Defaults: the local endpoint, no token header, prompts redacted.
    let text = setup(&["claude"]);
    let vars: BTreeMap<String, String> = exports(&text).into_iter().collect();
    assert_eq!(vars["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4318");
    assert_eq!(vars["OTEL_LOG_USER_PROMPTS"], "0");
    assert!(!vars.contains_key("OTEL_EXPORTER_OTLP_HEADERS"));
}

#[test]
fn gemini_cli_gets_a_telemetry_settings_block() {
    let text = setup(&[
        "gemini",
        "--endpoint",
        "https://traces.example.com",
        "--log-prompts",
    ]);
    let settings = json_block(&text);
    let telemetry = settings["telemetry"].as_object().expect("telemetry object");
    let keys: Vec<&str> = telemetry.keys().map(String::as_str).collect();
    assert_eq!(keys, GEMINI_DOCUMENTED);
    assert_eq!(
        settings,
        serde_json::json!({"telemetry": {
            "enabled": true,
            "target": "local",
            "otlpEndpoint": "https://traces.example.com",
            "otlpProtocol": "http",
            "logPrompts": true
        }})
    );
    assert!(exports(&text).is_empty(), "no token, no header: {text}");

    let text = setup(&["gemini", "--token", "it's"]);
    assert_eq!(json_block(&text)["telemetry"]["logPrompts"], false);
    assert_eq!(
        exports(&text),
        [(
            "OTEL_EXPORTER_OTLP_HEADERS".to_string(),
            "Authorization=Bearer it's".to_string()
        )]
    );
}

#[test]
fn codex_gets_an_otel_table() {
    let text = setup(&[
        "codex",
        "--endpoint",
        "http://127.0.0.1:9999",
        "--token",
        "t\"k",
    ]);
    let toml_text: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let config: toml::Table = toml::from_str(&toml_text).expect("valid TOML");
    let otel = config["otel"].as_table().expect("[otel] table");
    let keys: Vec<&str> = otel.keys().map(String::as_str).collect();
    assert_eq!(keys, CODEX_DOCUMENTED);
    assert_eq!(otel["log_user_prompt"].as_bool(), Some(false));
    for (key, signal) in [
        ("exporter", "logs"),
        ("trace_exporter", "traces"),
        ("metrics_exporter", "metrics"),
    ] {
        let http = &otel[key]["otlp-http"];
        assert_eq!(
            http["endpoint"].as_str(),
            Some(format!("http://127.0.0.1:9999/v1/{signal}").as_str()),
            "{key}"
        );
        assert_eq!(http["protocol"].as_str(), Some("binary"), "{key}");
        assert_eq!(
            http["headers"]["Authorization"].as_str(),
            Some("Bearer t\"k"),
            "{key}"
        );
    }

    let text = setup(&["codex", "--log-prompts"]);
    let config: toml::Table = toml::from_str(
        &text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .expect("valid TOML");
    assert_eq!(config["otel"]["log_user_prompt"].as_bool(), Some(true));
    assert!(
        config["otel"]["exporter"]["otlp-http"]
            .get("headers")
            .is_none()
    );
    assert_eq!(
        config["otel"]["exporter"]["otlp-http"]["endpoint"].as_str(),
        Some("http://127.0.0.1:4318/v1/logs")
    );
}

/// How Claude Code and Gemini CLI register a remote MCP server over Streamable HTTP, with a header:
/// `claude mcp add --transport http NAME URL --header "NAME: VALUE"`
/// (<https://code.claude.com/docs/en/mcp>, "Option 1: Add a remote HTTP server") and the same words
/// for `gemini mcp add` (<https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md>).
const MCP_ADD_DOCUMENTED: &[&str] = &["mcp", "add", "--transport", "http"];

/// The keys of a Codex `[mcp_servers.NAME]` table for a Streamable HTTP server with static headers
/// (<https://developers.openai.com/codex/mcp>, "Streamable HTTP servers": `url`, `http_headers`).
const CODEX_MCP_DOCUMENTED: &[&str] = &["http_headers", "url"];

/// A shell line's words, as POSIX sh splits it (single quotes and backslashes, as `setup` quotes).
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut any) = (false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if !quoted => {
                word.extend(chars.next());
                any = true;
            }
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

/// The line that starts with `TOOL mcp add`, as words.
fn mcp_add(text: &str, tool: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with(&format!("{tool} mcp add")))
        .collect();
    assert_eq!(lines.len(), 1, "one `{tool} mcp add` line in:\n{text}");
    words(lines[0])
}

#[test]
fn claude_code_and_gemini_cli_are_told_how_to_add_the_mcp_server() {
    for tool in ["claude", "gemini"] {
        let text = setup(&[
            tool,
            "--endpoint",
            "http://10.1.2.3:4318/",
            "--token",
            "it's-tok",
        ]);
        let line = mcp_add(&text, tool);
        assert_eq!(line[0], tool);
        assert_eq!(&line[1..5], MCP_ADD_DOCUMENTED, "{line:?}");
        assert_eq!(
            &line[5..],
            [
                "agent-trace",
                "http://10.1.2.3:4318/mcp",
                "--header",
                "Authorization: Bearer it's-tok"
            ],
            "{line:?}"
        );
        // Without a token, no header.
        let line = mcp_add(&setup(&[tool]), tool);
        assert_eq!(
            &line[5..],
            ["agent-trace", "http://127.0.0.1:4318/mcp"],
            "{line:?}"
        );
    }
}

#[test]
fn codex_is_given_an_mcp_servers_table() {
    let parse = |text: &str| -> toml::Table {
        toml::from_str(
            &text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .expect("valid TOML")
    };
    let config = parse(&setup(&[
        "codex",
        "--endpoint",
        "https://t.example.com",
        "--token",
        "t\"k",
    ]));
    let server = config["mcp_servers"]["agent-trace"]
        .as_table()
        .expect("[mcp_servers.agent-trace]");
    let keys: Vec<&str> = server.keys().map(String::as_str).collect();
    assert_eq!(keys, CODEX_MCP_DOCUMENTED);
    assert_eq!(server["url"].as_str(), Some("https://t.example.com/mcp"));
    assert_eq!(
        server["http_headers"]["Authorization"].as_str(),
        Some("Bearer t\"k")
    );
    let config = parse(&setup(&["codex"]));
    let server = config["mcp_servers"]["agent-trace"]
        .as_table()
        .expect("table");
    assert_eq!(server.keys().collect::<Vec<_>>(), ["url"]);
    assert_eq!(server["url"].as_str(), Some("http://127.0.0.1:4318/mcp"));
}

/// The Python names `setup agno` uses, as opentelemetry-python documents them
/// (<https://opentelemetry-python.readthedocs.io/en/latest/exporter/otlp/otlp.html>, the SDK's
/// `opentelemetry.sdk.trace.export` module, and the API's `trace.get_tracer_provider`).
const AGNO_DOCUMENTED: &[&str] = &[
    "from opentelemetry import trace\n",
    "from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter\n",
    "from opentelemetry.sdk.trace.export import BatchSpanProcessor\n",
    "trace.get_tracer_provider().add_span_processor(\n",
];

#[test]
fn agno_gets_python_lines_that_add_an_otlp_exporter() {
    let text = setup(&["agno"]);
    for line in AGNO_DOCUMENTED {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }
    assert!(
        text.contains(
            "BatchSpanProcessor(OTLPSpanExporter(endpoint=\"http://127.0.0.1:4318/v1/traces\"))"
        ),
        "{text}"
    );
    assert!(!text.contains("headers"), "no token, no header: {text}");
    // The ordering pitfall is spelled out.
    assert!(
        text.contains("right after `agent_os = AgentOS(..., tracing=True)`"),
        "{text}"
    );

    let text = setup(&[
        "agno",
        "--endpoint",
        "https://t.example.com/",
        "--token",
        "to\"k",
    ]);
    assert!(
        text.contains(
            "OTLPSpanExporter(endpoint=\"https://t.example.com/v1/traces\", headers={\"Authorization\": \"Bearer to\\\"k\"})"
        ),
        "{text}"
    );
}

#[test]
fn bad_flags_are_refused() {
    for args in [
        &["claude", "--endpoint", "127.0.0.1:4318"][..],
        &["cursor"][..],
        &["codex", "--token", "a,b"][..],
        // Agno records what its instrumentation records: the flag would change nothing.
        &["agno", "--log-prompts"][..],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
            .arg("setup")
            .args(args)
            .output()
            .expect("run agent-trace setup");
        assert!(!output.status.success(), "{args:?}");
    }
}
