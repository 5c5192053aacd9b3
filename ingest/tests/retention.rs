//! Data that can leave (docs/retention.md), end to end on every captured request: the server makes
//! today's partitions before it serves, and erasing a Claude Code session or a user leaves nothing
//! of them in any table or view, while everything else stays.

mod common;

use common::{ServeProcess, TestDb, everything_stored, replay_every_fixture};

async fn text(db: &TestDb, sql: &str) -> String {
    let client = db.client().await;
    let row = client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    row.get::<_, String>(0)
}

/// agent_trace.erase(...) as the owner: rows removed per table, as "table=n" in table order.
async fn erase(db: &TestDb, arguments: &str) -> String {
    text(
        db,
        &format!(
            "SELECT string_agg(table_name || '=' || rows_removed, ' ' ORDER BY table_name)
               FROM agent_trace.erase({arguments})"
        ),
    )
    .await
}

/// erase(`argument` => `value`), then no row of any table or view holds `value` anywhere.
async fn erase_and_find_nothing(db: &TestDb, argument: &str, value: &str) {
    let removed = erase(db, &format!("{argument} => '{value}'")).await;
    let left: Vec<String> = everything_stored(db)
        .await
        .lines()
        .filter(|line| line.contains(value))
        .take(3)
        .map(String::from)
        .collect();
    assert!(
        left.is_empty(),
        "{argument} {value} is still stored (erase removed {removed}):\n{}",
        left.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_makes_todays_partitions_before_it_serves() {
    let db = TestDb::start("retention_partitions");
    let mut server = ServeProcess::serve(&db, &[]);
    // The first maintenance runs before the ports open: once they are, today's partitions exist.
    server.wait_for_log("serving OTLP/HTTP", std::time::Duration::from_secs(30));
    let today = text(
        &db,
        "SELECT string_agg(partition_name, ' ' ORDER BY partition_name) FROM agent_trace.agent_partitions
          WHERE from_time <= now() AND now() < to_time",
    )
    .await;
    let day = text(&db, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD')").await;
    assert_eq!(
        today,
        format!(
            "agent_logs_p{day} agent_metrics_p{day} agent_span_costs_p{day} agent_spans_p{day}"
        )
    );
    assert!(
        server
            .log()
            .contains(&format!("maintenance: partition agent_spans_p{day}")),
        "{}",
        server.log()
    );
    // A span of today goes into today's partition, not the default one.
    replay_every_fixture(&server).await;
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace_partitions.agent_spans_default WHERE start_time >= now() - interval '1 day'")
            .await,
        0
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn erasing_a_session_or_a_user_leaves_nothing_of_them() {
    let db = TestDb::start("retention_erase");
    let server = ServeProcess::serve(&db, &[]);
    replay_every_fixture(&server).await;

    // A Claude Code session: its log events, metric points and (Claude Code's beta) spans.
    let session = text(
        &db,
        "SELECT min(session_id) FROM agent_trace.agent_logs WHERE service_name = 'claude-code'",
    )
    .await;
    let before = everything_stored(&db).await;
    assert!(
        before.matches(&session).count() >= 10,
        "the captured Claude Code run is stored under session {session}"
    );
    let others = db
        .number("SELECT count(*) FROM agent_trace.agent_spans")
        .await;
    // Scores of the session's runs, whose explanation names it: erase must take them too.
    assert!(
        db.number(&format!(
            "SELECT count(agent_trace.add_score(t.trace_id, 'quality', 1, explanation => 'judged in ' || t.session_id))
               FROM agent_trace.agent_traces AS t WHERE t.session_id = '{session}'"
        ))
        .await
            > 0,
        "the session {session} has traces to score"
    );

    erase_and_find_nothing(&db, "session_id", &session).await;
    assert!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await
            > 0
            && others > 0,
        "the other clients' spans stay"
    );

    // A user: every span, record and point naming them, in any session.
    let user = text(
        &db,
        "SELECT min(user_id) FROM agent_trace.agent_logs WHERE user_id IS NOT NULL",
    )
    .await;
    assert!(everything_stored(&db).await.contains(&user), "user {user}");
    erase_and_find_nothing(&db, "user_id", &user).await;
    // What erase said it removed is gone, and the summaries are exact for what stays.
    assert_eq!(
        db.number(
            "SELECT count(*) FROM agent_trace.agent_traces AS t
              WHERE span_count <> (SELECT count(*) FROM agent_trace.agent_spans AS s
                                    WHERE s.trace_id = t.trace_id AND s.project_id = t.project_id)"
        )
        .await,
        0
    );
    assert_eq!(
        erase(&db, &format!("session_id => '{session}'")).await,
        "agent_logs=0 agent_metrics=0 agent_scores=0 agent_scores_pending=0 agent_span_costs=0 agent_spans=0 agent_traces=0"
    );
    server.terminate();
}
