//! OTLP/HTTP: `POST /v1/traces`, `/v1/logs`, `/v1/metrics` -> intake (decode, map, write) -> reply,
//! as `docs/otlp-server-contract.md` describes. The three paths are one handler, `post_signal`, over
//! `export::Signal`: same limits, status codes and error bodies.
//!
//! A 200 means every span, log record or data point not counted as rejected in `partial_success`
//! is committed. When the database cannot take the batch the answer is 503 with Retry-After, and
//! when the memory budget for requests in progress is spent it is 429 with Retry-After: both make
//! OTLP clients retry, where a 500 would make them drop the data. Every non-2xx body is a
//! `google.rpc.Status` in the request's encoding. The token is checked before anything else.

use super::decode::{self, Encoding, Status};
use super::intake::{Intake, Refusal};
use crate::export::{Logs, Metrics, Signal, Traces};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub fn router(intake: Intake) -> Router {
    Router::new()
        .route(Traces::PATH, post(post_signal::<Traces>))
        .route(Logs::PATH, post(post_signal::<Logs>))
        .route(Metrics::PATH, post(post_signal::<Metrics>))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(intake)
}

/// A refusal as a `google.rpc.Status` in `encoding`, with Retry-After when it is retryable.
fn refuse(refusal: Refusal, encoding: Encoding) -> Response {
    let body = decode::encode_message(
        encoding,
        &Status {
            code: refusal.grpc as i32,
            message: refusal.message,
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
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    // Until the Content-Type is known to be ours, refusals are answered in protobuf, OTLP's default.
    if let Err(refusal) = intake.authorize(header_str(&headers, header::AUTHORIZATION)) {
        return refuse(refusal, Encoding::Protobuf);
    }
    let encoding = match decode::encoding_of(header_str(&headers, header::CONTENT_TYPE)) {
        Ok(encoding) => encoding,
        Err(error) => return refuse(error.into(), Encoding::Protobuf),
    };
    let mut charge = intake.budget().charge();
    let received = match intake.read_body(body, &mut charge).await {
        Ok(received) => received,
        Err(refusal) => return refuse(refusal, encoding),
    };
    let content_encoding = header_str(&headers, header::CONTENT_ENCODING).map(String::from);
    match intake
        .export::<S>(received, encoding, content_encoding, charge)
        .await
    {
        Ok(answer) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, encoding.content_type())],
            decode::encode_message(encoding, &answer),
        )
            .into_response(),
        Err(refusal) => refuse(refusal, encoding),
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

async fn not_found(request: Request) -> Response {
    let message = format!(
        "no OTLP endpoint at {}; POST traces to /v1/traces, logs to /v1/logs, metrics to /v1/metrics",
        request.uri().path()
    );
    refuse(
        Refusal::new(StatusCode::NOT_FOUND, tonic::Code::Unimplemented, message),
        Encoding::Protobuf,
    )
}

async fn method_not_allowed() -> Response {
    refuse(
        Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            tonic::Code::Unimplemented,
            "use POST",
        ),
        Encoding::Protobuf,
    )
}
