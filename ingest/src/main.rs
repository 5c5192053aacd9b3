//! `agent-trace`: receives OpenTelemetry traces (OTLP) and stores them in PostgreSQL.

use clap::{Args, Parser, Subcommand};
use ingest::cluster::{ClusterConfig, PrivateCluster};
use ingest::grpc;
use ingest::server::{self, AppState, Limits};
use ingest::write::{Writer, WriterConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "agent-trace",
    version,
    about = "A Postgres-native trace store for AI agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Receive OTLP on --listen and store it in the database at --database-url.
    Serve(ServeArgs),
    /// The embedded default: start a private PostgreSQL 15 cluster with the agent_trace extension
    /// (created on first run, reused after) and serve OTLP into it until Ctrl-C, which stops both.
    Up {
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Stop the private cluster of `up` if it is still running. Its data stays for the next `up`.
    Down(ClusterArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// PostgreSQL connection URL, e.g. postgresql://agent_trace@127.0.0.1:5432/app
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Args)]
struct ServerArgs {
    /// Address for OTLP/HTTP.
    #[arg(long, env = "AGENT_TRACE_LISTEN", default_value = "127.0.0.1:4318")]
    listen: SocketAddr,
    /// Address for OTLP/gRPC.
    #[arg(
        long,
        env = "AGENT_TRACE_GRPC_LISTEN",
        default_value = "127.0.0.1:4317"
    )]
    grpc_listen: SocketAddr,
    /// Bearer token clients must send (`Authorization: Bearer TOKEN`). Required to listen beyond
    /// loopback unless --allow-public-without-token.
    #[arg(long, env = "AGENT_TRACE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Listen on a non-loopback address without a token (anyone who can reach it can write).
    #[arg(long, env = "AGENT_TRACE_ALLOW_PUBLIC_WITHOUT_TOKEN")]
    allow_public_without_token: bool,
    /// Database connections (batches written at once).
    #[arg(long, env = "AGENT_TRACE_POOL_SIZE", default_value_t = 8)]
    pool_size: usize,
    /// Milliseconds a request waits for a database connection before it is answered 503.
    #[arg(long, env = "AGENT_TRACE_CONNECTION_WAIT_MS", default_value_t = 5000)]
    connection_wait_ms: u64,
    /// Milliseconds a database statement may run before it is cancelled and the request answered 503.
    #[arg(
        long,
        env = "AGENT_TRACE_STATEMENT_TIMEOUT_MS",
        default_value_t = 30000
    )]
    statement_timeout_ms: u64,
    /// Seconds a client may take to send a request body before it is answered 408.
    #[arg(long, env = "AGENT_TRACE_BODY_READ_TIMEOUT_SECS", default_value_t = 30)]
    body_read_timeout_secs: u64,
    /// Largest request body, as sent.
    #[arg(long, env = "AGENT_TRACE_MAX_BODY_BYTES", default_value_t = 20 << 20)]
    max_body_bytes: usize,
    /// Largest request body after gzip decompression.
    #[arg(long, env = "AGENT_TRACE_MAX_DECOMPRESSED_BYTES", default_value_t = 64 << 20)]
    max_decompressed_bytes: usize,
    /// Decompressed bytes of all requests in progress; beyond it requests are answered 429.
    #[arg(long, env = "AGENT_TRACE_MAX_INFLIGHT_BYTES", default_value_t = 256 << 20)]
    max_inflight_bytes: usize,
}

#[derive(Args)]
struct ClusterArgs {
    /// Directory of the private cluster.
    #[arg(long, env = "AGENT_TRACE_DIR", default_value = ".agent-trace")]
    dir: PathBuf,
    /// TCP port the private cluster listens on, on 127.0.0.1 only.
    #[arg(long, env = "AGENT_TRACE_PG_PORT", default_value_t = 54329)]
    pg_port: u16,
    /// pg_config of the PostgreSQL installation to run.
    #[arg(
        long,
        env = "PG_CONFIG",
        default_value = "/usr/lib/postgresql/15/bin/pg_config"
    )]
    pg_config: PathBuf,
}

