//! OTLP/gRPC, the default protocol of most SDKs, on its own port: the `Export` method of
//! `opentelemetry.proto.collector.{trace,logs,metrics}.v1.*Service`. A unary gRPC call is an HTTP/2
//! POST whose body is one message behind a 5-byte prefix (compressed or not, and its length), and
//! whose answer ends with a `grpc-status` trailer. Reading that body ourselves, rather than through
//! a generated server, puts gRPC through the same intake as OTLP/HTTP: the same memory budget from
//! the first byte, the same gzip limit while inflating, the same decoder (invalid UTF-8 repaired
//! instead of failing the whole request) and the same limits. Errors are `tonic::Status`es, which
//! gRPC clients read from the trailers; a retryable RESOURCE_EXHAUSTED carries `RetryInfo`, without
//! which OTLP clients do not retry it.

use super::intake::{Intake, Refusal};
use crate::decode::Encoding;
use crate::export::{Logs, Metrics, Outcome, Signal, Traces};
use crate::observe::{self, Transport};
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::post;
use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::StreamBody;
use prost::Message;
use std::time::Instant;

pub fn router(intake: Intake) -> Router {
    Router::new()
        .route(Traces::GRPC_PATH, post(unary_call::<Traces>))
        .route(Logs::GRPC_PATH, post(unary_call::<Logs>))
        .route(Metrics::GRPC_PATH, post(unary_call::<Metrics>))
        .fallback(unimplemented)
        .with_state(intake)
}

async fn unary_call<S: Signal>(State(intake): State<Intake>, request: Request) -> Response {
    let started = Instant::now();
    let mut bytes = 0;
    let result = receive::<S>(&intake, request, &mut bytes).await;
    let (response, status) = match &result {
        Ok((answer, _)) => (ok(answer.encode_to_vec()), 200),
        Err(refusal) => (status(refusal), refusal.http.as_u16()),
    };
    intake.observer().request(&observe::Request {
        transport: Transport::Grpc,
        signal: Some(S::NAME),
        status,
        bytes,
        duration: started.elapsed(),
        result: match &result {
            Ok((_, outcome)) => Ok(outcome),
            Err(refusal) => Err(refusal.refused()),
        },
    });
    response
}

async fn receive<S: Signal>(
    intake: &Intake,
    request: Request,
    bytes: &mut usize,
) -> Result<(S::Response, Outcome), Refusal> {
    let (parts, body) = request.into_parts();
    let project = intake.authorize(&parts.headers, &parts.extensions, parts.uri.path())?;
    let content_type = header_str(&parts.headers, "content-type").unwrap_or_default();
    if !(content_type == "application/grpc" || content_type.starts_with("application/grpc+proto")) {
        return Err(invalid(format!(
            "content-type {content_type:?} is not application/grpc"
        )));
    }
    let mut charge = intake.budget().charge();
    let body = intake.read_body(body, &mut charge).await?;
    *bytes = body.len();
    let (compressed, message) = one_message(body)?;
    let content_encoding = match (compressed, header_str(&parts.headers, "grpc-encoding")) {
        (false, _) => None,
        (true, Some(encoding)) => Some(encoding.to_string()),
        (true, None) => return Err(invalid("a compressed message without grpc-encoding".into())),
    };
    let answer = intake.store::<S>(
        message,
        Encoding::Protobuf,
        content_encoding,
        charge,
        project,
    );
    let deadline = intake.limits().request_timeout;
    tokio::time::timeout(deadline, answer)
        .await
        .unwrap_or_else(|_| {
            Err(Refusal::new(
                axum::http::StatusCode::GATEWAY_TIMEOUT,
                tonic::Code::DeadlineExceeded,
                format!("not answered within {deadline:?}; nothing was committed"),
            ))
        })
}

/// The one length-prefixed message of a unary call: (compressed?, the message).
fn one_message(mut body: Bytes) -> Result<(bool, Bytes), Refusal> {
    if body.len() < 5 {
        return Err(invalid(
            "the body is not a length-prefixed gRPC message".into(),
        ));
    }
    let compressed = match body[0] {
        0 => false,
        1 => true,
        flag => return Err(invalid(format!("unknown gRPC message flag {flag}"))),
    };
    let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let message = body.split_off(5);
    if message.len() != length {
        return Err(invalid(format!(
            "the message prefix says {length} bytes, {} arrived (a unary call sends one message)",
            message.len()
        )));
    }
    Ok((compressed, message))
}

fn invalid(message: String) -> Refusal {
    Refusal::new(
        axum::http::StatusCode::BAD_REQUEST,
        tonic::Code::InvalidArgument,
        message,
    )
}

/// A successful answer: the message behind its prefix, then the `grpc-status: 0` trailer.
fn ok(message: Vec<u8>) -> Response {
    let mut framed = BytesMut::with_capacity(5 + message.len());
    framed.put_u8(0);
    framed.put_u32(message.len() as u32);
    framed.put_slice(&message);
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let frames = [
        Ok::<_, std::convert::Infallible>(http_body::Frame::data(framed.freeze())),
        Ok(http_body::Frame::trailers(trailers)),
    ];
    let mut response = Response::new(Body::new(StreamBody::new(futures_util::stream::iter(
        frames,
    ))));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// A refusal as gRPC says it (a "trailers-only" answer). Retryable ones carry `RetryInfo`.
fn status(refusal: &Refusal) -> Response {
    let status = match refusal.retry_after_seconds {
        Some(seconds) => tonic::Status::with_details(
            refusal.grpc,
            refusal.message.clone(),
            retry_info(refusal, seconds),
        ),
        None => tonic::Status::new(refusal.grpc, refusal.message.clone()),
    };
    status.into_http::<Body>()
}

/// The refusal as a `google.rpc.Status` (gRPC clients check that its code is the call's) with a
/// `google.rpc.RetryInfo { retry_delay }` in its details.
fn retry_info(refusal: &Refusal, seconds: u32) -> Bytes {
    let retry = RetryInfo {
        retry_delay: Some(ProtoDuration {
            seconds: i64::from(seconds),
            nanos: 0,
        }),
    };
    let status = RpcStatus {
        code: refusal.grpc as i32,
        message: refusal.message.clone(),
        details: vec![ProtoAny {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
            value: retry.encode_to_vec(),
        }],
    };
    Bytes::from(status.encode_to_vec())
}

/// A method we do not serve: UNIMPLEMENTED, but UNAUTHENTICATED first to a call without the token.
async fn unimplemented(State(intake): State<Intake>, request: Request) -> Response {
    let started = Instant::now();
    let refusal = match intake
        .authorize(
            request.headers(),
            request.extensions(),
            request.uri().path(),
        )
        .map(drop)
    {
        Ok(()) => Refusal::new(
            axum::http::StatusCode::NOT_FOUND,
            tonic::Code::Unimplemented,
            format!(
                "no OTLP service at {}; this port serves the Export methods of TraceService, \
                 LogsService and MetricsService",
                request.uri().path()
            ),
        ),
        Err(unauthorized) => unauthorized,
    };
    intake.observer().request(&observe::Request {
        transport: Transport::Grpc,
        signal: None,
        status: refusal.http.as_u16(),
        bytes: 0,
        duration: started.elapsed(),
        result: Err(refusal.refused()),
    });
    status(&refusal)
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// `google.rpc.Status` with its details (the body of `grpc-status-details-bin`).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAny {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct ProtoDuration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}
