//! TLS, tried against a test cluster with `ssl = on` and a certificate for `localhost` signed by a
//! CA of the test's making, whose pg_hba.conf lets the ingest's login in over TLS only: each
//! sslmode checks what libpq's does (src/postgres.rs), a certificate from another CA or for
//! another host is refused where the mode says so, and `agent-trace serve` and `prices import`
//! work over it. And the OTLP listeners over TLS (`--tls-cert`, `--tls-key`), HTTP and gRPC.

mod common;

use common::{ServeProcess, TestDb};
use ingest::write::{Writer, WriterConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A CA and, signed by it, a certificate for `names` with its key, as PEM files in `dir`.
struct Certificates {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn certificates(dir: &Path, label: &str, names: &[&str]) -> Certificates {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("agent-trace test CA {label}"),
    );
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let key = KeyPair::generate().expect("key");
    let cert = CertificateParams::new(names)
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    let paths = Certificates {
        ca: dir.join(format!("{label}-ca.pem")),
        cert: dir.join(format!("{label}-cert.pem")),
        key: dir.join(format!("{label}-key.pem")),
    };
    std::fs::write(&paths.ca, ca.pem()).expect("write CA");
    std::fs::write(&paths.cert, cert.pem()).expect("write certificate");
    std::fs::write(&paths.key, key.serialize_pem()).expect("write key");
    paths
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agent-trace-tls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn is_root() -> bool {
    String::from_utf8_lossy(&Command::new("id").arg("-u").output().expect("id").stdout).trim()
        == "0"
}

/// Turns TLS on in the test cluster with `certs`, and lets agent_trace_ingest in over TLS only
/// (the superuser may still connect without, so the test can look at pg_stat_ssl).
async fn require_tls(db: &TestDb, certs: &Certificates) {
    let data = db.cluster.data_dir();
    for (from, to) in [(&certs.cert, "server.crt"), (&certs.key, "server.key")] {
        std::fs::copy(from, data.join(to)).expect("copy into the data directory");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data.join(to), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        if is_root() {
            assert!(
                Command::new("chown")
                    .arg("postgres")
                    .arg(data.join(to))
                    .status()
                    .expect("chown")
                    .success()
            );
        }
    }
    std::fs::write(
        data.join("pg_hba.conf"),
        "hostssl all all      127.0.0.1/32 scram-sha-256\n\
         host    all postgres 127.0.0.1/32 scram-sha-256\n",
    )
    .expect("pg_hba.conf");
    // One by one: ALTER SYSTEM refuses to run inside a transaction (a multi-statement batch).
    for setting in [
        "ssl = on",
        "ssl_cert_file = 'server.crt'",
        "ssl_key_file = 'server.key'",
    ] {
        db.execute(&format!("ALTER SYSTEM SET {setting}")).await;
    }
    db.execute("SELECT pg_reload_conf()").await;
    // The reload is asynchronous: wait until new connections see it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while db
        .number("SELECT count(*) FROM pg_settings WHERE name = 'ssl' AND setting = 'on'")
        .await
        != 1
    {
        assert!(Instant::now() < deadline, "ssl never turned on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ingest's connection string to `host`, with `params`.
fn writer_url(db: &TestDb, host: &str, params: &str) -> String {
    let url = db
        .writer_url()
        .replacen("@127.0.0.1:", &format!("@{host}:"), 1);
    if params.is_empty() {
        url
    } else {
        format!("{url}?{params}")
    }
}

async fn connect(url: String) -> Result<Writer, String> {
    let config = WriterConfig {
        pool_size: 1,
        connection_wait: Duration::from_secs(5),
        ..WriterConfig::new(url)
    };
    Writer::connect(&config).await.map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sslmode_checks_the_server_as_libpq_does() {
    let db = TestDb::start("tls-modes");
    let dir = scratch("modes");
    let ours = certificates(&dir, "ours", &["localhost"]);
    let theirs = certificates(&dir, "theirs", &["localhost"]);
    require_tls(&db, &ours).await;
    let (ca, other_ca) = (ours.ca.display(), theirs.ca.display());

    let works = [
        // Encrypted, the server checked against our CA and its name.
        ("localhost", format!("sslmode=verify-full&sslrootcert={ca}")),
        // The CA checked, not the name (the certificate names localhost, not 127.0.0.1).
        ("127.0.0.1", format!("sslmode=verify-ca&sslrootcert={ca}")),
        // require with a CA file checks the CA, as libpq does.
        ("127.0.0.1", format!("sslmode=require&sslrootcert={ca}")),
        // Encrypted, nothing checked (libpq's require and prefer).
        ("127.0.0.1", "sslmode=require".to_string()),
        ("127.0.0.1", String::new()),
    ];
    for (host, params) in &works {
        let writer = connect(writer_url(&db, host, params)).await;
        assert!(writer.is_ok(), "{host} {params}: {:?}", writer.err());
        // It is TLS: the login is allowed in over TLS only, and pg_stat_ssl says so.
        assert!(
            db.number(
                "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
                  WHERE usename = 'agent_trace_ingest' AND ssl"
            )
            .await
                >= 1,
            "{host} {params}"
        );
    }

    let refused = [
        (
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={ca}"),
            "not valid for name",
        ),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={other_ca}"),
            "UnknownIssuer",
        ),
        (
            "localhost",
            format!("sslmode=verify-ca&sslrootcert={other_ca}"),
            "UnknownIssuer",
        ),
        (
            "localhost",
            format!("sslmode=require&sslrootcert={other_ca}"),
            "UnknownIssuer",
        ),
        ("localhost", "sslmode=disable".to_string(), "no encryption"),
        (
            "localhost",
            "sslmode=verify-full".to_string(),
            "need sslrootcert",
        ),
    ];
    for (host, params, says) in &refused {
        let error = connect(writer_url(&db, host, params))
            .await
            .err()
            .unwrap_or_else(|| panic!("{host} {params} connected"));
        assert!(error.contains(says), "{host} {params}: {error}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_and_prices_import_work_over_verified_tls() {
    let db = TestDb::start("tls-serve");
    let dir = scratch("serve");
    let certs = certificates(&dir, "ours", &["localhost"]);
    require_tls(&db, &certs).await;
    let tls = format!("sslmode=verify-full&sslrootcert={}", certs.ca.display());

    // The password apart from the URL, from a file.
    let password_file = dir.join("password");
    let password = db
        .writer_url()
        .split_once("agent_trace_ingest:")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(password, _)| password.to_string())
        .expect("a password in the URL");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let port = db.cluster.writer_connection_string();
    let port = port
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .unwrap();
    let url = format!("postgresql://agent_trace_ingest@localhost:{port}/agent_trace?{tls}");

    let server = ServeProcess::spawn(&[
        "serve",
        "--database-url",
        &url,
        "--database-password-file",
        password_file.to_str().expect("a UTF-8 path"),
    ]);
    let fixture = ingest::fixtures::find("py_sdk_agent/001_v1_traces");
    let response = reqwest::Client::new()
        .post(server.url("/v1/traces"))
        .header(
            "content-type",
            fixture.content_type.as_deref().unwrap_or_default(),
        )
        .body(fixture.body.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        fixture.counts.spans as i64
    );
    assert!(
        db.number(
            "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
              WHERE usename = 'agent_trace_ingest' AND ssl"
        )
        .await
            >= 1
    );
    drop(server);

    // prices import connects the same way (as the superuser here, who may import).
    let admin = db.url().replacen("@127.0.0.1:", "@localhost:", 1);
    let output = Command::new(env!("CARGO_BIN_EXE_agent-trace"))
        .args([
            "prices",
            "import",
            "--database-url",
            &format!("{admin}?{tls}"),
        ])
        .output()
        .expect("prices import");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // It read the table (CREATE EXTENSION loaded the same snapshot: nothing to add).
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("agent_trace.model_prices: 0 rows added"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A TLS connection to 127.0.0.1:`port` that trusts `ca` alone and offers `alpn`.
async fn tls_connect(
    port: u16,
    ca: &Path,
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).expect("CA") {
        roots.add(cert.expect("CA certificate")).expect("add CA");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("TLS handshake")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_otlp_ports_serve_tls_with_tls_cert_and_tls_key() {
    use bytes::{BufMut, Bytes, BytesMut};
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let db = TestDb::start("tls-listen");
    let dir = scratch("listen");
    let certs = certificates(&dir, "listen", &["localhost"]);
    let server = ServeProcess::spawn(&[
        "serve",
        "--database-url",
        &db.writer_url(),
        "--tls-cert",
        certs.cert.to_str().expect("a UTF-8 path"),
        "--tls-key",
        certs.key.to_str().expect("a UTF-8 path"),
    ]);
    let (http_port, grpc_port) = (server.http.port(), server.grpc.port());

    // OTLP/HTTP over TLS (HTTP/1.1).
    let fixture = ingest::fixtures::find("py_sdk_agent/001_v1_traces");
    let stream = tls_connect(http_port, &certs.ca, b"http/1.1").await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 over TLS");
    tokio::spawn(connection);
    let request = axum::http::Request::post("/v1/traces")
        .header("host", "localhost")
        .header(
            "content-type",
            fixture.content_type.as_deref().unwrap_or_default(),
        )
        .body(Full::new(fixture.body.clone()))
        .unwrap();
    let response = sender.send_request(request).await.expect("POST");
    assert_eq!(response.status(), 200);
    assert_eq!(
        db.number("SELECT count(*) FROM agent_trace.agent_spans")
            .await,
        fixture.counts.spans as i64
    );

    // OTLP/gRPC over TLS (HTTP/2, negotiated by ALPN as gRPC clients do).
    let stream = tls_connect(grpc_port, &certs.ca, b"h2").await;
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("HTTP/2 over TLS");
    tokio::spawn(connection);
    let message = Bytes::new(); // an empty ExportTraceServiceRequest
    let mut framed = BytesMut::new();
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    let request = axum::http::Request::post(format!(
        "https://localhost:{grpc_port}{}",
        common::TRACES_EXPORT
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(Full::new(framed.freeze()))
    .unwrap();
    let response = sender.send_request(request).await.expect("gRPC call");
    let trailers = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .trailers()
        .cloned();
    assert_eq!(
        trailers.and_then(|t| t.get("grpc-status").cloned()),
        Some(axum::http::HeaderValue::from_static("0"))
    );

    // Plain HTTP to a TLS port gets no OTLP answer.
    let plain = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{http_port}/v1/traces"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// One HTTP/1.1 request over TLS to 127.0.0.1:`port` (as `localhost`, which `ca` vouches for).
async fn https_request(
    port: u16,
    ca: &Path,
    request: axum::http::Request<http_body_util::Full<bytes::Bytes>>,
) -> axum::http::Response<hyper::body::Incoming> {
    let stream = tls_connect(port, ca, b"http/1.1").await;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 over TLS");
    tokio::spawn(connection);
    sender.send_request(request).await.expect("a request")
}

/// Under TLS the viewer's login cookie is `Secure` and named with the `__Host-` prefix (browsers
/// then accept it only from this very host over HTTPS, with Path=/ and no Domain); it holds a
/// session id, not the token, and opens the viewer.
#[tokio::test(flavor = "multi_thread")]
async fn over_tls_the_login_cookie_is_secure_and_host_prefixed() {
    use http_body_util::Full;
    let db = TestDb::start("tls-cookie");
    let dir = scratch("cookie");
    let certs = certificates(&dir, "cookie", &["localhost"]);
    let token = "tls-token-0123456789";
    let server = ServeProcess::serve(
        &db,
        &[
            "--token",
            token,
            "--tls-cert",
            certs.cert.to_str().expect("a UTF-8 path"),
            "--tls-key",
            certs.key.to_str().expect("a UTF-8 path"),
        ],
    );
    let port = server.http.port();
    let login = axum::http::Request::post("/login?next=%2Fsessions")
        .header("host", format!("localhost:{port}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(bytes::Bytes::from(format!("token={token}"))))
        .unwrap();
    let response = https_request(port, &certs.ca, login).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/sessions");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("text")
        .to_string();
    assert!(
        cookie.starts_with("__Host-agent_trace_session="),
        "{cookie}"
    );
    for attribute in [
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert!(!cookie.contains(token), "{cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_string();
    let api = |cookie: String| {
        axum::http::Request::get("/api/traces")
            .header("host", format!("localhost:{port}"))
            .header("cookie", cookie)
            .body(Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    assert_eq!(
        https_request(port, &certs.ca, api(pair.clone()))
            .await
            .status(),
        200
    );
    // The plain-HTTP name is not this server's cookie under TLS.
    let plain = pair.replacen("__Host-", "", 1);
    assert_eq!(
        https_request(port, &certs.ca, api(plain)).await.status(),
        401
    );
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
}
