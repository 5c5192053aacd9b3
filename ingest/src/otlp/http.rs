//! OTLP/HTTP: `POST /v1/traces`, `/v1/logs`, `/v1/metrics` -> intake (decode, map, write) -> reply,
//! as `docs/otlp-server-contract.md` describes. The three paths are one handler, `post_signal`, over
//! `export::Signal`: same limits, status codes and error bodies.
//!
//! A 200 means every span, log record or data point not counted as rejected in `partial_success`
//! is committed. When the database cannot take the batch the answer is 503 with Retry-After, and
//! when the memory budget for requests in progress is spent it is 429 with Retry-After: both make
//! OTLP clients retry, where a 500 would make them drop the data. Every non-2xx body is a
//! `google.rpc.Status` in the request's encoding. The token is checked before anything else, also
//! on paths and methods not served here. Each answered request is reported to the operator's log
//! and metrics (`crate::observe`).

use super::intake::{Intake, Refusal};
use crate::decode::{self, Encoding, Status};
use crate::export::{Logs, Metrics, Outcome, Signal, Traces};
use crate::observe::{self, Transport};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::time::Instant;

pub fn router(intake: Intake) -> Router {
    Router::new()
        .route(Traces::PATH, post(post_signal::<Traces>))
        .route(Logs::PATH, post(post_signal::<Logs>))
        .route(Metrics::PATH, post(post_signal::<Metrics>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(intake)
}

/// A refusal of a request with this Content-Type, answered as OTLP/HTTP answers every refusal: a
/// `google.rpc.Status` in the request's encoding (protobuf unless it sent JSON). For refusals made
/// before a request reaches the OTLP handlers (`crate::server`'s guard).
pub fn refusal_response(refusal: &Refusal, content_type: Option<&str>) -> Response {
    refuse(
        refusal,
        decode::encoding_of(content_type).unwrap_or(Encoding::Protobuf),
    )
}

/// A refusal as a `google.rpc.Status` in `encoding`, with Retry-After when it is retryable.
fn refuse(refusal: &Refusal, encoding: Encoding) -> Response {
    let body = decode::encode_message(
        encoding,
        &Status {
            code: refusal.grpc as i32,
            message: refusal.message.clone(),
        },
    );
    let mut response = (
        refusal.http,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response();
    if let Some(seconds) = refusal.retry_after_seconds {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

async fn post_signal<S: Signal>(State(intake): State<Intake>, request: Request) -> Response {
    let started = Instant::now();
    let mut received = Received::default();
    let result = receive::<S>(&intake, request, &mut received).await;
    let encoding = received.encoding;
    let response = match &result {
        Ok((answer, _)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, encoding.content_type())],
            decode::encode_message(encoding, answer),
        )
            .into_response(),
        Err(refusal) => refuse(refusal, encoding),
    };
    intake.observer().request(&observe::Request {
        transport: Transport::Http,
        signal: Some(S::NAME),
        status: response.status().as_u16(),
        bytes: received.bytes,
        duration: started.elapsed(),
        result: match &result {
            Ok((_, outcome)) => Ok(outcome),
            Err(refusal) => Err(refusal.refused()),
        },
    });
    response
}

/// What is known of a request as it is read: its encoding (protobuf until the Content-Type says
/// otherwise, so early refusals are answered in OTLP's default) and its body's size.
struct Received {
    encoding: Encoding,
    bytes: usize,
}

impl Default for Received {
    fn default() -> Self {
        Self {
            encoding: Encoding::Protobuf,
            bytes: 0,
        }
    }
}

/// The token, then the Content-Type, the body, and the export; the answer and what it came to.
async fn receive<S: Signal>(
    intake: &Intake,
    request: Request,
    received: &mut Received,
) -> Result<(S::Response, Outcome), Refusal> {
    let (parts, body) = request.into_parts();
    let project = intake.authorize(&parts.headers, &parts.extensions, parts.uri.path())?;
    let headers = parts.headers;
    received.encoding = decode::encoding_of(header_str(&headers, header::CONTENT_TYPE))?;
    let mut charge = intake.budget().charge();
    let body = intake.read_body(body, &mut charge).await?;
    received.bytes = body.len();
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(String::from);
    intake
        .store::<S>(body, received.encoding, content_encoding, charge, project)
        .await
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Paths and methods we do not serve: 404 and 405, but 401 first to a request without the token,
/// which learns nothing about what is served here.
async fn not_found(State(intake): State<Intake>, request: Request) -> Response {
    let message = format!(
        "no OTLP endpoint at {}; POST traces to /v1/traces, logs to /v1/logs, metrics to /v1/metrics",
        request.uri().path()
    );
    refuse_other(
        &intake,
        &request,
        Refusal::new(StatusCode::NOT_FOUND, tonic::Code::Unimplemented, message),
    )
}

async fn method_not_allowed(State(intake): State<Intake>, request: Request) -> Response {
    refuse_other(
        &intake,
        &request,
        Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            tonic::Code::Unimplemented,
            "use POST",
        ),
    )
}

fn refuse_other(intake: &Intake, request: &Request, refusal: Refusal) -> Response {
    let started = Instant::now();
    let refusal = match intake
        .authorize(
            request.headers(),
            request.extensions(),
            request.uri().path(),
        )
        .map(drop)
    {
        Ok(()) => refusal,
        Err(unauthorized) => unauthorized,
    };
    let response = refuse(&refusal, Encoding::Protobuf);
    intake.observer().request(&observe::Request {
        transport: Transport::Http,
        signal: None,
        status: response.status().as_u16(),
        bytes: 0,
        duration: started.elapsed(),
        result: Err(refusal.refused()),
    });
    response
}
