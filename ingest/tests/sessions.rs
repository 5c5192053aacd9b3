//! agent_sessions on what the tools really sent: every captured request (traces, logs, metrics)
//! is posted to the real server, then the per-session numbers must equal what each tool reported.
//! Expected values were decoded from the fixtures independently of the ingest (each canned model
//! call is 42 input and 17 output tokens; Claude Code's api_request events carry `cost_usd`), and
//! computed costs from the shipped price snapshot's per-token prices.

mod common;

use common::{TestDb, TestServer, post_fixture};
use ingest::fixtures;
use ingest::otlp::Limits;

#[derive(Debug)]
struct Session {
    tool: String,
    prompts: i64,
    model_calls: i64,
    input_tokens: i64,
    output_tokens: i64,
    cost_usd: Option<String>,
    computed_cost_usd: Option<String>,
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_match_what_each_tool_reported() {
    let db = TestDb::start("sessions");
    // No price import: CREATE EXTENSION's built-in prices give calls that report no cost a computed one.
    let client = db.client().await;

    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let http = reqwest::Client::new();
    // Twice: a re-sent request must not count again.
    for _ in 0..2 {
        for signal in ["traces", "logs", "metrics"] {
            for fixture in fixtures::load(signal) {
                let status = post_fixture(&http, &server, &fixture).await.status();
                assert_eq!(status, 200, "{}", fixture.name);
            }
        }
    }
    server.stop().await;

    let sessions: Vec<Session> = client
        .query(
            "SELECT tool, prompts::int8, model_calls::int8, input_tokens::int8, output_tokens::int8,
                    cost_usd::text, computed_cost_usd::text
               FROM agent_trace.agent_sessions
              WHERE tool IN ('Claude Code', 'Gemini CLI', 'Codex')
              ORDER BY tool, session_id",
            &[],
        )
        .await
        .expect("query agent_sessions")
        .iter()
        .map(|r| Session {
            tool: r.get(0),
            prompts: r.get(1),
            model_calls: r.get(2),
            input_tokens: r.get(3),
            output_tokens: r.get(4),
            cost_usd: r.get(5),
            computed_cost_usd: r.get(6),
        })
        .collect();
    let of = |tool: &str| {
        sessions
            .iter()
            .filter(|s| s.tool == tool)
            .collect::<Vec<_>>()
    };

    // Claude Code: three `claude -p` runs, one session each, two model calls per run.
    let claude = of("Claude Code");
    assert_eq!(claude.len(), 3, "{sessions:?}");
    for session in &claude {
        assert_eq!(
            (
                session.prompts,
                session.model_calls,
                session.input_tokens,
                session.output_tokens
            ),
            (1, 2, 84, 34),
            "{session:?}"
        );
        // The sum of the two api_request events' cost_usd, as Claude Code reported them.
        assert_eq!(session.cost_usd.as_deref(), Some("0.00076200000000000010"));
        assert_eq!(
            session.computed_cost_usd, None,
            "a reported cost leaves nothing to compute"
        );
    }
    // Gemini CLI (gemini-2.5-pro) and Codex (gpt-5-codex): one call each, no reported cost. Both
    // models cost $1.25 per million input and $10 per million output tokens in the snapshot:
    // 42 x 1.25e-6 + 17 x 10e-6 = 0.0002225.
    for tool in ["Gemini CLI", "Codex"] {
        let list = of(tool);
        assert_eq!(list.len(), 1, "{tool}: {sessions:?}");
        let session = list[0];
        assert_eq!(
            (
                session.model_calls,
                session.input_tokens,
                session.output_tokens
            ),
            (1, 42, 17),
            "{session:?}"
        );
        assert_eq!(session.cost_usd, None, "{session:?}");
        let computed: f64 = session
            .computed_cost_usd
            .as_deref()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{tool} has a computed cost: {session:?}"));
        assert!((computed - 0.0002225).abs() < 1e-12, "{session:?}");
    }
}
