//! The operator's endpoints, on the OTLP/HTTP port next to `/v1/*`:
//!
//! - `GET /health`: 200 while the process serves (a liveness probe). Says nothing else.
//! - `GET /ready`: 200 when a request could be stored now: a database connection comes within two
//!   seconds and the extension is there at this binary's version; else 503 with which of the two
//!   failed (the database's own words go to the log, not to an unauthenticated caller).
//! - `GET /metrics`: the service's metrics in Prometheus' text format (`crate::observe`). They
//!   count requests and rows, not their content, but they tell how busy the service is: with a
//!   token configured, /metrics asks for it like the OTLP paths do (a Prometheus scrape config
//!   sets `authorization: {credentials: TOKEN}`).
//!
//! /health and /ready need no token: load balancers and compose healthchecks call them, and they
//! reveal nothing an unauthenticated caller could not learn by connecting.

use crate::observe::Gauges;
use crate::otlp::intake::Intake;
use crate::write::StartupError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;

/// How long /ready waits for a database connection.
const READY_WAIT: Duration = Duration::from_secs(2);

pub fn router(intake: Intake) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(intake)
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn health() -> Response {
    json(StatusCode::OK, serde_json::json!({"status": "ok"}))
}

async fn ready(State(intake): State<Intake>) -> Response {
    match intake.writer().ready(READY_WAIT).await {
        Ok(()) => json(
            StatusCode::OK,
            serde_json::json!({"status": "ready", "extension": crate::write::EXTENSION_VERSION}),
        ),
        Err(error) => {
            tracing::warn!(target: "agent_trace::ready", error = %error, "not ready");
            let reason = match &error {
                StartupError::ExtensionMissing { .. } => {
                    "the agent_trace extension is not created in the database".to_string()
                }
                StartupError::ExtensionVersion { installed } => format!(
                    "the database has agent_trace {installed}, this agent-trace needs {}",
                    crate::write::EXTENSION_VERSION
                ),
                _ => "the database cannot be reached (see the service's log)".to_string(),
            };
            json(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not ready", "reason": reason}),
            )
        }
    }
}

async fn metrics(State(intake): State<Intake>, request: Request) -> Response {
    if let Err(refusal) = intake.authorize(
        request.headers(),
        request.extensions(),
        request.uri().path(),
    ) {
        let mut response = (refusal.http, refusal.message).into_response();
        let headers = response.headers_mut();
        if refusal.http == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = refusal.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        return response;
    }
    let pool = intake.writer().pool_status();
    let gauges = Gauges {
        inflight_bytes: intake.budget().in_use(),
        connections_in_use: pool.size.saturating_sub(pool.available),
        connections_idle: pool.available,
        connections_max: pool.max_size,
        waiting: pool.waiting,
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        intake.observer().encode(&gauges),
    )
        .into_response()
}