impl ClusterArgs {
    fn cluster(&self) -> Result<PrivateCluster, String> {
        PrivateCluster::new(ClusterConfig {
            dir: self.dir.clone(),
            port: self.pg_port,
            pg_config: self.pg_config.clone(),
        })
        .map_err(|e| e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => run_async(serve(args.database_url, args.server)),
        Command::Up { cluster, server } => up(cluster, server),
        Command::Down(args) => args.cluster().and_then(|cluster| {
            cluster.down().map_err(|e| e.to_string())?;
            println!(
                "Stopped the private cluster in {}.",
                cluster.data_dir().display()
            );
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-trace: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(future: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(future)
}

fn up(cluster_args: ClusterArgs, server: ServerArgs) -> Result<(), String> {
    let cluster = cluster_args.cluster()?;
    cluster.up().map_err(|e| e.to_string())?;
    let endpoint = format!("http://{}", server.listen);
    println!(
        "PostgreSQL with agent_trace is running (data in {}).",
        cluster.data_dir().display()
    );
    println!();
    println!("  OTLP/HTTP endpoint  {endpoint}   (traces: POST {endpoint}/v1/traces)");
    println!("  OTLP/gRPC endpoint  http://{}", server.grpc_listen);
    println!(
        "  Query with          psql \"{}\"",
        cluster.connection_string()
    );
    println!("  Point an OpenTelemetry SDK at it:");
    println!("    export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}");
    println!("    export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
    println!();
    println!("Ctrl-C stops the server and the cluster.");
    let served = run_async(serve(cluster.connection_string(), server));
    let stopped = cluster.down().map_err(|e| e.to_string());
    served.and(stopped)
}

async fn serve(database_url: String, args: ServerArgs) -> Result<(), String> {
    for address in [args.listen, args.grpc_listen] {
        if !address.ip().is_loopback() && args.token.is_none() && !args.allow_public_without_token {
            return Err(format!(
                "refusing to listen on {address} without a token: anyone who reaches it could write traces. \
                 Set --token (or AGENT_TRACE_TOKEN), or pass --allow-public-without-token."
            ));
        }
    }
    if args.max_inflight_bytes < args.max_decompressed_bytes {
        // Otherwise a request of the largest accepted size could never be admitted, and its client
        // would be told to retry forever.
        return Err(format!(
            "--max-inflight-bytes ({}) must be at least --max-decompressed-bytes ({})",
            args.max_inflight_bytes, args.max_decompressed_bytes
        ));
    }
    let writer = Writer::connect(&WriterConfig {
        database_url,
        pool_size: args.pool_size,
        connection_wait: Duration::from_millis(args.connection_wait_ms),
        statement_timeout: Duration::from_millis(args.statement_timeout_ms),
    })
    .await
    .map_err(|e| e.to_string())?;
    let limits = Limits {
        max_body_read_time: Duration::from_secs(args.body_read_timeout_secs),
        max_body_bytes: args.max_body_bytes,
        max_decompressed_bytes: args.max_decompressed_bytes,
        max_inflight_bytes: args.max_inflight_bytes,
    };
    let http = bind(args.listen).await?;
    let grpc = bind(args.grpc_listen).await?;
    eprintln!(
        "agent-trace: serving OTLP/HTTP on http://{} and OTLP/gRPC on {}",
        args.listen, args.grpc_listen
    );

    // One signal stops both servers; each finishes its requests in flight before returning.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stop_on = move || {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    let http_server = server::run(
        http,
        AppState::new(writer.clone(), limits, args.token.clone()),
        stop_on(),
    );
    let grpc_server = grpc::run(
        grpc,
        writer,
        args.token,
        args.max_decompressed_bytes,
        stop_on(),
    );
    let signal = async move {
        shutdown_signal().await;
        eprintln!("agent-trace: stopping; finishing requests in flight");
        let _ = stop.send(true);
    };
    let (http_result, grpc_result, ()) = tokio::join!(http_server, grpc_server, signal);
    http_result.map_err(|e| format!("OTLP/HTTP server: {e}"))?;
    grpc_result.map_err(|e| format!("OTLP/gRPC server: {e}"))?;
    eprintln!("agent-trace: stopped; every acknowledged span is committed");
    Ok(())
}

async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("listening on {address}: {e}"))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
    tokio::select! {
        _ = interrupt => {}
        _ = terminate.recv() => {}
    }
}
