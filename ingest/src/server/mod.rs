//! The one place where `agent-trace serve` is assembled: the writer, the two OTLP transports
//! (`crate::otlp`), the operator's endpoints (`operate`), the viewer (`crate::viewer`) and the MCP
//! server (`crate::mcp`, which stores scores through the writer) on their ports, under one stop.
//!
//! - `serve`: checks the configuration, connects, binds both ports and serves until the shutdown
//!   signal; never half up (`run_until_stopped`);
//! - `connections`: accepting and serving connections, bounded in number and time, for both ports;
//! - `tls`: TLS on both ports (`--tls-cert`, `--tls-key`);
//! - `operate`: `/health`, `/ready`, `/metrics` on the OTLP/HTTP port;
//! - `guard`: what web pages may not do, checked for the whole OTLP/HTTP port (Host, Origin,
//!   Sec-Fetch-Site).

pub mod connections;
pub mod guard;
pub mod operate;
pub mod tls;

use crate::auth::{Auth, Tokens};
use crate::map::redact::Redaction;
use crate::mcp::{self, Mcp, McpConfig, ScoreRefusal, ScoreWriter};
use crate::otlp::intake::Intake;
use crate::otlp::{Limits, grpc, http};
use crate::projects::Projects;
use crate::viewer::{self, AddScore, StoreFailure, Viewer, ViewerConfig};
use crate::write::{Score, ScoreError, Writer, WriterConfig};
use connections::{Connections, Protocol};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;

/// The default OTLP/HTTP address (the OTLP standard port, loopback only).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:4318";
/// The default OTLP/gRPC address (the OTLP standard port, loopback only).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:4317";

/// How `serve` receives OTLP.
pub struct ServeConfig {
    /// Where OTLP/HTTP (and the viewer) is served. Port 0 binds a free port; the log line
    /// "serving OTLP/HTTP on ..." names the one bound.
    pub http_listen: Listen,
    pub grpc_listen: Listen,
    /// Bearer tokens clients may send; one is required beyond loopback unless
    /// `allow_public_without_token`. A token file is read again on SIGHUP.
    pub tokens: Tokens,
    pub allow_public_without_token: bool,
    pub limits: Limits,
    /// TLS on both ports; None: plain TCP.
    pub tls: Option<tls::ListenerTls>,
    /// The web viewer on the HTTP port; None: OTLP only.
    pub viewer: Option<ViewerConfig>,
    /// The MCP server at /mcp on the HTTP port; None: none.
    pub mcp: Option<McpConfig>,
    /// What is kept of content, unless a project says otherwise.
    pub redaction: Redaction,
    /// How often agent_trace.maintain() runs (at start, then at this interval); None: never.
    pub maintenance_interval: Option<std::time::Duration>,
}

