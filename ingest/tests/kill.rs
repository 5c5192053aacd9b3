//! `kill -9` under load: clients send numbered spans while the server process is killed with
//! SIGKILL mid-stream, twice, and started again; like OTLP clients they retry what was not
//! acknowledged. At each kill, every request acknowledged so far is in the database; at the end
//! every span is stored exactly once and the trace rows count each once.

mod common;

use common::{ServeProcess, TestDb, numbered_request};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const CLIENTS: usize = 4;
const REQUESTS_PER_CLIENT: usize = 50;
const SPANS_PER_REQUEST: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_span_survives_kill_9_and_is_stored_once() {
    let db = TestDb::start("kill9");
    let mut server = ServeProcess::serve(&db, &[]);
    // Each start binds a port of its own: clients read where the server is now at every try.
    let url = Arc::new(std::sync::RwLock::new(server.url("/v1/traces")));
    let acknowledged = Arc::new(Mutex::new(BTreeSet::<usize>::new()));

    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let (url, acknowledged) = (url.clone(), acknowledged.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..REQUESTS_PER_CLIENT {
                let number = client * REQUESTS_PER_CLIENT + i;
                let body = numbered_request(number * SPANS_PER_REQUEST, SPANS_PER_REQUEST);
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let target = url.read().expect("the url").clone();
                    let sent = http
                        .post(target)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    // A refused or cut connection (the server is down) and 429/503 are retried.
                    if sent.is_ok_and(|response| response.status() == 200) {
                        break;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "request {number} never acknowledged"
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                acknowledged.lock().await.insert(number);
            }
        }));
    }

    let total = CLIENTS * REQUESTS_PER_CLIENT;
    for kill in 1..=2 {
        while acknowledged.lock().await.len() < total * kill / 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        server.child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        server.child.wait().expect("reaped");
        let acked: Vec<usize> = acknowledged.lock().await.iter().copied().collect();
        for number in &acked {
            let first = number * SPANS_PER_REQUEST;
            let stored = db
                .number(&format!(
                    "SELECT count(*) FROM agent_trace.agent_spans WHERE name = 'span {first}'"
                ))
                .await;
            assert_eq!(
                stored, 1,
                "request {number} was acknowledged before kill {kill}"
            );
        }
        eprintln!(
            "kill {kill}: {} requests acknowledged, all stored",
            acked.len()
        );
        server = ServeProcess::serve(&db, &[]);
        *url.write().expect("the url") = server.url("/v1/traces");
    }
    for client in clients {
        client.await.expect("client finished");
    }
    drop(server);

    let spans = (total * SPANS_PER_REQUEST) as i64;
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        spans
    );
    assert_eq!(
        db.number("SELECT count(DISTINCT (trace_id, span_id)) FROM agent_trace.agent_spans")
            .await,
        spans
    );
    assert_eq!(
        db.number("SELECT sum(span_count)::bigint FROM agent_trace.agent_traces")
            .await,
        spans
    );
    assert_eq!(
        db.number("SELECT sum(input_tokens)::bigint FROM agent_trace.agent_traces")
            .await,
        spans * 42
    );
}
