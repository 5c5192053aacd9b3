//! `agent-trace serve` as a process: what its help shows, and that it never stays half up.

mod common;

use common::{ServeProcess, TestDb, TestServer};
use ingest::otlp::Limits;
use ingest::server::{self, Server};
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
        server::run_until_stopped(never, |stop| {
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
    let result = server::run_until_stopped(std::future::pending::<()>(), |_| {
        let quitter: Server = Box::pin(async { Ok(()) });
        vec![("OTLP/gRPC server", quitter)]
    })
    .await;
    assert_eq!(
        result,
        Err("OTLP/gRPC server stopped by itself".to_string())
    );

    // And a shutdown request stops every server and is not an error.
    let result = server::run_until_stopped(async {}, |stop| {
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

/// The real binary: when one of its servers ends by itself, the process stops the other and exits
/// non-zero. The gRPC listener is shut down from outside (gdb calls shutdown(2) on its socket in the
/// running process), so accepting on it fails for good, as it would if the kernel took it away.
#[test]
fn the_process_exits_non_zero_when_a_server_fails() {
    let db = TestDb::start("exit-code");
    let mut server = ServeProcess::serve(&db, &[]);
    let pid = server.child.id();
    let socket = listening_socket_fd(pid, server.grpc.port());
    let gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-p", &pid.to_string()])
        .args(["-ex", &format!("call (int) shutdown({socket}, 2)")])
        .output()
        .expect("run gdb (scripts/install-deps.sh installs it)");
    assert!(
        gdb.status.success(),
        "gdb: {}",
        String::from_utf8_lossy(&gdb.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("poll") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running after its gRPC server failed:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    server.wait_for_log("OTLP/gRPC server failed", Duration::from_secs(5));
    assert!(!status.success(), "exited with {status}:\n{}", server.log());
    // The HTTP server was stopped with it: its port no longer accepts connections.
    assert!(std::net::TcpStream::connect(server.http).is_err());
}

/// The file descriptor, in process `pid`, of the socket listening on 127.0.0.1:`port`.
fn listening_socket_fd(pid: u32, port: u16) -> String {
    let tcp = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    // local_address is hex "0100007F:PORT"; state 0A is LISTEN; the inode is the 10th field.
    let inode = tcp
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .find(|fields| fields[1] == format!("0100007F:{port:04X}") && fields[3] == "0A")
        .map(|fields| fields[9].to_string())
        .expect("the listening socket");
    let wanted = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("the process's descriptors")
        .filter_map(Result::ok)
        .find(|entry| {
            std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy() == wanted)
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .expect("the descriptor of the listening socket")
}

/// With `--database-password-file`, the viewer (reading with the ingest's own login, as it does
/// when no viewer URL is given) connects with that password too, against a cluster that asks for
/// one.
#[tokio::test(flavor = "multi_thread")]
async fn the_viewer_reads_with_the_password_from_the_password_file() {
    let db = TestDb::start("viewer-password");
    // The superuser may read, so the viewer reads with the ingest's login: no --viewer-database-url.
    let with_password = db.url();
    let (user_and_password, host) = with_password
        .trim_start_matches("postgresql://")
        .split_once('@')
        .expect("user:password@host");
    let (user, password) = user_and_password.split_once(':').expect("user:password");
    let password = percent_encoding::percent_decode_str(password)
        .decode_utf8()
        .expect("UTF-8");
    let file = std::env::temp_dir().join(format!("agent-trace-viewer-pw-{}", std::process::id()));
    std::fs::write(&file, format!("{password}\n")).expect("the password file");
    let without_password = format!("postgresql://{user}@{host}");
    let server = ServeProcess::spawn(&[
        "serve",
        "--database-url",
        &without_password,
        "--database-password-file",
        file.to_str().expect("a UTF-8 path"),
    ]);
    let answer = reqwest::get(server.url("/api/traces?from=2020-01-01T00:00:00Z"))
        .await
        .expect("GET /api/traces");
    assert_eq!(answer.status(), 200, "{}", server.log());
    assert!(
        !server.log().contains("serving without the viewer"),
        "{}",
        server.log()
    );
    let _ = std::fs::remove_file(&file);
}
