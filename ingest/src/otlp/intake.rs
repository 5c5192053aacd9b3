//! One intake for both transports. Whatever a request came by, it is read under the same memory
//! budget and limits, its CPU-heavy steps (inflate, decode, repair, map) run off the async workers,
//! and it is refused for the same reasons with the same meaning (`Refusal`), which each transport
//! then says in its own words (an HTTP status, a gRPC code).

use super::Limits;
use crate::auth::{self, Auth, Throttled, Verdict};
use crate::batch::Batches;
use crate::decode::budget::{Budget, Charge, ChargedBuffer, Exhausted};
use crate::decode::{self, DecodeError, Encoding};
use crate::export::{self, Outcome, Signal};
use crate::map::own::Context;
use crate::observe::Observer;
use crate::projects::Projects;
use crate::write::{WriteError, Writer};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use bytes::Bytes;
use http_body_util::BodyExt;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// A request that was not taken, and what to tell its client.
#[derive(Debug)]
pub struct Refusal {
    pub http: StatusCode,
    pub grpc: tonic::Code,
    pub message: String,
    /// For a retryable refusal: how long the client should wait.
    pub retry_after_seconds: Option<u32>,
    /// PostgreSQL's SQLSTATE when the database caused it, for the operator's log (not the client).
    pub sqlstate: Option<String>,
}

impl Refusal {
    pub fn new(http: StatusCode, grpc: tonic::Code, message: impl Into<String>) -> Self {
        Self {
            http,
            grpc,
            message: message.into(),
            retry_after_seconds: None,
            sqlstate: None,
        }
    }

    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }

    /// The refusal as the operator's log tells it.
    pub fn refused(&self) -> crate::observe::Refused<'_> {
        crate::observe::Refused {
            message: &self.message,
            sqlstate: self.sqlstate.as_deref(),
        }
    }

    /// A missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            tonic::Code::Unauthenticated,
            auth::UNAUTHORIZED,
        )
    }

    /// Too many wrong tokens from the client's address: its token was not looked at. 429 (gRPC:
    /// RESOURCE_EXHAUSTED with RetryInfo) with when to try again.
    pub fn throttled(throttled: &Throttled) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            tonic::Code::ResourceExhausted,
            auth::throttled_message(throttled),
        )
        .retry_after(throttled.seconds())
    }
}

impl From<DecodeError> for Refusal {
    fn from(error: DecodeError) -> Self {
        let http = StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let refusal = |grpc| Refusal::new(http, grpc, error.to_string());
        match &error {
            // Retryable: the budget frees up as the requests in progress are answered.
            DecodeError::OverBudget(exhausted) if !exhausted.never_fits() => {
                refusal(tonic::Code::ResourceExhausted).retry_after(1)
            }
            DecodeError::UnsupportedEncoding(_) => refusal(tonic::Code::Unimplemented),
            // Too large, not OTLP, undecodable: the same bytes would fail again, so not retryable.
            _ => refusal(tonic::Code::InvalidArgument),
        }
    }
}

impl From<Exhausted> for Refusal {
    fn from(exhausted: Exhausted) -> Self {
        DecodeError::OverBudget(exhausted).into()
    }
}

impl From<WriteError> for Refusal {
    fn from(error: WriteError) -> Self {
        let mut refusal = Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            tonic::Code::Unavailable,
            error.to_string(),
        )
        .retry_after(5);
        refusal.sqlstate = error.sqlstate().map(String::from);
        refusal
    }
}

/// The largest uncompressed body decoded and mapped on the async worker that received it.
const INLINE_BYTES: usize = 64 << 10;

/// What both transports share: the writer, the limits, the tokens and projects, the memory budget,
/// the CPU, and the operator's log and metrics.
#[derive(Clone)]
pub struct Intake {
    writer: Writer,
    /// The lanes the writer is fed through: concurrent requests share transactions.
    batches: Batches,
    limits: Limits,
    auth: Auth,
    projects: Projects,
    budget: Budget,
    /// One turn per core for the CPU-heavy steps.
    cpu: Arc<Semaphore>,
    observer: Observer,
}

