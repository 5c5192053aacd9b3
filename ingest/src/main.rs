//! `agent-trace`: receives OpenTelemetry (OTLP) and stores it in PostgreSQL. This file is only the
//! command line: each command's flags, and a call into the library (`server::serve`, `cli::*`).

use clap::{Args, Parser, Subcommand};
use ingest::auth::Tokens;
use ingest::batch::Bounds;
use ingest::cli::cluster::{self, ClusterConfig, PrivateCluster};
use ingest::cli::prices::{self, ImportCommand};
use ingest::cli::probe;
use ingest::cli::projects;
use ingest::cli::setup::{self, SetupOptions, Tool};
use ingest::cli::up;
use ingest::map::redact::{Content, Redaction};
use ingest::mcp::McpConfig;
use ingest::observe::log;
use ingest::otlp::Limits;
use ingest::postgres::Password;
use ingest::server::tls::ListenerTls;
use ingest::server::{self, ServeConfig};
use ingest::viewer::ViewerConfig;
use ingest::write::WriterConfig;
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
    /// Projects: the unit of ownership. Every stored row belongs to one; a role reads the projects
    /// granted to it (row-level security).
    Projects {
        #[command(subcommand)]
        command: ProjectsCommand,
    },
    /// Ingest tokens: each belongs to a project, and what is sent with it is stored in that project.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Model prices, from which agent_trace computes the cost of calls that report none.
    Prices {
        #[command(subcommand)]
        command: PricesCommand,
    },
    /// Print the settings that send Claude Code, Gemini CLI, Codex or Agno telemetry to agent-trace.
    #[command(
        long_about = "Print the settings that send a coding assistant's OpenTelemetry (log events with tokens and \
                      cost, metrics, traces) to agent-trace: environment variables for Claude Code, the \
                      \"telemetry\" block of .gemini/settings.json for Gemini CLI, the [otel] table of \
                      ~/.codex/config.toml for Codex, and for an Agno AgentOS app the Python lines that add \
                      agent-trace to its tracer provider. Prints only; changes no file."
    )]
    Setup(SetupArgs),
    /// GET a running server's /ready (or another URL of it): exit 0 on 200, else 1 with why. For
    /// container healthchecks, where no curl is at hand.
    Probe {
        /// What to GET (plain HTTP).
        #[arg(env = "AGENT_TRACE_PROBE_URL", default_value = probe::DEFAULT_URL)]
        url: String,
    },
}

