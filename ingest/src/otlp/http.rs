//! OTLP/HTTP: `POST /v1/traces`, `/v1/logs`, `/v1/metrics` -> decode -> map -> write -> reply, as
//! `docs/otlp-server-contract.md` describes. The three paths are one handler,
//! `post_signal`, over `export::Signal`: same limits, status codes and error bodies.
//!
//! A 200 means every span, log record or data point not counted as rejected in `partial_success`
//! is committed. When the
//! database cannot take the batch the answer is 503 with Retry-After, and when too many bytes are
//! already in flight it is 429 with Retry-After: both make OTLP clients retry, where a 500 would
//! make them drop the data. Every non-2xx body is a `google.rpc.Status` in the request's encoding.

use super::auth::{self, Auth};
use super::decode::{self, DecodeError, Encoding, Status, grpc_code};
use super::limits::Limits;
use crate::export::{Logs, Metrics, Signal, Traces};
use crate::write::{WriteError, Writer};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct AppState {
    writer: Writer,
    limits: Limits,
    auth: Auth,
    inflight_bytes: Arc<Semaphore>,
}

impl AppState {
    pub fn new(writer: Writer, limits: Limits, auth: Auth) -> Self {
        let permits = limits.max_inflight_bytes.min(Semaphore::MAX_PERMITS);
        Self {
            writer,
            limits,
            auth,
            inflight_bytes: Arc::new(Semaphore::new(permits)),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(Traces::PATH, post(post_signal::<Traces>))
        .route(Logs::PATH, post(post_signal::<Logs>))
        .route(Metrics::PATH, post(post_signal::<Metrics>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
}

/// A failed request, answered as a `google.rpc.Status`.
struct Failure {
    http: StatusCode,
    grpc_code: i32,
    message: String,
    retry_after_seconds: Option<u32>,
}

impl Failure {
    fn new(http: StatusCode, grpc_code: i32, message: impl Into<String>) -> Self {
        Self {
            http,
            grpc_code,
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    fn into_response(self, encoding: Encoding) -> Response {
        let body = decode::encode_message(
            encoding,
            &Status {
                code: self.grpc_code,
                message: self.message,
            },
        );
        let mut response = (
            self.http,
            [(header::CONTENT_TYPE, encoding.content_type())],
            body,
        )
            .into_response();
        if let Some(seconds) = self.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<DecodeError> for Failure {
    fn from(error: DecodeError) -> Self {
        let http = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        Failure::new(http, grpc_code::INVALID_ARGUMENT, error.to_string())
    }
}

impl From<WriteError> for Failure {
    fn from(error: WriteError) -> Self {
        Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            grpc_code::UNAVAILABLE,
            error.to_string(),
        )
        .retry_after(5)
    }
}

async fn post_signal<S: Signal>(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    // Until the Content-Type is known to be ours, errors are answered in protobuf, OTLP's default.
    let encoding = match decode::encoding_of(header_str(&headers, header::CONTENT_TYPE)) {
        Ok(encoding) => encoding,
        Err(error) => return Failure::from(error).into_response(Encoding::Protobuf),
    };
    match receive::<S>(&state, &headers, body, encoding).await {
        Ok(response) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, encoding.content_type())],
            response,
        )
            .into_response(),
        Err(failure) => failure.into_response(encoding),
    }
}

async fn receive<S: Signal>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Result<Vec<u8>, Failure> {
    if !state
        .auth
        .allows(header_str(headers, header::AUTHORIZATION))
    {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            grpc_code::UNAUTHENTICATED,
            auth::UNAUTHORIZED,
        ));
    }
    let limits = state.limits;
    let read = tokio::time::timeout(
        limits.max_body_read_time,
        axum::body::to_bytes(body, limits.max_body_bytes),
    );
    let compressed = match read.await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(error)) if is_length_limit(&error) => {
            return Err(DecodeError::TooLarge {
                limit: limits.max_body_bytes,
            }
            .into());
        }
        Ok(Err(error)) => {
            return Err(Failure::new(
                StatusCode::BAD_REQUEST,
                grpc_code::INVALID_ARGUMENT,
                format!("reading the body: {error}"),
            ));
        }
        Err(_) => {
            return Err(Failure::new(
                StatusCode::REQUEST_TIMEOUT,
                grpc_code::DEADLINE_EXCEEDED,
                format!(
                    "the body did not arrive within {:?}",
                    limits.max_body_read_time
                ),
            ));
        }
    };
    let raw = decode::decompress(
        header_str(headers, header::CONTENT_ENCODING),
        compressed,
        limits.max_decompressed_bytes,
    )?;

    // Hold the decoded size against the in-flight budget until the batch is written.
    let permits = u32::try_from(raw.len()).unwrap_or(u32::MAX).max(1);
    let _inflight = state
        .inflight_bytes
        .clone()
        .try_acquire_many_owned(permits)
        .map_err(|_| {
            Failure::new(
                StatusCode::TOO_MANY_REQUESTS,
                grpc_code::RESOURCE_EXHAUSTED,
                "too many bytes in flight; retry later",
            )
            .retry_after(1)
        })?;

    let request = S::decode(encoding, &raw)?;
    drop(raw);
    let response = S::export(&state.writer, request).await?;
    Ok(decode::encode_message(encoding, &response))
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

async fn not_found(request: Request) -> Response {
    let message = format!(
        "no OTLP endpoint at {}; POST traces to /v1/traces, logs to /v1/logs, metrics to /v1/metrics",
        request.uri().path()
    );
    Failure::new(StatusCode::NOT_FOUND, grpc_code::UNIMPLEMENTED, message)
        .into_response(Encoding::Protobuf)
}

async fn method_not_allowed() -> Response {
    Failure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        grpc_code::UNIMPLEMENTED,
        "use POST",
    )
    .into_response(Encoding::Protobuf)
}

/// Serves OTLP/HTTP (and `also`, e.g. the viewer's routes) on `listener` until `shutdown`
/// completes, then stops accepting and lets the requests in flight finish: their batches commit
/// and they get their answers before this returns.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    also: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state).merge(also))
        .with_graceful_shutdown(shutdown)
        .await
}
