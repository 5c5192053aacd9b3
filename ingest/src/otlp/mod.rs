//! OTLP in: the two transports and everything between a client's bytes and a request's rows.
//!
//! - `http`: OTLP/HTTP (`POST /v1/traces`, `/v1/logs`, `/v1/metrics`), protobuf or JSON;
//! - `grpc`: OTLP/gRPC (the three `Export` methods) on its own port;
//! - `intake`: what both share once a request arrived: the body read under the memory budget
//!   (`budget`), the CPU-heavy steps off the async workers, the reasons to refuse (`Refusal`);
//! - `connections`: accepting and serving connections, bounded in number and time, for both ports;
//! - `auth`: the bearer-token check; `limits`: every limit, one struct, one flag each;
//! - `operate`: the operator's endpoints on the OTLP/HTTP port (`/health`, `/ready`, `/metrics`);
//! - `tls`: TLS on both ports (`--tls-cert`, `--tls-key`);
//! - `decode`: bodies -> request messages and replies -> bodies (pure), with `wire`, the walk of
//!   the protobuf wire format that repairs invalid UTF-8 and bounds the decoded size (pure);
//! - `serve` below: both servers, one stop for both, never half up.
//!
//! A request is then mapped (`crate::map`) and written (`crate::write`) through `crate::export`,
//! and answered with what that committed. This folder speaks HTTP and gRPC and must not look into
//! rows or SQL: it never maps an attribute or touches the database except through `export`.

mod auth;
mod budget;
pub mod connections;
pub mod decode;
pub mod grpc;
pub mod http;
pub mod intake;
mod limits;
pub mod operate;
pub mod tls;
pub mod wire;

pub use auth::{Auth, Tokens};
pub use budget::{Budget, Charge};
pub use limits::Limits;

use crate::viewer::{Viewer, ViewerConfig};
use crate::write::{Writer, WriterConfig};
use connections::{Connections, Protocol};
use intake::Intake;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use tokio::sync::watch;

/// The default OTLP/HTTP address (the OTLP standard port, loopback only).
pub const DEFAULT_HTTP_LISTEN: &str = "127.0.0.1:4318";
/// The default OTLP/gRPC address (the OTLP standard port, loopback only).
pub const DEFAULT_GRPC_LISTEN: &str = "127.0.0.1:4317";

/// How `serve` receives OTLP.
pub struct ServeConfig {
    pub http_listen: SocketAddr,
    pub grpc_listen: SocketAddr,
    /// Bearer tokens clients may send; one is required beyond loopback unless
    /// `allow_public_without_token`. A token file is read again on SIGHUP.
    pub tokens: Tokens,
    pub allow_public_without_token: bool,
    pub limits: Limits,
    /// TLS on both ports; None: plain TCP.
    pub tls: Option<tls::ListenerTls>,
    /// The web viewer on the HTTP port; None: OTLP only.
    pub viewer: Option<ViewerConfig>,
}

/// Receives OTLP over HTTP and gRPC into the database until `shutdown` completes, then finishes
/// the requests in flight (their batches commit and they get their answers) and returns. Refuses
/// a configuration that would expose an unauthenticated writer, before connecting to anything.
pub async fn serve(
    config: ServeConfig,
    writer: &WriterConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), String> {
    let auth = Auth::new(&config.tokens)?;
    for address in [config.http_listen, config.grpc_listen] {
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
    let writer_config = writer;
    let writer = Writer::connect(writer_config)
        .await
        .map_err(|e| e.to_string())?;
    let viewer = Viewer::start(
        config.viewer.as_ref(),
        &writer_config.database_url,
        auth.clone(),
    )
    .await?;
    let http_listener = bind(config.http_listen).await?;
    let grpc_listener = bind(config.grpc_listen).await?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        http = %config.http_listen, grpc = %config.grpc_listen, tls = tls.is_some(),
        token_required = auth.is_required(),
        "serving OTLP/HTTP on {scheme}://{} and OTLP/gRPC on {}",
        config.http_listen, config.grpc_listen
    );
    if viewer.is_some() {
        tracing::info!("the viewer is at {scheme}://{}/", config.http_listen);
    }
    if config.tokens.file.is_some() {
        tokio::spawn(reload_tokens_on_hangup(auth.clone(), config.tokens.clone()));
    }
    let limits = config.limits;
    let intake = Intake::new(writer, limits, auth);
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
        // The viewer's pages and JSON API are served on the OTLP/HTTP port, beside /v1/*.
        let viewer_routes = viewer
            .as_ref()
            .map(|viewer| viewer.router(stop.clone()))
            .unwrap_or_default();
        let http_routes = http_router(intake.clone()).merge(viewer_routes);
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

/// Everything the OTLP/HTTP port serves: the OTLP paths and the operator's endpoints.
pub fn http_router(intake: Intake) -> axum::Router {
    http::router(intake.clone()).merge(operate::router(intake))
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

async fn bind(address: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("listening on {address}: {e}"))
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