#[derive(Subcommand)]
enum ProjectsCommand {
    /// Create a project (lower-case letters, digits, _ . -). Nobody reads it until it is granted.
    Create {
        /// The project's name.
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the projects and who may read or write each.
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Let a role (and its members) read, or write, a project's rows.
    Grant {
        /// The project's name.
        project: String,
        /// The role, e.g. a dashboard's login (which also needs agent_trace_reader or
        /// agent_trace_usage_reader, or agent_trace_writer to write).
        role: String,
        /// read: select the project's rows; write: insert rows into it.
        #[arg(long, env = "AGENT_TRACE_GRANT_ACCESS", default_value = "read", value_parser = ["read", "write"])]
        access: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Create an ingest token of a project; prints it once (only its SHA-256 is stored).
    Create {
        /// The project whose token it is.
        #[arg(long, env = "AGENT_TRACE_PROJECT")]
        project: String,
        /// What the token is for (the service or person holding it).
        #[arg(long, env = "AGENT_TRACE_TOKEN_NAME")]
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the ingest tokens (not the tokens themselves: they are not stored).
    List {
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke an ingest token by its token_id (from `tokens list`); the server refuses it within
    /// seconds.
    Revoke {
        /// The token's token_id.
        token_id: i32,
        #[command(flatten)]
        database: DatabaseArgs,
    },
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
CREATE EXTENSION loads the snapshot of its version as built-in prices, so this is needed only for \
newer prices. \
Only models priced per token are read (chat, responses, completion, embedding); per-token input, \
output, cache-read, cache-write and reasoning prices and their long-context tiers.

An import only adds rows, never changes one. History is kept: a model gets a new row only when \
its price differs from the one in effect on \
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
    #[arg(long, env = "AGENT_TRACE_PRICES_SOURCE")]
    source: Option<String>,
    /// The list's date, YYYY-MM-DD: new prices take effect on it. Default: the file's own note
    /// (the snapshot's date), else today (UTC).
    #[arg(long, env = "AGENT_TRACE_PRICES_DATE")]
    date: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Args)]
struct DatabaseArgs {
    /// PostgreSQL connection string of a database with the agent_trace extension, as libpq reads
    /// it: postgresql://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=ca.pem, or
    /// "host=HOST user=USER dbname=DB sslmode=require". TLS: sslmode disable, prefer (default),
    /// require, verify-ca, verify-full; sslrootcert a PEM file of CA certificates, or system.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: String,
    /// A file whose first line is the database password, used instead of any password in
    /// --database-url (which shows in `ps` and in shell history).
    #[arg(long, env = "DATABASE_PASSWORD_FILE")]
    database_password_file: Option<PathBuf>,
}

impl DatabaseArgs {
    fn password(&self) -> Result<Option<Password>, String> {
        self.database_password_file
            .as_deref()
            .map(Password::from_file)
            .transpose()
    }
}

#[derive(Args)]
struct SetupArgs {
    /// The tool to configure.
    #[arg(value_enum)]
    tool: Tool,
    /// agent-trace's OTLP/HTTP address, as the tool reaches it.
    #[arg(long, env = "AGENT_TRACE_ENDPOINT", default_value_t = format!("http://{}", server::DEFAULT_HTTP_LISTEN))]
    endpoint: String,
    /// The token agent-trace was started with (--token); sent as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "AGENT_TRACE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Include prompt text in the tool's telemetry (off by default: prompts are redacted).
    #[arg(long, env = "AGENT_TRACE_LOG_PROMPTS")]
    log_prompts: bool,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(flatten)]
    server: ServerArgs,
}

#[derive(Args)]
struct ServerArgs {
    /// Address for OTLP/HTTP.
    #[arg(long, env = "AGENT_TRACE_LISTEN", default_value = server::DEFAULT_HTTP_LISTEN)]
    listen: SocketAddr,
    /// Address for OTLP/gRPC.
    #[arg(long, env = "AGENT_TRACE_GRPC_LISTEN", default_value = server::DEFAULT_GRPC_LISTEN)]
    grpc_listen: SocketAddr,
    /// A bearer token clients may send (`Authorization: Bearer TOKEN`), 16 characters or more;
    /// repeat the flag for several (rotation). One is required to listen beyond loopback unless
    /// --allow-public-without-token. Prefer --token-file: a flag shows in `ps`.
    #[arg(long = "token", env = "AGENT_TRACE_TOKEN", hide_env_values = true)]
    tokens: Vec<String>,
    /// A file of bearer tokens, one per line (blank lines and lines starting with # skipped), any
    /// of which clients may send. Read again on SIGHUP: add a new token, move the clients to it,
    /// remove the old one, without a restart.
    #[arg(long, env = "AGENT_TRACE_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// The least severe log events written to standard error: off, error, warn, info, debug, trace.
    #[arg(long, env = "AGENT_TRACE_LOG_LEVEL", default_value_t = log::Level::default())]
    log_level: log::Level,
    /// Log lines as text, or as JSON objects (one per line) for a log pipeline.
    #[arg(long, env = "AGENT_TRACE_LOG_FORMAT", value_enum, default_value_t = log::Format::Text)]
    log_format: log::Format,
    /// Listen on a non-loopback address without a token (anyone who can reach it can write; only
    /// requests addressed to a loopback name or to the address it listens on are served).
    #[arg(long, env = "AGENT_TRACE_ALLOW_PUBLIC_WITHOUT_TOKEN")]
    allow_public_without_token: bool,
    /// Serve both ports over TLS with this certificate (PEM, the chain after it); needs --tls-key.
    #[arg(long, env = "AGENT_TRACE_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "AGENT_TRACE_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// What is stored of content (prompts, completions, messages, tool arguments and results, log
    /// bodies): keep it, drop it, or hash it with --redact-hash-key-file's key (equal values hash
    /// equal). A project's own setting (agent_trace.projects.redaction) overrides this.
    #[arg(long, env = "AGENT_TRACE_REDACT", default_value = "keep", value_parser = parse_content)]
    redact: Content,
    /// Another attribute key whose value is content, beyond the prompt and completion keys of every
    /// dialect agent-trace knows; a trailing * matches every key it starts. Repeatable; in the
    /// environment, comma-separated.
    #[arg(
        long = "redact-key",
        env = "AGENT_TRACE_REDACT_KEYS",
        value_delimiter = ','
    )]
    redact_keys: Vec<String>,
    /// A file of at least 16 secret random bytes, the key of --redact hash (HMAC-SHA-256). Keep it
    /// as long as you need equal values to hash equal.
    #[arg(long, env = "AGENT_TRACE_REDACT_HASH_KEY_FILE")]
    redact_hash_key_file: Option<PathBuf>,
    /// Seconds between runs of the extension's maintenance (agent_trace.maintain(): the daily
    /// partitions of the days ahead, and retention), the first when the server starts. 0: never
    /// (schedule it with pg_cron instead; see docs/retention.md).
    #[arg(
        long,
        env = "AGENT_TRACE_MAINTENANCE_INTERVAL_SECS",
        default_value_t = 3600
    )]
    maintenance_interval_secs: u64,
    /// Serve OTLP only, without the web viewer at / on the HTTP port.
    #[arg(long, env = "AGENT_TRACE_NO_VIEWER")]
    no_viewer: bool,
    /// PostgreSQL connection URL the viewer and the MCP server read with, e.g. of a login role
    /// granted only agent_trace_reader. Default: the ingest's database (read as
    /// agent_trace_reader if it may).
    #[arg(long, env = "AGENT_TRACE_VIEWER_DATABASE_URL", hide_env_values = true)]
    viewer_database_url: Option<String>,
    /// Serve no MCP server at /mcp on the HTTP port.
    #[arg(long, env = "AGENT_TRACE_NO_MCP")]
    no_mcp: bool,
    /// Milliseconds a statement of the MCP server's query tool may run before it is cancelled.
    #[arg(
        long,
        env = "AGENT_TRACE_MCP_SQL_TIMEOUT_MS",
        default_value_t = McpConfig::DEFAULT_SQL_TIMEOUT.as_millis() as u64
    )]
    mcp_sql_timeout_ms: u64,
    /// The most rows the MCP server's query tool answers with (a caller may ask for fewer).
    #[arg(
        long,
        env = "AGENT_TRACE_MCP_SQL_MAX_ROWS",
        default_value_t = McpConfig::DEFAULT_SQL_MAX_ROWS
    )]
    mcp_sql_max_rows: usize,
    /// Database connections (batches written at once).
    #[arg(long, env = "AGENT_TRACE_POOL_SIZE", default_value_t = WriterConfig::DEFAULT_POOL_SIZE)]
    pool_size: usize,
    /// Milliseconds a request waits for a database connection before it is answered 503.
    #[arg(
        long,
        env = "AGENT_TRACE_CONNECTION_WAIT_MS",
        default_value_t = WriterConfig::DEFAULT_CONNECTION_WAIT.as_millis() as u64
    )]
    connection_wait_ms: u64,
    /// Milliseconds a database statement may run before it is cancelled; a batch that runs past it
    /// is halved and tried again, a row that alone runs past it is rejected.
    #[arg(
        long,
        env = "AGENT_TRACE_STATEMENT_TIMEOUT_MS",
        default_value_t = WriterConfig::DEFAULT_STATEMENT_TIMEOUT.as_millis() as u64
    )]
    statement_timeout_ms: u64,
    /// Milliseconds a statement waits for a lock another session holds before the request is
    /// answered 503 (retry later). Must be below --statement-timeout-ms.
    #[arg(
        long,
        env = "AGENT_TRACE_LOCK_TIMEOUT_MS",
        default_value_t = WriterConfig::DEFAULT_LOCK_TIMEOUT.as_millis() as u64
    )]
    lock_timeout_ms: u64,
    /// Seconds a client may take to send a request body before it is answered 408.
    #[arg(
        long,
        env = "AGENT_TRACE_BODY_READ_TIMEOUT_SECS",
        default_value_t = Limits::DEFAULT.max_body_read_time.as_secs()
    )]
    body_read_timeout_secs: u64,
    /// Largest request body, as sent.
    #[arg(long, env = "AGENT_TRACE_MAX_BODY_BYTES", default_value_t = Limits::DEFAULT.max_body_bytes)]
    max_body_bytes: usize,
    /// Largest request body (or gRPC message) after gzip decompression.
    #[arg(
        long,
        env = "AGENT_TRACE_MAX_DECOMPRESSED_BYTES",
        default_value_t = Limits::DEFAULT.max_decompressed_bytes
    )]
    max_decompressed_bytes: usize,
    /// Memory for the requests in progress, both ports together: bodies as received and inflated,
    /// and an upper bound of what they decode to. Beyond it requests are answered 429 (gRPC:
    /// RESOURCE_EXHAUSTED with RetryInfo), which clients retry.
    #[arg(
        long,
        env = "AGENT_TRACE_MAX_INFLIGHT_BYTES",
        default_value_t = Limits::DEFAULT.max_inflight_bytes
    )]
    max_inflight_bytes: usize,
    /// Open connections of both ports together; more wait to be accepted.
    #[arg(
        long,
        env = "AGENT_TRACE_MAX_CONNECTIONS",
        default_value_t = Limits::DEFAULT.max_connections
    )]
    max_connections: usize,
    /// OTLP/HTTP: seconds for a request's head to arrive, also while a kept-alive connection waits
    /// for its next request; then the connection is closed.
    #[arg(
        long,
        env = "AGENT_TRACE_HEADER_READ_TIMEOUT_SECS",
        default_value_t = Limits::DEFAULT.header_read_timeout.as_secs()
    )]
    header_read_timeout_secs: u64,
    /// OTLP/gRPC: seconds a connection may send nothing (not even answers to keep-alive pings)
    /// before it is closed.
    #[arg(
        long,
        env = "AGENT_TRACE_IDLE_TIMEOUT_SECS",
        default_value_t = Limits::DEFAULT.idle_timeout.as_secs()
    )]
    idle_timeout_secs: u64,
    /// OTLP/gRPC: seconds between keep-alive pings, and to wait for their answer.
    #[arg(
        long,
        env = "AGENT_TRACE_GRPC_KEEPALIVE_SECS",
        default_value_t = Limits::DEFAULT.grpc_keepalive.as_secs()
    )]
    grpc_keepalive_secs: u64,
    /// OTLP/gRPC: seconds from a call's message to its answer, else DEADLINE_EXCEEDED (clients
    /// retry; what was committed meanwhile is skipped as duplicates).
    #[arg(
        long,
        env = "AGENT_TRACE_REQUEST_TIMEOUT_SECS",
        default_value_t = Limits::DEFAULT.request_timeout.as_secs()
    )]
    request_timeout_secs: u64,
    /// Group commit: most rows (spans, log records or data points, and their scores) of concurrent
    /// requests written in one transaction; a larger request is written alone.
    #[arg(
        long,
        env = "AGENT_TRACE_BATCH_MAX_ROWS",
        default_value_t = Limits::DEFAULT.batch.max_rows
    )]
    batch_max_rows: usize,
    /// Group commit: most request bytes (decompressed) in one transaction; a larger request is
    /// written alone.
    #[arg(
        long,
        env = "AGENT_TRACE_BATCH_MAX_BYTES",
        default_value_t = Limits::DEFAULT.batch.max_bytes
    )]
    batch_max_bytes: usize,
    /// Group commit: while a write of the same signal is in flight, milliseconds a request may
    /// wait for others to join its transaction (an idle server writes a request at once).
    #[arg(
        long,
        env = "AGENT_TRACE_BATCH_WAIT_MS",
        default_value_t = Limits::DEFAULT.batch.max_wait.as_millis() as u64
    )]
    batch_wait_ms: u64,
    /// Group commit: transactions of one signal written at once (each on its own connection).
    #[arg(
        long,
        env = "AGENT_TRACE_BATCH_WRITERS",
        default_value_t = Limits::DEFAULT.batch.writers
    )]
    batch_writers: usize,
}

