//! `agent-trace serve` as a process: what its help shows, and that it never stays half up.

mod common;

use common::{TestDb, TestServer};
use ingest::otlp::{self, Limits, Server};
use std::process::Command;
use std::time::{Duration, Instant};

/// `--help` shows every flag's environment variable, but never the value of a secret one.
#[test]
fn help_never_shows_the_database_password_or_the_token() {
    let commands: [(&[&str], &[&str]); 3] = [
        (&["serve", "--help"], &["DATABASE_URL", "AGENT_TRACE_TOKEN"]),
        (&["up", "--help"], &["AGENT_TRACE_TOKEN"]),
        (&["prices", "import", "--help"], &["DATABASE_URL"]),
    ];
    for (command, variables) in commands {
        let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
            .args(command)
            .env("DATABASE_URL", "postgresql://u:s3cret@h/db")
            .env("AGENT_TRACE_TOKEN", "t0ken-value")
            .output()
            .expect("run agent-trace");
        assert!(output.status.success(), "{command:?}");
        let help = String::from_utf8_lossy(&output.stdout);
        for variable in variables {
            assert!(
                help.contains(variable),
                "{command:?} names {variable}: {help}"
            );
        }
        assert!(
            !help.contains("s3cret"),
            "{command:?} shows the password:\n{help}"
        );
        assert!(
            !help.contains("t0ken-value"),
            "{command:?} shows the token:\n{help}"
        );
    }
}

/// When one server ends by itself (here: a server whose listener failed), the other is stopped
/// and the error comes back at once, not at the next Ctrl-C.
#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stops_by_itself_stops_the_other_and_fails() {
    let db = TestDb::start("half-up");
    let http = TestServer::start(&db, Limits::DEFAULT, None).await;
    let address = http.addr;
    let never = std::future::pending::<()>();
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        otlp::run_until_stopped(never, |stop| {
            let http_stopped = stop.requested();
            let http: Server = Box::pin(async move {
                // The real server runs until it is asked to stop.
                http_stopped.await;
                http.stop().await;
                Ok(())
            });
            let failing: Server = Box::pin(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Err("accepting connections: Too many open files (os error 24)".to_string())
            });
            vec![("OTLP/HTTP server", http), ("OTLP/gRPC server", failing)]
        }),
    )
    .await
    .expect("returns without waiting for a signal");
    let error = result.expect_err("a failed server is an error");
    assert!(
        error.contains("OTLP/gRPC server failed: accepting connections"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The HTTP server was stopped: its port no longer accepts connections.
    assert!(std::net::TcpStream::connect(address).is_err());

    // A server that returns Ok without being asked is a failure too.
    let result = otlp::run_until_stopped(std::future::pending::<()>(), |_| {
        let quitter: Server = Box::pin(async { Ok(()) });
        vec![("OTLP/gRPC server", quitter)]
    })
    .await;
    assert_eq!(
        result,
        Err("OTLP/gRPC server stopped by itself".to_string())
    );

    // And a shutdown request stops every server and is not an error.
    let result = otlp::run_until_stopped(async {}, |stop| {
        let stopped = stop.requested();
        let server: Server = Box::pin(async move {
            stopped.await;
            Ok(())
        });
        vec![("OTLP/HTTP server", server)]
    })
    .await;
    assert_eq!(result, Ok(()));
}