/// Receives OTLP over HTTP and gRPC into the database until `shutdown` completes, then finishes
/// the requests in flight (their batches commit and they get their answers) and returns. Refuses
/// a configuration that would expose an unauthenticated writer, before connecting to anything.
pub async fn serve(
    config: ServeConfig,
    writer_config: &WriterConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let auth = Auth::new(&config.tokens)?;
    for address in [config.http_listen.address()?, config.grpc_listen.address()?] {
        if !address.ip().is_loopback() && !auth.is_required() && !config.allow_public_without_token
        {
            return Err(format!(
                "refusing to listen on {address} without a token: anyone who reaches it could write traces. \
                 Set --token-file or --token, or pass --allow-public-without-token."
            ));
        }
    }
    config.limits.check()?;
    let tls = config.tls.as_ref().map(tls::Tls::load).transpose()?;
    // Each connection is a file descriptor: the soft limit (often 1024) must not bind before
    // --max-connections does, or accepting would stall well below it.
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!("could not raise the open-files limit: {error}");
    }
    let writer = Writer::connect(writer_config)
        .await
        .map_err(|e| e.to_string())?;
    warn_without_prices(&writer).await;
    // The day's partitions before the ports open: attaching one while rows of its day are on their
    // way into the default partition would send those back (503, retry).
    if config.maintenance_interval.is_some() {
        maintain(&writer).await;
    }
    let viewer = Viewer::start(
        config.viewer.as_ref(),
        &writer_config.database_url,
        writer_config.password.as_ref(),
        auth.clone(),
    )
    .await?
    .map(|viewer| viewer.with_secure_cookies(tls.is_some()));
    // The projects' tokens and redaction, read before the first request and every few seconds after.
    let projects = Projects::new(config.redaction);
    refresh_projects(&writer, &projects).await;
    let mcp = Mcp::start(
        config.mcp.as_ref(),
        &writer_config.database_url,
        writer_config.password.as_ref(),
        auth.clone(),
        projects.clone(),
        mcp_score_writer(&writer),
    )
    .await?;
    // A person's score, added in the viewer, is stored by the ingest's writer, as OTLP's rows are:
    // the viewer's own pool only reads.
    let viewer =
        viewer.map(|viewer| viewer.with_scoring(projects.clone(), viewer_score_writer(&writer)));
    let http_listener = config.http_listen.bind().await?;
    let grpc_listener = config.grpc_listen.bind().await?;
    let (http_address, grpc_address) = (
        local_address(&http_listener)?,
        local_address(&grpc_listener)?,
    );
    let secure = tls.is_some();
    let scheme = if secure { "https" } else { "http" };
    tracing::info!(
        http = %http_address, grpc = %grpc_address, tls = tls.is_some(),
        token_required = auth.is_required(),
        "serving OTLP/HTTP on {scheme}://{http_address} and OTLP/gRPC on {grpc_address}"
    );
    if viewer.is_some() {
        tracing::info!("the viewer is at {scheme}://{http_address}/");
    }
    if mcp.is_some() {
        tracing::info!(
            "the MCP server is at {scheme}://{http_address}{}",
            crate::mcp::PATH
        );
    }
    if config.tokens.file.is_some() {
        tokio::spawn(reload_tokens_on_hangup(auth.clone(), config.tokens.clone()));
    }
    tokio::spawn(refresh_projects_every(writer.clone(), projects.clone()));
    if let Some(interval) = config.maintenance_interval {
        tokio::spawn(maintain_every(writer.clone(), interval));
    }
    let limits = config.limits;
    let intake = Intake::new(writer, limits, auth, projects);
    let connections = match tls {
        Some(tls) => Connections::new(limits.max_connections).with_tls(tls),
        None => Connections::new(limits.max_connections),
    };
    run_until_stopped(shutdown, |stop| {
        let port = |listener, router, protocol| -> Server {
            let (connections, stop) = (connections.clone(), stop.clone());
            Box::pin(async move {
                let stopped = stop.requested();
                connections::serve(listener, router, protocol, &limits, &connections, stopped)
                    .await
                    .map_err(|e| e.to_string())
            })
        };
        // The viewer's pages and JSON API, and the MCP server, are served on the OTLP/HTTP port,
        // beside /v1/*.
        let viewer_routes = viewer
            .as_ref()
            .map(|viewer| viewer.router(stop.receiver()))
            .unwrap_or_default();
        let mcp_routes = mcp
            .as_ref()
            .map(|mcp| mcp.router(stop.receiver()))
            .unwrap_or_default();
        let http_routes = http_router(intake.clone(), viewer_routes.merge(mcp_routes), secure);
        vec![
            (
                "OTLP/HTTP server",
                port(http_listener, http_routes, Protocol::Http1),
            ),
            (
                "OTLP/gRPC server",
                port(grpc_listener, grpc::router(intake), Protocol::Http2),
            ),
        ]
    })
    .await?;
    tracing::info!("stopped; every acknowledged span is committed");
    Ok(())
}

/// Everything the OTLP/HTTP port serves: the OTLP paths, the operator's endpoints and `routes`
/// (the viewer's and the MCP server's; none: OTLP only), all behind the guard (`tls`: the port
/// speaks TLS).
pub fn http_router(intake: Intake, routes: axum::Router, tls: bool) -> axum::Router {
    let guard = guard::Guard::new(intake.clone(), tls);
    http::router(intake.clone())
        .merge(operate::router(intake))
        .merge(routes)
        .layer(axum::middleware::from_fn_with_state(guard, guard::check))
}