fn parse_content(text: &str) -> Result<Content, String> {
    text.parse()
}

impl ServerArgs {
    fn redaction(&self) -> Result<Redaction, String> {
        let key = self
            .redact_hash_key_file
            .as_ref()
            .map(|path| {
                std::fs::read(path)
                    .map_err(|e| format!("reading the redaction hash key {}: {e}", path.display()))
            })
            .transpose()?;
        Redaction::new(self.redact, self.redact_keys.clone(), key)
    }

    fn serve_config(&self) -> Result<ServeConfig, String> {
        Ok(ServeConfig {
            http_listen: self.listen.into(),
            grpc_listen: self.grpc_listen.into(),
            tokens: Tokens {
                given: self.tokens.clone(),
                file: self.token_file.clone(),
            },
            allow_public_without_token: self.allow_public_without_token,
            tls: self
                .tls_cert
                .clone()
                .zip(self.tls_key.clone())
                .map(|(cert, key)| ListenerTls { cert, key }),
            viewer: (!self.no_viewer).then(|| ViewerConfig {
                database_url: self.viewer_database_url.clone(),
            }),
            mcp: (!self.no_mcp).then(|| McpConfig {
                database_url: self.viewer_database_url.clone(),
                sql_timeout: Duration::from_millis(self.mcp_sql_timeout_ms.max(1)),
                sql_max_rows: self.mcp_sql_max_rows.max(1),
            }),
            limits: Limits {
                max_body_read_time: Duration::from_secs(self.body_read_timeout_secs),
                max_body_bytes: self.max_body_bytes,
                max_decompressed_bytes: self.max_decompressed_bytes,
                max_inflight_bytes: self.max_inflight_bytes,
                max_connections: self.max_connections,
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                idle_timeout: Duration::from_secs(self.idle_timeout_secs),
                grpc_keepalive: Duration::from_secs(self.grpc_keepalive_secs),
                request_timeout: Duration::from_secs(self.request_timeout_secs),
                batch: Bounds {
                    max_rows: self.batch_max_rows,
                    max_bytes: self.batch_max_bytes,
                    max_wait: Duration::from_millis(self.batch_wait_ms),
                    writers: self.batch_writers,
                },
            },
            redaction: self.redaction()?,
            maintenance_interval: (self.maintenance_interval_secs > 0)
                .then(|| Duration::from_secs(self.maintenance_interval_secs)),
        })
    }

