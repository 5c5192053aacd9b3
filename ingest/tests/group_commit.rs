//! Group commit (`ingest/src/batch/`), end to end: real HTTP, a real PostgreSQL cluster. Requests
//! that arrive while a write is in flight share the next transaction; each is answered only once
//! that transaction committed, with its own rows' rejections, and a database outage answers the
//! whole group 503 with nothing of it stored.
//!
//! To know which requests share a transaction, each test holds agent_spans locked, so the first
//! request's write waits in flight, and lets the lane (one writer) collect the next ones; it waits
//! for the lane to hold them all (`Lane::unanswered`) before it lets go. Rows written in one
//! transaction share their `xmin`.

mod common;

use common::{TestDb, TestServer, numbered_request, post_spans, wait_until, writer_config};
use ingest::batch::Bounds;
use ingest::otlp::Limits;
use ingest::server::connections::Protocol;
use ingest::write::WriterConfig;
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);

/// One writer per signal, so that everything that arrives during a write is the next group (of up
/// to 1000 rows); and a writer that waits for a lock as long as the test needs.
async fn server(db: &TestDb) -> TestServer {
    let limits = Limits {
        batch: Bounds {
            writers: 1,
            max_rows: 1000,
            ..Bounds::DEFAULT
        },
        ..Limits::DEFAULT
    };
    let config = WriterConfig {
        statement_timeout: Duration::from_secs(120),
        lock_timeout: Duration::from_secs(60),
        ..writer_config(db)
    };
    TestServer::serve_with(limits, None, Protocol::Http1, &config).await
}

/// Holds agent_spans locked until dropped or `release`d.
struct Lock(tokio_postgres::Client);

impl Lock {
    async fn take(db: &TestDb) -> Self {
        let client = db.client().await;
        client
            .batch_execute("BEGIN; LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE")
            .await
            .expect("lock agent_spans");
        Self(client)
    }

    async fn release(self) {
        self.0.batch_execute("COMMIT").await.expect("unlock");
    }
}

/// Waits until the spans lane holds `n` requests not yet answered.
async fn wait_for_unanswered(server: &TestServer, n: usize) {
    let lane = server.intake.batches().spans.clone();
    wait_until(&format!("{n} requests in the lane"), DEADLINE, || {
        let lane = lane.clone();
        async move { lane.unanswered() == n }
    })
    .await;
}

fn post(server: &TestServer, body: String) -> tokio::task::JoinHandle<(u16, i64, String)> {
    let url = server.url("/v1/traces");
    tokio::spawn(async move { post_spans(&url, &body).await })
}

/// A first request, written and held by the lock: what comes next waits for it.
async fn hold_the_writer(
    db: &TestDb,
    server: &TestServer,
    body: String,
) -> (Lock, tokio::task::JoinHandle<(u16, i64, String)>) {
    let lock = Lock::take(db).await;
    let first = post(server, body);
    db.wait_for_lock_waiters(1).await;
    wait_for_unanswered(server, 1).await;
    (lock, first)
}

