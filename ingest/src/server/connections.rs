//! Accepting and serving connections, the same way for both ports: at most `max_connections` open
//! at once (both ports together; more wait in the kernel's backlog), an accept error such as running
//! out of file descriptors pauses accepting instead of spinning, and on shutdown every connection
//! finishes its requests in flight. OTLP/HTTP is served as HTTP/1.1 whose request head must arrive
//! within `header_read_timeout` (a keep-alive connection waiting for its next request included);
//! OTLP/gRPC as HTTP/2 with keep-alive pings, where a connection that sends nothing (not even the
//! pings' answers) for `idle_timeout` is closed. With `--tls-cert`, both ports speak TLS
//! only (`tls`), the handshake bounded like a request head. Every request carries where its
//! connection came from, as axum's `ConnectInfo` (the client's address, which wrong tokens are
//! counted by: `crate::auth`), and where it arrived (`LocalAddr`, which `guard` accepts as a Host).

use super::tls::Tls;
use crate::otlp::Limits;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;

/// The open connections of both ports, counted against `max_connections`, and the TLS both
/// ports speak, if any.
#[derive(Clone)]
pub struct Connections {
    open: Arc<Semaphore>,
    tls: Option<Tls>,
}

impl Connections {
    pub fn new(max_connections: usize) -> Self {
        Self {
            open: Arc::new(Semaphore::new(max_connections.max(1))),
            tls: None,
        }
    }

    /// Every connection then starts with a TLS handshake, which must end within
    /// `header_read_timeout`, as a request's head must.
    pub fn with_tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }
}

/// The address a request's connection arrived at (this server's side of it), in the request's
/// extensions.
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

/// Which HTTP a port speaks.
#[derive(Debug, Clone, Copy)]
pub enum Protocol {
    /// OTLP/HTTP.
    Http1,
    /// OTLP/gRPC (HTTP/2 without TLS, "prior knowledge", as gRPC clients connect).
    Http2,
}

impl Protocol {
    /// Its name in TLS's protocol negotiation (ALPN): gRPC clients require `h2`.
    pub fn alpn(self) -> &'static [u8] {
        match self {
            Protocol::Http1 => b"http/1.1",
            Protocol::Http2 => b"h2",
        }
    }
}

/// How long to pause accepting after an error like "too many open files", which a retry at once
/// would only meet again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting and waits for the
/// connections to finish their requests in flight. An error only if accepting fails for good.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    protocol: Protocol,
    limits: &Limits,
    connections: &Connections,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let acceptor = connections
        .tls
        .as_ref()
        .map(|tls| tls.acceptor(protocol.alpn()));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.open.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) if is_connection_error(&error) => continue,
                Err(error) if is_resource_error(&error) => {
                    tokio::time::sleep(ACCEPT_PAUSE).await;
                    continue;
                }
                Err(error) => return Err(error),
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let Ok(local) = stream.local_addr() else {
            continue; // the connection is gone already
        };
        let addresses = Addresses { peer, local };
        let mut stream = TimeoutStream::new(stream);
        // HTTP/1 waits for the client only while it reads a request head, which
        // header_read_timeout bounds; a read timeout would also cut a response still streaming
        // to a quiet client (the viewer's live updates). An HTTP/2 client answers the server's
        // keep-alive pings, so one that sends nothing is gone.
        if let Protocol::Http2 = protocol {
            stream.set_read_timeout(Some(limits.idle_timeout));
        }
        let stream = Box::pin(stream);
        let (router, limits, watcher) = (router.clone(), *limits, graceful.watcher());
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            match acceptor {
                None => {
                    let io = TokioIo::new(stream);
                    serve_connection(io, router, addresses, protocol, &limits, watcher).await
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
                    // A failed or slow handshake: nothing to answer, the connection is closed.
                    if let Ok(Ok(stream)) = handshake.await {
                        let io = TokioIo::new(stream);
                        serve_connection(io, router, addresses, protocol, &limits, watcher).await;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Both ends of a connection.
#[derive(Debug, Clone, Copy)]
struct Addresses {
    peer: SocketAddr,
    local: SocketAddr,
}

/// Serves one connection's requests (plain or TLS) until it closes or, on shutdown, has finished
/// the requests in flight. Each request gets the connection's addresses in its extensions.
async fn serve_connection<I>(
    io: I,
    router: Router,
    addresses: Addresses,
    protocol: Protocol,
    limits: &Limits,
    watcher: Watcher,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let with_addresses = move |mut request: axum::http::Request<hyper::body::Incoming>| {
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(addresses.peer));
        extensions.insert(LocalAddr(addresses.local));
        request
    };
    let service = TowerToHyperService::new(tower::ServiceExt::map_request(router, with_addresses));
    match protocol {
        Protocol::Http1 => {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(io, service);
            let _ = watcher.watch(connection).await;
        }
        Protocol::Http2 => {
            let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(limits.grpc_keepalive))
                .keep_alive_timeout(limits.grpc_keepalive)
                .serve_connection(io, service);
            let _ = watcher.watch(connection).await;
        }
    }
}

/// The client gave up on a connection before it was accepted: nothing to do.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Out of file descriptors or memory for now: connections that close will free them.
fn is_resource_error(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    ) || error.kind() == io::ErrorKind::OutOfMemory
}