    fn writer_config(&self, database_url: String, password: Option<Password>) -> WriterConfig {
        WriterConfig {
            database_url,
            password,
            pool_size: self.pool_size,
            connection_wait: Duration::from_millis(self.connection_wait_ms),
            statement_timeout: Duration::from_millis(self.statement_timeout_ms),
            lock_timeout: Duration::from_millis(self.lock_timeout_ms),
        }
    }
}

#[derive(Args)]
struct ClusterArgs {
    /// Directory of the private cluster.
    #[arg(long, env = "AGENT_TRACE_DIR", default_value = cluster::DEFAULT_DIR)]
    dir: PathBuf,
    /// TCP port the private cluster listens on, on 127.0.0.1 only.
    #[arg(long, env = "AGENT_TRACE_PG_PORT", default_value_t = cluster::DEFAULT_PORT)]
    pg_port: u16,
    /// pg_config of the PostgreSQL installation to run.
    #[arg(long, env = "PG_CONFIG", default_value = cluster::DEFAULT_PG_CONFIG)]
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
        Command::Serve(args) => args.database.password().and_then(|password| {
            log::init(args.server.log_level, args.server.log_format);
            let writer = args
                .server
                .writer_config(args.database.database_url, password);
            let config = args.server.serve_config()?;
            run_async(|| async move { server::serve(config, &writer, shutdown_signal()?).await })
        }),
        Command::Up { cluster, server } => cluster.cluster().and_then(|cluster| {
            log::init(server.log_level, server.log_format);
            let writer = server.writer_config(String::new(), None);
            let config = server.serve_config()?;
            run_async(|| async move { up::up(cluster, config, writer, shutdown_signal()?).await })
        }),
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
        } => args.database.password().and_then(|password| {
            run_async(|| {
                prices::import_command(ImportCommand {
                    file: args.file,
                    source: args.source,
                    date: args.date,
                    database_url: args.database.database_url,
                    password,
                })
            })
        }),
        Command::Projects { command } => {
            let (database, command) = match command {
                ProjectsCommand::Create { name, database } => {
                    (database, projects::Command::CreateProject { name })
                }
                ProjectsCommand::List { database } => (database, projects::Command::ListProjects),
                ProjectsCommand::Grant {
                    project,
                    role,
                    access,
                    database,
                } => (
                    database,
                    projects::Command::Grant {
                        project,
                        role,
                        access,
                    },
                ),
            };
            run_projects(&command, &database)
        }
        Command::Tokens { command } => {
            let (database, command) = match command {
                TokensCommand::Create {
                    project,
                    name,
                    database,
                } => (database, projects::Command::CreateToken { project, name }),
                TokensCommand::List { database } => (database, projects::Command::ListTokens),
                TokensCommand::Revoke { token_id, database } => {
                    (database, projects::Command::RevokeToken { token_id })
                }
            };
            run_projects(&command, &database)
        }
        Command::Setup(args) => setup::render(
            args.tool,
            &SetupOptions {
                endpoint: args.endpoint,
                token: args.token,
                log_prompts: args.log_prompts,
            },
        )
        .map(|text| print!("{text}")),
        Command::Probe { url } => probe::probe(&url).map(|body| println!("{body}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("agent-trace: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_projects(command: &projects::Command, database: &DatabaseArgs) -> Result<(), String> {
    let password = database.password()?;
    let url = database.database_url.clone();
    let command = command.clone();
    run_async(|| async move { projects::run(&command, &url, password.as_ref()).await })
        .map(|text| println!("{text}"))
}

/// Runs the future `start` makes on a new runtime; `start` runs inside it, so what it sets up
/// (signal handlers, first of all) is in place before anything else happens.
fn run_async<T, F>(start: impl FnOnce() -> F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("starting the runtime: {e}"))?
        .block_on(async move { start().await })
}

/// Completes at Ctrl-C or SIGTERM. Both are caught from the moment this is called, so a signal
/// that arrives while the server starts (a slow database, `up` starting its cluster) stops it
/// cleanly instead of killing it halfway.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind| signal(kind).map_err(|e| format!("listening for signals: {e}"));
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every flag of every command can also be set by an environment variable (containers and
    /// compose files configure by environment), as the docs promise.
    #[test]
    fn every_flag_has_an_environment_variable() {
        fn check(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let is_flag = arg.get_long().is_some();
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if is_flag && !builtin && arg.get_env().is_none() {
                    missing.push(format!("{path} --{}", arg.get_long().unwrap_or_default()));
                }
            }
            for sub in command.get_subcommands() {
                check(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        check(&Cli::command(), "agent-trace", &mut missing);
        assert!(
            missing.is_empty(),
            "flags without an env variable: {missing:?}"
        );
    }
}