/// The viewer's way to store a person's score: `Writer::add_score`, given now, with source `human`.
fn viewer_score_writer(writer: &Writer) -> AddScore {
    let writer = writer.clone();
    Arc::new(move |score: viewer::NewScore| {
        let writer = writer.clone();
        Box::pin(async move {
            let score = Score {
                trace_id: score.trace_id,
                span_id: score.span_id,
                name: score.name,
                value: score.value,
                label: score.label,
                explanation: score.explanation,
                source: Some(score.source.to_string()),
                scorer: score.scorer,
                attributes: None,
                project: score.project,
                score_key: score.score_key,
                given_now: true,
            };
            writer.add_score(&score).await.map_err(|error| match error {
                ScoreError::Refused { message, sqlstate } => StoreFailure {
                    sqlstate: Some(sqlstate),
                    message,
                },
                ScoreError::Unavailable(message) => StoreFailure {
                    sqlstate: None,
                    message,
                },
            })
        })
    })
}

/// The MCP server's add_score, through the writer: its pool, its login (which may insert scores
/// into any project it writes, and read nothing). A call repeated with the same arguments is one score.
fn mcp_score_writer(writer: &Writer) -> ScoreWriter {
    let writer = writer.clone();
    Arc::new(move |score: mcp::NewScore| {
        let writer = writer.clone();
        Box::pin(async move {
            let score = Score {
                trace_id: score.trace_id,
                span_id: score.span_id,
                name: score.name,
                value: score.value,
                label: score.label,
                explanation: score.explanation,
                source: score.source,
                scorer: score.scorer,
                attributes: None,
                project: score.project,
                score_key: None,
                given_now: false,
            };
            writer.add_score(&score).await.map_err(|error| match error {
                ScoreError::Refused { message, sqlstate } => {
                    ScoreRefusal::Refused { message, sqlstate }
                }
                ScoreError::Unavailable(why) => ScoreRefusal::Unavailable(why),
            })
        })
    })
}

/// CREATE EXTENSION loads built-in prices; a table emptied since leaves every computed cost empty,
/// which nothing else would say.
async fn warn_without_prices(writer: &Writer) {
    match writer.has_prices().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "agent_trace.model_prices is empty: LLM calls that report tokens but no cost get no computed \
             cost. Load the prices built into agent-trace with `agent-trace prices import --database-url \
             URL` (as the extension's owner), then re-cost what is stored with \
             `SELECT * FROM agent_trace.recompute_costs('-infinity', 'infinity');`."
        ),
        Err(error) => {
            tracing::warn!(%error, "could not ask whether agent_trace.model_prices holds prices")
        }
    }
}

/// How often the projects' tokens and redaction settings are read again: a token revoked in SQL
/// stops working within this time.
pub const PROJECTS_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

async fn refresh_projects(writer: &Writer, projects: &Projects) {
    match writer.read_projects().await {
        Ok(directory) => {
            for problem in projects.replace(directory) {
                tracing::warn!("redaction settings: {problem}");
            }
        }
        Err(error) => tracing::warn!(%error, "projects not read again; the last reading stays"),
    }
}

async fn refresh_projects_every(writer: Writer, projects: Projects) {
    let mut interval = tokio::time::interval(PROJECTS_REFRESH);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        refresh_projects(&writer, &projects).await;
    }
}

/// The extension's maintenance: the daily partitions ahead, and retention. Run when the server
/// starts and every `interval` after; a run that fails (a lock not granted, the database away)
/// is logged and the next one tries again. Replicas of the ingest may all run it: the extension
/// lets one run at a time and the others return at once.
async fn maintain_every(writer: Writer, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        maintain(&writer).await;
    }
}

/// The extension's maintenance once, on a connection of its own: `up` runs it before it tells
/// anyone where to write (serve runs it again, and finds nothing to do).
pub async fn maintain_now(writer_config: &WriterConfig) -> Result<(), String> {
    let writer = Writer::connect(writer_config)
        .await
        .map_err(|e| e.to_string())?;
    maintain(&writer).await;
    Ok(())
}

