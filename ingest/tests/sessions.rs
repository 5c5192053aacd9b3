//! agent_sessions on what the tools really sent: every captured request (traces, logs, metrics)
//! is posted to the real server, then the per-session numbers must equal what each tool reported.
//! Expected values were decoded from the fixtures independently of the ingest (each canned model
//! call is 42 input and 17 output tokens; Claude Code's api_request events carry `cost_usd`).

mod common;

use common::{DEFAULT_LIMITS, TestDb, TestServer, post_fixture};
use ingest::fixtures;

#[tokio::test(flavor = "multi_thread")]
async fn sessions_match_what_each_tool_reported() {
    let db = TestDb::start("sessions");
    let server = TestServer::start(&db, DEFAULT_LIMITS, None).await;
    let client = reqwest::Client::new();
    // Twice: a re-sent request must not count again.
    for _ in 0..2 {
        for signal in ["traces", "logs", "metrics"] {
            for fixture in fixtures::load(signal) {
                let status = post_fixture(&client, &server, &fixture).await.status();
                assert_eq!(status, 200, "{}", fixture.name);
            }
        }
    }
    server.stop().await;

    let rows = db
        .client()
        .await
        .query(
            "SELECT tool, session_id, prompts::int8, model_calls::int8, input_tokens::int8,
                    output_tokens::int8, cost_usd::text, (computed_cost_usd IS NOT NULL) AS computed
               FROM agent_trace.agent_sessions
              WHERE tool IN ('Claude Code', 'Gemini CLI', 'Codex')
              ORDER BY tool, session_id",
            &[],
        )
        .await
        .expect("query agent_sessions");
    let sessions: Vec<(String, String, i64, i64, i64, i64, Option<String>, bool)> = rows
        .iter()
        .map(|r| {
            (
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                r.get(7),
            )
        })
        .collect();
    for session in &sessions {
        println!("{session:?}");
    }
    let of = |tool: &str| sessions.iter().filter(|s| s.0 == tool).collect::<Vec<_>>();

    // Claude Code: three `claude -p` runs, one session each, two model calls per run.
    let claude = of("Claude Code");
    assert_eq!(claude.len(), 3);
    for session in &claude {
        assert_eq!((session.2, session.3, session.4, session.5), (1, 2, 84, 34));
        // The sum of the two api_request events' cost_usd, as Claude Code reported them.
        assert_eq!(session.6.as_deref(), Some("0.00076200000000000010"));
        assert!(!session.7, "a reported cost leaves nothing to compute");
    }
    // Gemini CLI and Codex: one session, one model call, no reported cost.
    for tool in ["Gemini CLI", "Codex"] {
        let list = of(tool);
        assert_eq!(list.len(), 1, "{tool}");
        assert_eq!((list[0].3, list[0].4, list[0].5), (1, 42, 17), "{tool}");
        assert_eq!(list[0].6, None, "{tool}");
    }
}