impl Intake {
    /// Starts the writer's lanes (`crate::batch`), so it needs a tokio runtime.
    pub fn new(writer: Writer, limits: Limits, auth: Auth, projects: Projects) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        Self {
            batches: Batches::start(&writer, limits.batch),
            writer,
            limits,
            auth,
            projects,
            budget: Budget::new(limits.max_inflight_bytes),
            cpu: Arc::new(Semaphore::new(cores)),
            observer: Observer::default(),
        }
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    pub fn batches(&self) -> &Batches {
        &self.batches
    }

    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn observer(&self) -> &Observer {
        &self.observer
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// The project a request with these headers (its `Authorization`, or gRPC's `authorization`)
    /// writes into, if it may write (`Auth::check_ingest`: a project's token writes into its
    /// project, the server's own into the default one); `extensions` say which client it came
    /// from (wrong tokens are counted per address), `path` what it asked for (for the log).
    pub fn authorize(
        &self,
        headers: &HeaderMap,
        extensions: &Extensions,
        path: &str,
    ) -> Result<i32, Refusal> {
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok());
        let peer = auth::peer(extensions);
        match self
            .auth
            .check_ingest(authorization, &self.projects, peer, path)
        {
            Ok(project) => Ok(project),
            Err(Verdict::Throttled(throttled)) => Err(Refusal::throttled(&throttled)),
            Err(_) => Err(Refusal::unauthorized()),
        }
    }

    pub fn projects(&self) -> &Projects {
        &self.projects
    }

    /// The whole body, read as it arrives, each piece held against the budget: at most
    /// `max_body_bytes`, within `max_body_read_time`.
    pub async fn read_body(
        &self,
        mut body: axum::body::Body,
        charge: &mut Charge,
    ) -> Result<Bytes, Refusal> {
        let limit = self.limits.max_body_bytes;
        let read = async {
            let mut buffer = ChargedBuffer::default();
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|error| {
                    Refusal::new(
                        StatusCode::BAD_REQUEST,
                        tonic::Code::InvalidArgument,
                        format!("reading the body: {error}"),
                    )
                })?;
                let Ok(data) = frame.into_data() else {
                    continue; // trailers
                };
                if buffer.len() + data.len() > limit {
                    return Err(DecodeError::TooLarge { limit }.into());
                }
                buffer.extend(&data, limit, charge)?;
            }
            Ok(buffer.into_bytes())
        };
        tokio::time::timeout(self.limits.max_body_read_time, read)
            .await
            .unwrap_or_else(|_| {
                Err(Refusal::new(
                    StatusCode::REQUEST_TIMEOUT,
                    tonic::Code::DeadlineExceeded,
                    format!(
                        "the body did not arrive within {:?}",
                        self.limits.max_body_read_time
                    ),
                ))
            })
    }

    /// The rest of a request of signal `S`: its body inflated, decoded and mapped (off the async
    /// workers, each step held against the budget before it allocates), then its rows written. Ok
    /// is the answer to send: everything not counted as rejected in it is committed.
    pub async fn store<S: Signal>(
        &self,
        body: Bytes,
        encoding: Encoding,
        content_encoding: Option<String>,
        mut charge: Charge,
        project_id: i32,
    ) -> Result<(S::Response, Outcome), Refusal> {
        let redaction = self.projects.redaction(project_id);
        let limit = self.limits.max_decompressed_bytes;
        // A small uncompressed body decodes and maps in microseconds: handing it to another thread
        // would cost more than it saves. A compressed one may inflate to the limit, so it goes.
        let identity = content_encoding
            .as_deref()
            .is_none_or(|e| e.trim().is_empty() || e.trim().eq_ignore_ascii_case("identity"));
        let small = identity && body.len() <= INLINE_BYTES;
        let decode_and_map = move || {
            let raw = decode::decompress(content_encoding.as_deref(), body, limit, &mut charge)?;
            let bytes = raw.len();
            // Decoding allocates the request and mapping its rows, each at most the bound.
            let bound = decode::decoded_size_bound::<S::Request>(encoding, &raw);
            charge.grow(bound.saturating_mul(2))?;
            let request: S::Request = decode::decode_request(encoding, &raw)?;
            drop(raw);
            let context = Context {
                project_id,
                redaction: &redaction,
            };
            Ok::<_, DecodeError>((S::map(&request, &context), bytes, charge))
        };
        let (mapped, bytes, charge) = if small {
            decode_and_map()?
        } else {
            self.on_cpu(decode_and_map).await??
        };
        let answer = export::export::<S>(&self.batches, mapped, bytes).await?;
        drop(charge);
        Ok(answer)
    }

    /// Runs `job` on tokio's blocking threads, one per core at a time, so the async workers go on
    /// accepting and answering while requests inflate, decode and map.
    async fn on_cpu<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let _turn = self.cpu.acquire().await.map_err(|_| internal("closed"))?;
        tokio::task::spawn_blocking(job)
            .await
            .map_err(|error| internal(&error.to_string()))
    }
}

/// A bug of ours (a panic while decoding): not retryable, the same request would fail again.
fn internal(why: &str) -> Refusal {
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        tonic::Code::Internal,
        format!("internal error while reading the request: {why}"),
    )
}
