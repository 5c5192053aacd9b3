//! Exactly-once under faults, the way the OpenTelemetry Collector's testbed checks receivers: send
//! numbered spans while PostgreSQL is stopped and restarted and its connections are cut, retry like
//! an OTLP client (on 429/503 only), then assert that every span is stored exactly once and that
//! nothing but 200, 429 and 503 was ever answered.

mod common;

use common::{TestDb, TestServer};
use ingest::decode;
use ingest::otlp::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const WORKERS: usize = 3;
const REQUESTS_PER_WORKER: usize = 60;
const SPANS_PER_REQUEST: usize = 20;

fn request(first: usize) -> String {
    common::numbered_request(first, SPANS_PER_REQUEST)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_span_is_stored_exactly_once_through_restarts_and_cut_connections() {
    let db = Arc::new(TestDb::start("faults"));
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let url = server.url("/v1/traces");
    let statuses = Arc::new(Mutex::new(BTreeMap::<u16, usize>::new()));
    let acknowledged = Arc::new(AtomicUsize::new(0));

    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (url, statuses, acknowledged) = (url.clone(), statuses.clone(), acknowledged.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..REQUESTS_PER_WORKER {
                let body = request((worker * REQUESTS_PER_WORKER + i) * SPANS_PER_REQUEST);
                let deadline = Instant::now() + Duration::from_secs(60);
                loop {
                    let status = match client
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                    {
                        Ok(response) => response.status().as_u16(),
                        Err(error) => panic!("transport error (the server must answer): {error}"),
                    };
                    *statuses.lock().await.entry(status).or_default() += 1;
                    match status {
                        200 => break,
                        429 | 503 => {
                            assert!(Instant::now() < deadline, "still {status} after 60 s");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        other => panic!(
                            "non-retryable status {other}: a real client would drop these spans"
                        ),
                    }
                }
                acknowledged.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }

    let wait_for_acks = |n: usize| {
        let acknowledged = acknowledged.clone();
        async move {
            while acknowledged.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let total_requests = WORKERS * REQUESTS_PER_WORKER;

    // Fault 1: PostgreSQL stops (fast shutdown: open transactions are cut) and comes back.
    wait_for_acks(total_requests / 4).await;
    let stopping = db.clone();
    tokio::task::spawn_blocking(move || stopping.cluster.down())
        .await
        .unwrap()
        .expect("stop postgres");
    // Down until clients have been told so (503) a few times.
    let refused_before = statuses.lock().await.get(&503).copied().unwrap_or(0);
    common::wait_until(
        "503s while PostgreSQL is down",
        Duration::from_secs(30),
        || async { statuses.lock().await.get(&503).copied().unwrap_or(0) >= refused_before + 3 },
    )
    .await;
    let starting = db.clone();
    tokio::task::spawn_blocking(move || starting.cluster.up())
        .await
        .unwrap()
        .expect("start postgres");

    // Fault 2: every ingest connection is cut, twice, while requests keep coming.
    for quarter in [2, 3] {
        wait_for_acks(total_requests * quarter / 4).await;
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
        )
        .await;
    }

    for worker in workers {
        worker.await.expect("worker finished");
    }
    server.stop().await;

    let statuses = statuses.lock().await.clone();
    let total_spans = (total_requests * SPANS_PER_REQUEST) as i64;
    assert!(
        statuses
            .keys()
            .all(|status| [200, 429, 503].contains(status)),
        "statuses seen: {statuses:?}"
    );
    assert!(
        statuses.get(&503).copied().unwrap_or(0) > 0,
        "the outage was never observed: {statuses:?}"
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        total_spans,
        "{statuses:?}"
    );
    assert_eq!(
        db.number("SELECT count(DISTINCT (trace_id, span_id)) FROM agent_trace.agent_spans")
            .await,
        total_spans
    );
    // The trace rows agree: every span counted once, tokens not double counted by retries.
    assert_eq!(
        db.number("SELECT sum(span_count)::bigint FROM agent_trace.agent_traces")
            .await,
        total_spans
    );
    assert_eq!(
        db.number("SELECT sum(input_tokens)::bigint FROM agent_trace.agent_traces")
            .await,
        total_spans * 42
    );
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_traces")
            .await,
        total_requests as i64
    );
    eprintln!("statuses seen: {statuses:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_database_is_answered_503_not_a_hang() {
    let db = TestDb::start("locked");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();
    let url = server.url("/v1/traces");
    let send = || {
        client
            .post(&url)
            .header("content-type", "application/json")
            .body(request(0))
            .send()
    };

    // Another session holds agent_spans locked for longer than the ingest's statement timeout (2 s).
    let locker = db.client().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let response = send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    locker.batch_execute("COMMIT").await.unwrap();

    // Once the lock is gone, the request is stored. The server's own maintain() may have queued
    // behind the lock and now hold agent_spans briefly (making tomorrow's partitions): a 503 then is
    // the right answer, and a client retries it, as this one does until a deadline.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let response = send().await.unwrap();
        let status = response.status();
        if status == 200 {
            break;
        }
        let body = response.text().await.unwrap_or_default();
        assert!(
            status == 503 && Instant::now() < deadline,
            "after the lock was released: {status} {body}"
        );
        eprintln!("after the lock was released: {status} {body}; retrying");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        SPANS_PER_REQUEST as i64
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_finishes_requests_in_flight_and_every_acknowledged_span_is_stored() {
    let db = TestDb::start("shutdown");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let url = server.url("/v1/traces");
    let acknowledged = Arc::new(AtomicUsize::new(0));

    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (url, acknowledged) = (url.clone(), acknowledged.clone());
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..REQUESTS_PER_WORKER {
                let body = request((worker * REQUESTS_PER_WORKER + i) * SPANS_PER_REQUEST);
                match client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.fetch_add(SPANS_PER_REQUEST, Ordering::SeqCst);
                    }
                    Ok(response) => {
                        panic!("status {} before shutdown completed", response.status())
                    }
                    // The server stopped accepting: this request was never acknowledged.
                    Err(_) => return,
                }
            }
        }));
    }
    while acknowledged.load(Ordering::SeqCst)
        < WORKERS * REQUESTS_PER_WORKER * SPANS_PER_REQUEST / 3
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.stop().await;
    for worker in workers {
        worker.await.expect("worker");
    }
    let acknowledged = acknowledged.load(Ordering::SeqCst) as i64;
    assert!(acknowledged > 0);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        acknowledged
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn too_many_bytes_in_flight_is_answered_429_with_retry_after() {
    let db = TestDb::start("inflight");
    let body = request(0);
    // Room for one request in flight, not two. A request holds its body (a buffer at most twice
    // its size while it arrives) and an upper bound of its decoded size and its rows.
    let decoded = decode::decoded_size_bound::<ExportTraceServiceRequest>(
        decode::Encoding::Json,
        body.as_bytes(),
    );
    let (least, most) = (body.len() + 2 * decoded, 2 * body.len() + 2 * decoded);
    let limits = Limits {
        max_decompressed_bytes: body.len() * 3 / 2,
        max_inflight_bytes: most + least / 2,
        ..Limits::DEFAULT
    };
    let server = TestServer::start(&db, limits, None).await;
    let url = server.url("/v1/traces");

    // The first request is held in the database by a lock, keeping its bytes in flight.
    let locker = db.client().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let first = {
        let (url, body) = (url.clone(), body.clone());
        tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
        })
    };
    // The first request is in flight once its COPY waits for the lock.
    db.wait_for_lock_waiters(1).await;
    let second = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .body(request(SPANS_PER_REQUEST))
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(first.await.unwrap().unwrap().status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        SPANS_PER_REQUEST as i64
    );
    server.stop().await;
}
