//! `agent-trace setup claude|gemini|codex|agno`, run as a user runs it: the printed settings use
//! exactly the names each tool documents, the JSON and TOML blocks parse, and --endpoint, --token and
//! --log-prompts land in them. (ingest/tests/agno.rs also runs the Python `setup agno` prints in a
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
