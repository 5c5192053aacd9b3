//! The web viewer: `agent-trace serve` and `up` serve it at `/` on the OTLP/HTTP port. It is the
//! front end built from `viewer/` (embedded in the binary, `assets`) and a JSON API under `/api`
//! (`api`, with live updates in `live`) that reads through the extension's SQL API alone:
//! `agent_traces`, `trace_tree`, `critical_path`, `agent_turns`, `diff_traces`/`diff_summary`,
//! `replay`/`replay_json`, `agent_sessions`, `agent_logs` and `agent_metric_deltas`, with every
//! statement in `sql/viewer/*.sql` (`queries`).
//!
//! What it must not do: write anything, or run SQL a user typed. Its own connection pool (`db`)
//! runs read-only transactions as `agent_trace_reader` when the login role may, and every value
//! from a request is a bind parameter. It must not touch the data path either (`otlp`'s decoding,
//! `map`, `write`): it shares only the HTTP listener, the bearer token (`login` adds a cookie for
//! browsers) and the stop signal with OTLP/HTTP.

mod api;
mod assets;
mod db;
mod live;
mod login;
mod queries;

use crate::otlp::{Auth, Stop};
use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use db::Db;

/// How `serve` runs the viewer.
#[derive(Debug, Clone, Default)]
pub struct ViewerConfig {
    /// The database the viewer reads, e.g. with a login role that has only agent_trace_reader;
    /// None: the ingest's database URL.
    pub database_url: Option<String>,
}

/// The viewer's shared state: its read-only pool and the token (if any) it asks for.
#[derive(Clone)]
pub struct Viewer {
    db: Db,
    auth: Auth,
    stop: Option<Stop>,
}

impl Viewer {
    /// Connects the viewer's read-only pool to `database_url` and checks it can read.
    pub async fn connect(database_url: &str, auth: Auth) -> Result<Self, String> {
        let db = Db::connect(database_url).await?;
        Ok(Self {
            db,
            auth,
            stop: None,
        })
    }

    /// The viewer as `serve` runs it: None when it is turned off, or when it would read with the
    /// ingest's own login and that login may not read (a writer-only role): the ingest must not stop
    /// for the viewer, so it serves OTLP alone and says how to turn the viewer on. A database URL
    /// given for the viewer itself must work.
    pub async fn start(
        config: Option<&ViewerConfig>,
        ingest_database_url: &str,
        auth: Auth,
    ) -> Result<Option<Self>, String> {
        let Some(config) = config else {
            return Ok(None);
        };
        match &config.database_url {
            Some(url) => Self::connect(url, auth).await.map(Some),
            None => match Self::connect(ingest_database_url, auth).await {
                Ok(viewer) => Ok(Some(viewer)),
                Err(error) => {
                    eprintln!("agent-trace: serving without the viewer: {error}");
                    Ok(None)
                }
            },
        }
    }

    /// The viewer's routes, to merge into the OTLP/HTTP router. `stop` ends the live streams, so
    /// that a graceful shutdown is not held open by a browser tab.
    pub fn router(&self, stop: Stop) -> Router {
        let viewer = Viewer {
            stop: Some(stop),
            ..self.clone()
        };
        let protected = Router::new()
            .route("/", get(assets::app_page))
            .route("/traces/{trace_id}", get(assets::app_page))
            .route("/replay/{trace_id}", get(assets::app_page))
            .route("/diff", get(assets::app_page))
            .route("/sessions", get(assets::app_page))
            .route("/assets/{file}", get(assets::asset))
            .merge(api::routes())
            .route("/api/live", get(live::stream))
            .route_layer(middleware::from_fn_with_state(
                viewer.clone(),
                login::require_token,
            ));
        Router::new()
            .route("/login", get(login::page).post(login::log_in))
            .route("/logout", post(login::log_out))
            .merge(protected)
            .with_state(viewer)
    }
}
