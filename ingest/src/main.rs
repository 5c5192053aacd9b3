//! `agent-trace`: receives OpenTelemetry traces (OTLP) and stores them in PostgreSQL.

use clap::{Args, Parser, Subcommand};
use ingest::cluster::{ClusterConfig, PrivateCluster};
use ingest::grpc;
use ingest::prices;
use ingest::server::{self, AppState, Limits};
use ingest::setup::{self, SetupOptions, Tool};
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
    /// Model prices, from which agent_trace computes the cost of calls that report none.
    Prices {
        #[command(subcommand)]
        command: PricesCommand,
    },
    /// Print the settings that send Claude Code, Gemini CLI or Codex telemetry to agent-trace.
    #[command(
        long_about = "Print the settings that send a coding assistant's OpenTelemetry (log events with tokens and \
                      cost, metrics, traces) to agent-trace: environment variables for Claude Code, the \
                      \"telemetry\" block of .gemini/settings.json for Gemini CLI, the [otel] table of \
                      ~/.codex/config.toml for Codex. Prints only; changes no file."
    )]
    Setup(SetupArgs),
}

#[derive(Subcommand)]
enum PricesCommand {
    /// Add the model prices of a LiteLLM price list to agent_trace.model_prices.
    #[command(long_about = PRICES_IMPORT_HELP)]
    Import(PricesImportArgs),
}

const PRICES_IMPORT_HELP: &str =
    "Add the model prices of a LiteLLM price list to agent_trace.model_prices, in US dollars per \
million tokens, so that calls reporting tokens but no cost get a computed cost \
(agent_span_costs, agent_traces.computed_cost_usd, agent_logs.computed_cost_usd).

FILE is LiteLLM's model_prices_and_context_window.json (or a subset of it). Without FILE, the \
dated snapshot built into this binary is imported: the OpenAI, Anthropic and Gemini API models of \
LiteLLM's list (sql/prices/litellm-snapshot.json, refreshed by scripts/update-price-snapshot.sh). \
Only models priced per token are read (chat, responses, completion, embedding); per-token input, \
output, cache-read, cache-write and reasoning prices and their long-context tiers.

History is kept: a model gets a new row only when its price differs from the one in effect on \
--date, and that row takes effect on --date, so calls before it keep their old price (the first \
price known for a model applies to all earlier calls). Importing the same list again changes \
nothing, and neither does a list dated before what the table already has from an import. Prices \
you edit in the table are kept when their own list (or an older one) is imported again; a newer \
list that prices the model differently supersedes them from its date on.

Costs already computed for stored calls are not changed; the command prints the \
agent_trace.recompute_costs call that applies the new prices to them.";

#[derive(Args)]
struct PricesImportArgs {
    /// LiteLLM model_prices_and_context_window.json; default: the snapshot built into this binary.
    file: Option<PathBuf>,
    /// Recorded as the source of the added rows. Default: the file's own note (the snapshot's
    /// "litellm VERSION model_prices_and_context_window_backup.json"), else "litellm FILE-NAME".
    #[arg(long)]
    source: Option<String>,
    /// The list's date, YYYY-MM-DD: new prices take effect on it. Default: the file's own note
    /// (the snapshot's date), else today (UTC).
    #[arg(long)]
    date: Option<String>,
    /// PostgreSQL connection URL of a database with the agent_trace extension.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
}

#[derive(Args)]
struct SetupArgs {
    /// The tool to configure.
    #[arg(value_enum)]
    tool: Tool,
    /// agent-trace's OTLP/HTTP address, as the tool reaches it.
    #[arg(long, default_value = "http://127.0.0.1:4318")]
    endpoint: String,
    /// The token agent-trace was started with (--token); sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "AGENT_TRACE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Include prompt text in the tool's telemetry (off by default: prompts are redacted).
    #[arg(long)]
    log_prompts: bool,
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
        Command::Prices {
            command: PricesCommand::Import(args),
        } => run_async(import_prices(args)),
        Command::Setup(args) => setup::render(
            args.tool,
            &SetupOptions {
                endpoint: args.endpoint,
                token: args.token,
                log_prompts: args.log_prompts,
            },
        )
        .map(|text| print!("{text}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-trace: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_async<T>(future: impl std::future::Future<Output = Result<T, String>>) -> Result<T, String> {
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
    match run_async(import_shipped_prices(cluster.connection_string())) {
        Ok(summary) => println!("  Model prices        {summary}"),
        Err(error) => eprintln!("agent-trace: model prices not imported: {error}"),
    }
    println!("  Point an OpenTelemetry SDK at it:");
    println!("    export OTEL_EXPORTER_OTLP_ENDPOINT={endpoint}");
    println!("    export OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
    println!();
    println!("Ctrl-C stops the server and the cluster.");
    let served = run_async(serve(cluster.connection_string(), server));
    let stopped = cluster.down().map_err(|e| e.to_string());
    served.and(stopped)
}

async fn import_prices(args: PricesImportArgs) -> Result<(), String> {
    let (text, default_source) = match &args.file {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            format!(
                "litellm {}",
                path.file_name()
                    .unwrap_or(path.as_os_str())
                    .to_string_lossy()
            ),
        ),
        None => (
            prices::SNAPSHOT.to_string(),
            prices::SNAPSHOT_PATH.to_string(),
        ),
    };
    let shown = args
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("the built-in snapshot ({})", prices::SNAPSHOT_PATH));
    let list = prices::parse(&text).map_err(|e| format!("{shown}: {e}"))?;
    if let Some(date) = &args.date {
        prices::check_date(date).map_err(|e| format!("--date: {e}"))?;
    }
    let source = args
        .source
        .or_else(|| list.source.clone())
        .unwrap_or(default_source);
    let date = args.date.or_else(|| list.date.clone());
    let mut client = prices::connect(&args.database_url).await?;
    let imported = prices::import(&mut client, &list, &source, date.as_deref())
        .await
        .map_err(|e| prices::describe_error(&e))?;
    println!(
        "Read {} model prices from {shown} ({} entries skipped), source {source:?}, dated {}.",
        list.prices.len(),
        list.skipped.len(),
        imported.date
    );
    println!(
        "agent_trace.model_prices: {} rows added, {} prices already known.",
        imported.added, imported.unchanged
    );
    if let Some(from) = imported.earliest_effective_from {
        println!(
            "Stored calls keep the cost computed when they arrived. To re-cost them with these prices:\n  \
             SELECT * FROM agent_trace.recompute_costs('{from}', 'infinity');"
        );
    }
    Ok(())
}

/// `up`: the snapshot's prices, so that a fresh cluster computes costs from the start. Idempotent.
async fn import_shipped_prices(database_url: String) -> Result<String, String> {
    let list = prices::parse(prices::SNAPSHOT)?;
    let source = list
        .source
        .clone()
        .unwrap_or_else(|| prices::SNAPSHOT_PATH.to_string());
    let mut client = prices::connect(&database_url).await?;
    let imported = prices::import(&mut client, &list, &source, list.date.as_deref())
        .await
        .map_err(|e| prices::describe_error(&e))?;
    Ok(format!(
        "{} models ({source}, {}; {} rows added)",
        list.prices.len(),
        imported.date,
        imported.added
    ))
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