fn trace_of(first: usize) -> String {
    format!("{:032x}", 0xabc0_0000_0000u64 + first as u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_share_a_transaction_and_each_is_answered_once_committed() {
    let db = TestDb::start("group-many");
    let server = server(&db).await;
    let (lock, first) = hold_the_writer(&db, &server, numbered_request(0, 10)).await;

    const REQUESTS: usize = 40;
    let mut clients = Vec::new();
    for k in 1..=REQUESTS {
        let (url, body, trace) = (
            server.url("/v1/traces"),
            numbered_request(10 * k, 10),
            trace_of(10 * k),
        );
        let db_url = db.url();
        clients.push(tokio::spawn(async move {
            let answer = post_spans(&url, &body).await;
            // Answered: its rows must be committed already, seen from another session.
            let (client, connection) = tokio_postgres::connect(&db_url, tokio_postgres::NoTls)
                .await
                .expect("connect");
            tokio::spawn(connection);
            let stored: i64 = client
                .query_one(
                    "SELECT count(*) FROM agent_trace.agent_spans WHERE trace_id = $1::text::agent_trace.trace_id",
                    &[&trace],
                )
                .await
                .expect("count")
                .get(0);
            (answer, stored)
        }));
    }
    wait_for_unanswered(&server, REQUESTS + 1).await;
    lock.release().await;

    assert_eq!(first.await.expect("first request"), (200, 0, String::new()));
    for client in clients {
        let (answer, stored) = client.await.expect("client");
        assert_eq!(answer, (200, 0, String::new()));
        assert_eq!(
            stored, 10,
            "a request's spans are committed when it is answered"
        );
    }
    let all = (REQUESTS as i64 + 1) * 10;
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        all
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces")
            .await,
        REQUESTS as i64 + 1
    );
    // The first request's transaction, then one for the 40 that came while it was in flight.
    assert_eq!(
        db.number("SELECT count(DISTINCT xmin::text) FROM agent_trace.agent_spans")
            .await,
        2
    );
    server.stop().await;
}

fn span(trace_id: &str, span_id: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "traceId": trace_id, "spanId": span_id, "name": name, "kind": 1,
        "startTimeUnixNano": "1763769600000000000", "endTimeUnixNano": "1763769601000000000",
    })
}

fn request(spans: Vec<serde_json::Value>) -> String {
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_row_costs_only_its_own_request_in_a_group() {
    let db = TestDb::start("group-refused");
    db.execute(
        "ALTER TABLE agent_trace.agent_spans ADD CONSTRAINT no_poison CHECK (name <> 'poison')",
    )
    .await;
    let server = server(&db).await;
    let (lock, first) = hold_the_writer(&db, &server, numbered_request(0, 10)).await;

    let (poisoned_trace, clean_trace) = (
        "5b8efff798038103d269b633813fc601",
        "5b8efff798038103d269b633813fc602",
    );
    let poisoned = post(
        &server,
        request(vec![
            span(poisoned_trace, "eee19b7ec3c1b171", "fine"),
            span(poisoned_trace, "eee19b7ec3c1b172", "poison"),
            span(poisoned_trace, "eee19b7ec3c1b173", "also fine"),
        ]),
    );
    let clean = post(
        &server,
        request(vec![
            span(clean_trace, "eee19b7ec3c1b181", "one"),
            span(clean_trace, "eee19b7ec3c1b182", "two"),
            span(clean_trace, "eee19b7ec3c1b183", "three"),
        ]),
    );
    // A client's retry of the first request: already stored, not a rejection.
    let retry = post(&server, numbered_request(0, 10));
    wait_for_unanswered(&server, 4).await;
    lock.release().await;

    assert_eq!(first.await.expect("first"), (200, 0, String::new()));
    let (status, rejected, why) = poisoned.await.expect("poisoned");
    assert_eq!((status, rejected), (200, 1), "{why}");
    assert!(
        why.contains("eee19b7ec3c1b172") && why.contains("no_poison"),
        "{why}"
    );
    assert_eq!(clean.await.expect("clean"), (200, 0, String::new()));
    assert_eq!(retry.await.expect("retry"), (200, 0, String::new()));

    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        15
    );
    // The poisoned request's and the clean one's stored spans: one transaction (created_at is its
    // start; xmin differs, each part of the careful way being a subtransaction).
    assert_eq!(
        db.number(&format!(
            "SELECT count(DISTINCT created_at) FROM agent_trace.agent_spans \
             WHERE trace_id IN ('{poisoned_trace}', '{clean_trace}')"
        ))
        .await,
        1
    );
    server.stop().await;
}

