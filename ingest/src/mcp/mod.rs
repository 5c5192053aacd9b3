//! The MCP server at `/mcp` on the OTLP/HTTP port: tools with which an agent or an IDE assistant
//! reads traces itself (`tools`: find traces, a trace as a tree, a span, two traces' diff, a
//! session, scores), adds a score, and runs read-only SQL (`sql`). The Model Context Protocol, its
//! Streamable HTTP transport and the tools' schemas are the official Rust SDK's (rmcp), served
//! stateless: every POST is answered on its own, with the token checked on each.
//!
//! What it may and may not do: read through a read-only pool of its own (`crate::read`), the
//! viewer's login unless told otherwise; write nothing but scores, through the `ScoreWriter`
//! `crate::server` hands it (the ingest's writer and its login); and never run SQL from a request
//! except in the query tool's read-only transaction. It must not touch the data path or the viewer:
//! `crate::server` gives it the tokens (`crate::auth`), the projects' tokens (`crate::projects`),
//! the writer of scores and the stop signal. The guard in front of the whole port
//! (`crate::server::guard`) refuses web pages of other origins, as the MCP specification asks of a
//! server (DNS rebinding).
//!
//! Tokens: the server's own, as for the viewer; a project's ingest token reaches `add_score` alone,
//! for its project's traces. A request without a right token is 401 before anything is read.

mod queries;
mod shape;
mod sql;
mod state;
mod tools;

pub use state::{McpConfig, NewScore, ScoreRefusal, ScoreWriter};

use crate::auth::{self, Auth, Verdict};
use crate::postgres::Password;
use crate::projects::Projects;
use crate::read::Db;
use axum::Router;
use axum::extract::{Request, State as Extract};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::never::NeverSessionManager,
};
use serde_json::json;
use state::{Caller, State};
use std::sync::Arc;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tools::Tools;

/// Where the MCP server answers.
pub const PATH: &str = "/mcp";
/// Who reads, in the read pool's messages.
const WHO: &str = "MCP server";
/// The largest request body: a tool call's arguments (a SQL statement, a score's explanation).
const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Query tool calls that may run at once, each on a connection of its own.
const SQL_SLOTS: usize = 4;

/// The MCP server: its state, its tokens and its tools.
#[derive(Clone)]
pub struct Mcp {
    state: Arc<State>,
    auth: Auth,
    projects: Projects,
    tools: rmcp::handler::server::router::tool::ToolRouter<Tools>,
}

impl Mcp {
    /// The MCP server as `serve` runs it: None when it is turned off, or when it would read with
    /// the ingest's own login and that login may not read (it then says how to turn it on). A
    /// database URL given for it must work.
    pub async fn start(
        config: Option<&McpConfig>,
        ingest_database_url: &str,
        ingest_password: Option<&Password>,
        auth: Auth,
        projects: Projects,
        scores: ScoreWriter,
    ) -> Result<Option<Self>, String> {
        let Some(config) = config else {
            return Ok(None);
        };
        let Some(db) = Db::start(
            config.database_url.as_deref(),
            ingest_database_url,
            ingest_password,
            &queries::CAN_READ,
            WHO,
        )
        .await?
        else {
            return Ok(None);
        };
        match sql::why_off(&db).await {
            Ok(None) => {
                tracing::info!("the MCP server's query tool runs SQL as its login, read-only")
            }
            Ok(Some(why)) => tracing::warn!("{why}"),
            Err(error) => tracing::warn!(
                "could not tell whether the MCP server's query tool may run SQL: {}",
                error.to_json()
            ),
        }
        Ok(Some(Self::new(db, config.clone(), auth, projects, scores)))
    }

    fn new(db: Db, config: McpConfig, auth: Auth, projects: Projects, scores: ScoreWriter) -> Self {
        Self {
            state: Arc::new(State {
                db,
                scores,
                config,
                sql_slots: Semaphore::new(SQL_SLOTS),
            }),
            auth,
            projects,
            tools: Tools::router(),
        }
    }

    /// The route `/mcp`, to merge into the OTLP/HTTP router, behind the token. `stop` (true once
    /// the server stops) ends what the SDK holds open.
    pub fn router(&self, mut stop: watch::Receiver<bool>) -> Router {
        let cancel = CancellationToken::new();
        let on_stop = cancel.clone();
        tokio::spawn(async move {
            let _ = stop.wait_for(|stop| *stop).await;
            on_stop.cancel();
        });
        // Stateless, answered as JSON: no session to keep, and nothing held open between calls.
        // Host and Origin are the guard's (crate::server::guard), for every path of the port alike.
        let mut config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_cancellation_token(cancel);
        config.max_request_body_bytes = MAX_BODY_BYTES;
        let (state, tools) = (self.state.clone(), self.tools.clone());
        let service = StreamableHttpService::new(
            move || Ok(Tools::new(state.clone(), tools.clone())),
            Arc::new(NeverSessionManager::default()),
            config,
        );
        Router::new()
            .route_service(PATH, service)
            .route_layer(middleware::from_fn_with_state(self.clone(), require_token))
    }
}

/// A request refused before the protocol: the HTTP status, and a JSON-RPC error (id null, the
/// request unread) whose message MCP clients show, where a bare status would leave them to guess.
fn refusal(status: StatusCode, message: &str) -> Response {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32001, "message": format!("{message} (HTTP {})", status.as_u16())},
    });
    let mut response = (status, axum::Json(body)).into_response();
    // The request's body is left unread: the connection ends with this answer, and says so, so that
    // a client does not send its next request on a connection the server is closing (seen once
    // under load: "Server disconnected without sending a response" in the Python SDK).
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Lets a request through with the server's token or a project's (and says whose, `Caller`), or
/// when the server has no token; else 401, or 429 for an address that sent too many wrong tokens
/// (its token unread).
async fn require_token(Extract(mcp): Extract<Mcp>, mut request: Request, next: Next) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let peer = auth::peer(request.extensions());
    match mcp
        .auth
        .check_bearer(authorization, &mcp.projects, peer, request.uri().path())
    {
        Ok(bearer) => {
            request.extensions_mut().insert(Caller(bearer));
            next.run(request).await
        }
        Err(Verdict::Throttled(throttled)) => {
            let mut response = refusal(
                StatusCode::TOO_MANY_REQUESTS,
                &auth::throttled_message(&throttled),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(throttled.seconds()));
            response
        }
        Err(_) => {
            let mut response = refusal(
                StatusCode::UNAUTHORIZED,
                &format!("{}: send Authorization: Bearer TOKEN", auth::UNAUTHORIZED),
            );
            // RFC 6750: the scheme this server takes.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"agent-trace\""),
            );
            response
        }
    }
}
