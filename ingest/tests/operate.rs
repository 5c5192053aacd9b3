//! What the operator sees and controls: `/health`, `/ready` and `/metrics` (which counts exactly
//! what a replay of every captured request stored), the token rules (several tokens, a token file
//! read again on SIGHUP, empty and short tokens refused, 401 before any other answer, wrong tokens
//! slowed down and logged per client address), and the log line of each request (JSON, with the
//! reason of a rejected span and the SQLSTATE of a refusal).

mod common;

use common::{
    ServeProcess, TestDb, TestGrpcServer, TestServer, grpc_call_with, post_fixture, post_json,
};
use ingest::fixtures;
use ingest::otlp::Limits;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use std::process::Command;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_agent-trace");

/// The value of one series of a Prometheus text exposition, e.g.
/// `agent_trace_items_total{signal="traces",outcome="stored"}`; 0 when absent.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |value| value.trim().parse().expect("a number"))
}

/// `agent-trace probe URL`, as a container healthcheck runs it.
fn probe(url: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["probe", url])
        .output()
        .expect("run agent-trace probe")
}

async fn get(url: &str, authorization: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread")]
async fn health_ready_and_metrics_count_what_a_replay_of_every_fixture_stored() {
    let db = TestDb::start("operate");
    let server = TestServer::start(&db, Limits::DEFAULT, None).await;
    let client = reqwest::Client::new();

    assert_eq!(
        get(&server.url("/health"), None).await,
        (200, r#"{"status":"ok"}"#.to_string())
    );
    let (status, body) = get(&server.url("/ready"), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        format!(
            r#"{{"extension":"{}","status":"ready"}}"#,
            env!("CARGO_PKG_VERSION")
        )
    );

    // The probe of container healthchecks says the same.
    let ready = probe(&server.url("/ready"));
    assert!(ready.status.success(), "{ready:?}");
    assert!(String::from_utf8_lossy(&ready.stdout).contains(r#""status":"ready""#));

    // Every captured request of every signal, twice (a client retry): stored once.
    let mut sent = std::collections::BTreeMap::new();
    for (signal, count) in [
        (
            "traces",
            (|c: fixtures::Counts| c.spans) as fn(fixtures::Counts) -> usize,
        ),
        ("logs", |c| c.log_records),
        ("metrics", |c| c.data_points),
    ] {
        let all = fixtures::load(signal);
        for fixture in &all {
            for _ in 0..2 {
                let response = post_fixture(&client, &server, fixture).await;
                assert_eq!(response.status(), 200, "{}", fixture.name);
            }
        }
        let items: usize = all.iter().map(|f| count(f.counts)).sum();
        sent.insert(signal, (all.len(), items));
    }

    let (status, text) = get(&server.url("/metrics"), None).await;
    assert_eq!(status, 200);
    for (signal, table) in [
        ("traces", "agent_spans"),
        ("logs", "agent_logs"),
        ("metrics", "agent_metrics"),
    ] {
        let (requests, items) = sent[signal];
        let series = |outcome: &str| {
            metric(
                &text,
                &format!("agent_trace_items_total{{signal=\"{signal}\",outcome=\"{outcome}\"}}"),
            ) as i64
        };
        let rows = db
            .number(&format!("SELECT count(*) FROM agent_trace.{table}"))
            .await;
        assert!(rows > 0, "{signal}");
        assert_eq!(series("stored"), rows, "{signal}: stored = rows in {table}");
        assert_eq!(
            series("stored") + series("duplicate") + series("rejected"),
            2 * items as i64,
            "{signal}: every item sent twice is counted once as stored, duplicate or rejected"
        );
        assert_eq!(
            metric(
                &text,
                &format!(
                    "agent_trace_requests_total{{transport=\"http\",signal=\"{signal}\",status=\"200\"}}"
                )
            ) as usize,
            2 * requests,
            "{signal}: requests"
        );
        let writes = metric(
            &text,
            &format!("agent_trace_write_duration_seconds_count{{signal=\"{signal}\"}}"),
        ) as usize;
        assert!(
            writes > 0 && writes <= 2 * requests,
            "{signal}: {writes} writes timed"
        );
    }
    assert_eq!(metric(&text, "agent_trace_inflight_bytes"), 0.0);
    assert_eq!(metric(&text, "agent_trace_db_connections_max"), 4.0);
    assert!(metric(&text, "agent_trace_db_connections{state=\"idle\"}") >= 1.0);
    assert_eq!(
        metric(
            &text,
            &format!(
                "agent_trace_build_info{{version=\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            )
        ),
        1.0
    );

    // PostgreSQL stopped: not ready (and why), still alive; back once it is back.
    db.cluster.down().expect("stop postgres");
    let (status, body) = get(&server.url("/ready"), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("cannot be reached"), "{body}");
    assert_eq!(get(&server.url("/health"), None).await.0, 200);
    let probe = probe(&server.url("/ready"));
    assert!(!probe.status.success());
    assert!(
        String::from_utf8_lossy(&probe.stderr).contains("503"),
        "{probe:?}"
    );
    assert!(self::probe(&server.url("/health")).status.success());
    db.cluster.up().expect("start postgres");
    let (status, body) = get(&server.url("/ready"), None).await;
    assert_eq!(status, 200, "{body}");

    // A database without the extension at this version is not ready either.
    db.execute("DROP EXTENSION agent_trace").await;
    let (status, body) = get(&server.url("/ready"), None).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("extension is not created"), "{body}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_everything_but_health_and_ready_asks_for_it_first() {
    let db = TestDb::start("operate-token");
    let server = TestServer::start(&db, Limits::DEFAULT, Some("s3cret-s3cret-s3cret")).await;
    let client = reqwest::Client::new();

    assert_eq!(get(&server.url("/health"), None).await.0, 200);
    assert_eq!(get(&server.url("/ready"), None).await.0, 200);
    assert_eq!(get(&server.url("/metrics"), None).await.0, 401);
    assert_eq!(
        get(&server.url("/metrics"), Some("Bearer wrong")).await.0,
        401
    );
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, text) = get(
            &server.url("/metrics"),
            Some(&format!("{scheme} s3cret-s3cret-s3cret")),
        )
        .await;
        assert_eq!(status, 200, "{scheme}");
        assert!(text.contains("agent_trace_build_info"), "{text}");
    }

    // 401 before anything else is said: a path not served (404), a method not allowed (405), a
    // body that is not OTLP (415).
    let answer = |method: reqwest::Method, path: &str, authorization: Option<&str>| {
        let mut request = client
            .request(method, server.url(path))
            .header("content-type", "text/plain")
            .body("not otlp");
        if let Some(authorization) = authorization {
            request = request.header("authorization", authorization);
        }
        async move { request.send().await.expect("request").status().as_u16() }
    };
    for (method, path, known) in [
        (reqwest::Method::GET, "/nope", 404),
        (reqwest::Method::PUT, "/v1/traces", 405),
        (reqwest::Method::POST, "/v1/traces", 415),
        (reqwest::Method::POST, "/v1/logs", 415),
    ] {
        assert_eq!(
            answer(method.clone(), path, None).await,
            401,
            "{method} {path}"
        );
        assert_eq!(
            answer(method.clone(), path, Some("Bearer s3cret-s3cret-s3cret")).await,
            known,
            "{method} {path}"
        );
    }
    server.stop().await;

    // gRPC: an unknown method is UNAUTHENTICATED (16) without the token, UNIMPLEMENTED (12) with it.
    let grpc = TestGrpcServer::start(&db, Some("s3cret-s3cret-s3cret")).await;
    let call = |authorization| {
        grpc_call_with(
            &grpc.endpoint,
            "/nope.Service/Nope",
            bytes::Bytes::new(),
            false,
            authorization,
        )
    };
    assert_eq!(call(None).await.0, "16");
    assert_eq!(call(Some("bearer s3cret-s3cret-s3cret")).await.0, "12");
    grpc.stop().await;
}

/// `agent-trace serve` writing as the ingest's login, with `args` (no viewer: that login may not
/// read); returns once it listens.
fn serve(db: &TestDb, args: &[&str]) -> ServeProcess {
    let writer = db.writer_url();
    let mut all = vec!["serve", "--database-url", &writer];
    all.extend_from_slice(args);
    ServeProcess::spawn(&all)
}

/// SIGTERM: it exits 0, and everything it logged.
fn stop(server: ServeProcess) -> String {
    let (status, log) = server.terminate();
    assert!(status.success(), "{status}: {log}");
    log
}

/// The status of a POST of OTLP/JSON spans to `server`.
async fn post(server: &ServeProcess, body: &str, authorization: Option<&str>) -> u16 {
    post_json(&server.url("/v1/traces"), body, authorization)
        .await
        .status
}

fn spans_json(spans: &[(&str, &str)]) -> String {
    let spans: Vec<_> = spans
        .iter()
        .map(|(trace_id, span_id)| {
            serde_json::json!({
                "traceId": trace_id, "spanId": span_id, "name": "op",
                "startTimeUnixNano": "1763769600000000000", "endTimeUnixNano": "1763769601000000000"
            })
        })
        .collect();
    serde_json::json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_rotate_through_the_token_file_on_sighup() {
    let db = TestDb::start("rotate");
    let file = std::env::temp_dir().join(format!("agent-trace-rotate-{}", std::process::id()));
    std::fs::write(
        &file,
        "# the tokens clients may send\nold-token-0123456789\nnew-token-0123456789\n",
    )
    .unwrap();
    let mut server = serve(&db, &["--token-file", file.to_str().unwrap()]);
    let body = spans_json(&[("7bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")]);
    assert_eq!(
        post(&server, &body, Some("Bearer old-token-0123456789")).await,
        200
    );
    assert_eq!(
        post(&server, &body, Some("Bearer new-token-0123456789")).await,
        200
    );
    assert_eq!(post(&server, &body, None).await, 401);

    std::fs::write(&file, "new-token-0123456789\n").unwrap();
    server.signal("-HUP");
    server.wait_for_log("SIGHUP: tokens read again", Duration::from_secs(10));
    assert_eq!(
        post(&server, &body, Some("Bearer old-token-0123456789")).await,
        401
    );
    assert_eq!(
        post(&server, &body, Some("Bearer new-token-0123456789")).await,
        200
    );

    // A file emptied by mistake does not open the server: the tokens stay.
    std::fs::write(&file, "# nothing\n").unwrap();
    server.signal("-HUP");
    // The reload has happened (and refused the empty file) before the tokens are tried.
    server.wait_for_log("SIGHUP: tokens kept as they were", Duration::from_secs(10));
    assert_eq!(post(&server, &body, None).await, 401);
    assert_eq!(
        post(&server, &body, Some("Bearer new-token-0123456789")).await,
        200
    );
    stop(server);
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn an_empty_token_is_refused_at_start() {
    let file = std::env::temp_dir().join(format!("agent-trace-empty-{}", std::process::id()));
    std::fs::write(&file, "# no token here\n\n").unwrap();
    for (args, env) in [
        (vec!["--token", ""], None),
        (vec!["--token", "  "], None),
        (vec![], Some("")),
        (vec!["--token-file", file.to_str().unwrap()], None),
    ] {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--database-url", "postgresql://127.0.0.1:1/x"])
            .args(&args)
            .env_remove("AGENT_TRACE_TOKEN");
        if let Some(env) = env {
            command.env("AGENT_TRACE_TOKEN", env);
        }
        let output = command.output().expect("run serve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} {env:?}");
        assert!(
            stderr.contains("empty") || stderr.contains("holds no token"),
            "{args:?} {env:?}: {stderr}"
        );
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn a_short_token_is_refused_at_start() {
    let short = "fifteen-chars!!";
    assert_eq!(short.len(), 15);
    let file = std::env::temp_dir().join(format!("agent-trace-short-{}", std::process::id()));
    std::fs::write(
        &file,
        format!("# one long, one short\nsixteen-chars!!!\n{short}\n"),
    )
    .unwrap();
    for (args, env) in [
        (vec!["--token", short], None),
        (vec![], Some(short)),
        (vec!["--token-file", file.to_str().unwrap()], None),
    ] {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--database-url", "postgresql://127.0.0.1:1/x"])
            .args(&args)
            .env_remove("AGENT_TRACE_TOKEN");
        if let Some(env) = env {
            command.env("AGENT_TRACE_TOKEN", env);
        }
        let output = command.output().expect("run serve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} {env:?}");
        assert!(
            stderr.contains("15 characters is too short")
                && stderr.contains("at least 16 characters"),
            "{args:?} {env:?}: {stderr}"
        );
        assert!(!stderr.contains(short), "the token is not shown: {stderr}");
    }
    std::fs::remove_file(&file).unwrap();
}

/// 300 wrong tokens used to take 2.6 s and leave no trace but OTLP's 401 lines. Now wrong tokens
/// count against the client's address: after ten, that address is answered 429 with Retry-After
/// at once, without its token being looked at (so the right token waits too), on both ports and
/// /metrics; another address (127.0.0.2, loopback too) is served as usual. Each wrong token is
/// logged with the address and path, never the token, at most one line per address per 6 s.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_tokens_are_slowed_per_address_and_logged_without_the_token() {
    let db = TestDb::start("throttle");
    let token = "the-right-token-0123456789";
    let mut server = serve(&db, &["--token", token]);
    let body = spans_json(&[("7bf92f3577b34da6a3ce929d0e0e4737", "00f067aa0ba902b7")]);
    let client_from = |address: &str| {
        reqwest::Client::builder()
            .local_address(address.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    };
    let (guesser, other) = (client_from("127.0.0.1"), client_from("127.0.0.2"));
    let url = server.url("/v1/traces");
    let post = |client: &reqwest::Client, token: String| {
        let request = client
            .post(&url)
            .header("content-type", "application/json")
            .bearer_auth(token)
            .body(body.clone());
        async move {
            let response = request.send().await.expect("POST");
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|value| value.to_str().unwrap().parse::<u64>().unwrap());
            (response.status().as_u16(), retry_after)
        }
    };

    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    for n in 0..30 {
        answers.push(post(&guesser, format!("wrong-guess-{n:02}")).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    assert_eq!(statuses[..10], [401; 10], "{statuses:?}");
    assert!(
        statuses[20..].iter().all(|status| *status == 429),
        "{statuses:?}"
    );
    for (status, retry_after) in &answers {
        if *status == 429 {
            assert!(
                retry_after.is_some_and(|s| (1..=6).contains(&s)),
                "{answers:?}"
            );
        }
    }
    // The right token from that address: 429 at once, unchecked.
    let asked = std::time::Instant::now();
    assert_eq!(post(&guesser, token.to_string()).await.0, 429);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    let (status, _) = get(&server.url("/metrics"), Some(&format!("Bearer {token}"))).await;
    assert_eq!(status, 429, "/metrics");
    let (code, _) = grpc_call_with(
        &server.grpc_endpoint(),
        common::TRACES_EXPORT,
        bytes::Bytes::new(),
        false,
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(code, "8", "gRPC: RESOURCE_EXHAUSTED");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the guesses were answered quickly: {:?}",
        started.elapsed()
    );

    // Another address is not held up: its right token writes, its wrong one is 401.
    assert_eq!(post(&other, token.to_string()).await.0, 200);
    assert_eq!(post(&other, "another-wrong-guess".to_string()).await.0, 401);

    let line = server.wait_for_log("agent_trace::auth", Duration::from_secs(10));
    assert!(
        line.contains("WARN")
            && line.contains("peer=127.0.0.1")
            && line.contains("path=/v1/traces"),
        "{line}"
    );
    server.wait_for_log("peer=127.0.0.2", Duration::from_secs(10));
    let log = stop(server);
    let auth_lines: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("agent_trace::auth"))
        .collect();
    let from_guesser = auth_lines
        .iter()
        .filter(|line| line.contains("peer=127.0.0.1 "))
        .count();
    assert!(
        (1..=2).contains(&from_guesser),
        "one line per address per 6 s for 30 wrong tokens and the 429s:\n{}",
        auth_lines.join("\n")
    );
    for secret in ["wrong-guess-", "another-wrong-guess", token] {
        assert!(!log.contains(secret), "the log shows {secret:?}:\n{log}");
    }
}

/// The JSON log lines of target agent_trace::request.
fn request_lines(log: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["target"] == "agent_trace::request")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_request_is_one_log_line_with_what_it_came_to() {
    let db = TestDb::start("request-log");
    let server = serve(
        &db,
        &[
            "--log-format",
            "json",
            "--lock-timeout-ms",
            "300",
            "--statement-timeout-ms",
            "3000",
        ],
    );

    // Stored whole.
    let good = spans_json(&[("8bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")]);
    assert_eq!(post(&server, &good, None).await, 200);
    // One span of two rejected (a span id of 2 bytes): the answer and the log give the reason.
    let half = spans_json(&[
        ("8bf92f3577b34da6a3ce929d0e0e4736", "10f067aa0ba902b7"),
        ("8bf92f3577b34da6a3ce929d0e0e4736", "abcd"),
    ]);
    let answer = post_json(&server.url("/v1/traces"), &half, None).await;
    assert_eq!(answer.status, 200);
    let answer: ExportTraceServiceResponse = serde_json::from_str(&answer.body).expect("answer");
    let reason = answer
        .partial_success
        .expect("partial success")
        .error_message;
    assert!(!reason.is_empty());
    // The database refuses for now: another session holds a lock past the lock timeout.
    let locker = db.client().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE agent_trace.agent_spans IN ACCESS EXCLUSIVE MODE")
        .await
        .expect("lock");
    let other = spans_json(&[("9bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")]);
    assert_eq!(post(&server, &other, None).await, 503);
    locker.batch_execute("ROLLBACK").await.expect("unlock");
    let log = stop(server);

    let lines = request_lines(&log);
    assert_eq!(lines.len(), 3, "{log}");
    let field = |line: &serde_json::Value, name: &str| line[name].clone();
    let first = &lines[0];
    assert_eq!(field(first, "level"), "INFO");
    assert_eq!(field(first, "transport"), "http");
    assert_eq!(field(first, "signal"), "traces");
    assert_eq!(field(first, "status"), 200);
    assert_eq!(field(first, "stored"), 1);
    assert_eq!(field(first, "rejected"), 0);
    assert_eq!(field(first, "bytes"), good.len());
    assert!(field(first, "duration_ms").as_f64().expect("duration") > 0.0);
    let second = &lines[1];
    assert_eq!(field(second, "level"), "WARN");
    assert_eq!(field(second, "stored"), 1);
    assert_eq!(field(second, "rejected"), 1);
    assert_eq!(field(second, "rejected_reason"), reason.as_str());
    let third = &lines[2];
    assert_eq!(field(third, "level"), "ERROR");
    assert_eq!(field(third, "status"), 503);
    assert_eq!(field(third, "sqlstate"), "55P03", "{third}");
    assert!(
        field(third, "error")
            .as_str()
            .unwrap()
            .contains("lock timeout"),
        "{third}"
    );

    // --log-level warn: the stored request says nothing, the partly rejected one still does.
    let server = serve(&db, &["--log-format", "json", "--log-level", "warn"]);
    assert_eq!(post(&server, &good, None).await, 200);
    assert_eq!(post(&server, &half, None).await, 200);
    let lines = request_lines(&stop(server));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["rejected"], 1);
}