/// Holds the rows of these traces in agent_traces locked (FOR UPDATE) until `release`d: a write
/// with spans of one of them waits in agent_spans' trigger, its other rows already copied.
async fn lock_traces(db: &TestDb, traces: &[&str]) -> Lock {
    let client = db.client().await;
    let ids = traces
        .iter()
        .map(|trace| format!("'{trace}'"))
        .collect::<Vec<_>>()
        .join(", ");
    client
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM agent_trace.agent_traces WHERE trace_id IN ({ids}) FOR UPDATE"
        ))
        .await
        .expect("lock the traces");
    Lock(client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outage_answers_the_whole_group_503_with_nothing_stored() {
    let db = TestDb::start("group-outage");
    let server = server(&db).await;
    // Two traces stored before; each held locked by a session of its own.
    let (held, blocked) = (trace_of(1000), trace_of(2000));
    for first in [1000, 2000] {
        let (status, _, _) =
            post_spans(&server.url("/v1/traces"), &numbered_request(first, 1)).await;
        assert_eq!(status, 200);
    }
    let lock_held = lock_traces(&db, &[&held]).await;
    let lock_blocked = lock_traces(&db, &[&blocked]).await;
    // The first write waits for the first lock; three requests come meanwhile, one of them with a
    // span of the second trace.
    let first = post(&server, numbered_request(1000, 5));
    db.wait_for_lock_waiters(1).await;
    wait_for_unanswered(&server, 1).await;
    let group = vec![
        post(&server, numbered_request(10, 10)),
        post(&server, numbered_request(2000, 5)),
        post(&server, numbered_request(30, 10)),
    ];
    wait_for_unanswered(&server, 4).await;
    lock_held.release().await;
    assert_eq!(first.await.expect("first"), (200, 0, String::new()));
    // The three are written together and wait for the second lock, all their rows copied.
    db.wait_for_lock_waiters(1).await;
    wait_for_unanswered(&server, 3).await;
    assert_eq!(
        db.number(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE wait_event_type = 'Lock'"
        )
        .await,
        1
    );
    for request in group {
        let (status, _, why) = request.await.expect("grouped request");
        assert_eq!(status, 503, "{why}");
    }
    lock_blocked.release().await;
    // The two traces as before, and the first's spans; nothing of the group.
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        2 + 4
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces")
            .await,
        2
    );

    // The clients' retries are stored.
    for first in [10, 2000, 30] {
        let url = server.url("/v1/traces");
        wait_until("a retry stored", DEADLINE, || {
            let (url, body) = (
                url.clone(),
                numbered_request(first, if first == 2000 { 5 } else { 10 }),
            );
            async move { post_spans(&url, &body).await == (200, 0, String::new()) }
        })
        .await;
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        2 + 4 + 10 + 4 + 10
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_beyond_the_bounds_is_written_alone_and_holds_no_one() {
    let db = TestDb::start("group-alone");
    let limits = Limits {
        batch: Bounds {
            writers: 1,
            max_rows: 100,
            ..Bounds::DEFAULT
        },
        ..Limits::DEFAULT
    };
    let config = WriterConfig {
        statement_timeout: Duration::from_secs(120),
        lock_timeout: Duration::from_secs(60),
        ..writer_config(&db)
    };
    let server = TestServer::serve_with(limits, None, Protocol::Http1, &config).await;
    let slow_trace = trace_of(1000);
    let (status, _, _) = post_spans(&server.url("/v1/traces"), &numbered_request(1000, 1)).await;
    assert_eq!(status, 200);
    // A request of 500 spans (beyond 100 rows), one trace held locked: it waits, alone.
    let lock = lock_traces(&db, &[&slow_trace]).await;
    let slow = post(&server, numbered_request(1000, 500));
    db.wait_for_lock_waiters(1).await;
    // Small requests meanwhile are written, in groups, and answered while it still waits.
    for k in 0..5 {
        let small: Vec<_> = (0..4)
            .map(|j| post(&server, numbered_request(10 * (4 * k + j), 10)))
            .collect();
        for request in small {
            let answer = tokio::time::timeout(DEADLINE, request)
                .await
                .expect("a small request is not held behind the large one");
            assert_eq!(answer.expect("small"), (200, 0, String::new()));
        }
    }
    assert!(!slow.is_finished(), "the large request waits for its lock");
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        1 + 200
    );
    lock.release().await;
    assert_eq!(slow.await.expect("slow"), (200, 0, String::new()));
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        500 + 200
    );
    server.stop().await;
}