async fn maintain(writer: &Writer) {
    match writer.maintain().await {
        Ok(done) => {
            for (action, table, detail) in done {
                let table = table.unwrap_or_default();
                if action == "skipped" {
                    tracing::warn!(%action, %table, "maintenance: {detail}");
                } else {
                    tracing::info!(%action, %table, "maintenance: {detail}");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "maintenance failed; the next run tries again"),
    }
}

/// `kill -HUP`: the token file is read again, so tokens rotate without a restart. A file that
/// cannot be read, or holds no token, leaves the tokens as they were (and says so in the log).
async fn reload_tokens_on_hangup(auth: Auth, tokens: Tokens) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: the token file is read at start only");
        return;
    };
    while hangups.recv().await.is_some() {
        match auth.replace(&tokens) {
            Ok(count) => tracing::info!(tokens = count, "SIGHUP: tokens read again"),
            Err(error) => tracing::error!(%error, "SIGHUP: tokens kept as they were"),
        }
    }
}

/// Where a port is served: an address to bind, or a socket bound already (a test binds port 0 and
/// hands the listener over, so no other process can take the port in between).
#[derive(Debug)]
pub enum Listen {
    At(SocketAddr),
    Bound(std::net::TcpListener),
}

impl Listen {
    /// The address to be served; for `At` with port 0, the port is chosen when bound.
    pub fn address(&self) -> Result<SocketAddr, String> {
        match self {
            Listen::At(address) => Ok(*address),
            Listen::Bound(listener) => listener
                .local_addr()
                .map_err(|e| format!("the listener's address: {e}")),
        }
    }

    /// Binds now, if not bound yet (`up` binds before it prints where it serves).
    pub fn bound(self) -> Result<Self, String> {
        match self {
            Listen::At(address) => std::net::TcpListener::bind(address)
                .map(Listen::Bound)
                .map_err(|e| format!("listening on {address}: {e}")),
            bound => Ok(bound),
        }
    }

    async fn bind(self) -> Result<tokio::net::TcpListener, String> {
        match self {
            Listen::At(address) => tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| format!("listening on {address}: {e}")),
            Listen::Bound(listener) => listener
                .set_nonblocking(true)
                .and_then(|()| tokio::net::TcpListener::from_std(listener))
                .map_err(|e| format!("serving the listener handed over: {e}")),
        }
    }
}

impl From<SocketAddr> for Listen {
    fn from(address: SocketAddr) -> Self {
        Listen::At(address)
    }
}

fn local_address(listener: &tokio::net::TcpListener) -> Result<SocketAddr, String> {
    listener
        .local_addr()
        .map_err(|e| format!("the bound address: {e}"))
}

/// A server's future: Ok when it stopped because it was asked to.
pub type Server = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Tells servers when to stop accepting.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Completes once a stop is requested: pass it to a server as its graceful-shutdown signal.
    pub fn requested(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.0.clone();
        async move {
            let _ = receiver.wait_for(|stop| *stop).await;
        }
    }

    /// The signal itself (true once a stop is requested), for parts that are not servers, such
    /// as the viewer's live streams.
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.0.clone()
    }
}

/// Runs the servers `start` builds until `shutdown` completes; each then finishes what it has in
/// flight. A server that ends by itself (it failed, or its listener is gone) stops the others too,
/// and this returns its error as soon as they have finished: the process must not stay half up,
/// reporting the failure only at Ctrl-C.
pub async fn run_until_stopped(
    shutdown: impl Future<Output = ()>,
    start: impl FnOnce(Stop) -> Vec<(&'static str, Server)>,
) -> Result<(), String> {
    let (stop, stop_requested) = watch::channel(false);
    let servers = start(Stop(stop_requested.clone()));
    let stop = &stop;
    let supervised = servers.into_iter().map(|(name, server)| async move {
        let result = server.await;
        let was_asked = *stop.borrow();
        stop.send_replace(true);
        match result {
            Err(error) => Err(format!("{name} failed: {error}")),
            Ok(()) if !was_asked => Err(format!("{name} stopped by itself")),
            Ok(()) => Ok(()),
        }
    });
    let signal = async {
        let mut stop_requested = stop_requested;
        tokio::select! {
            () = shutdown => {
                tracing::info!("stopping; finishing requests in flight");
                stop.send_replace(true);
            }
            _ = stop_requested.wait_for(|stop| *stop) => {}
        }
    };
    let (results, ()) = tokio::join!(futures_util::future::join_all(supervised), signal);
    let errors: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
