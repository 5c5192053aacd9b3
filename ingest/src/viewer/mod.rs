//! The web viewer: `agent-trace serve` and `up` serve it at `/` on the OTLP/HTTP port. It is the
//! front end built from `viewer/` (embedded in the binary, `assets`) and a JSON API under `/api`
//! (`api`, with live updates in `live`) that reads through the extension's SQL API alone:
//! `agent_traces`, `trace_tree`, `critical_path`, `agent_turns`, `diff_traces`/`diff_summary`,
//! `replay`/`replay_json`, `agent_sessions`, `agent_logs` and `agent_metric_deltas`, with every
//! statement in `sql/viewer/*.sql` (`crate::read::queries`).
//!
//! What it must not do: write anything, or run SQL a user typed. Its own connection pool
//! (`crate::read`) runs read-only transactions as `agent_trace_reader` when the login role may, and
//! every value from a request is a bind parameter. It must not touch the data path either (`otlp`, `decode`,
//! `map`, `write`): `crate::server` gives it the HTTP listener, the bearer token (`crate::auth`;
//! `login` adds a session cookie for browsers, `session`) and the stop signal it shares with OTLP/HTTP.

mod api;
mod assets;
mod live;
mod login;
mod session;
mod state;

pub use state::{Viewer, ViewerConfig};

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};
use tokio::sync::watch;

impl Viewer {
    /// The viewer's routes, to merge into the OTLP/HTTP router. `stop` (true once the server
    /// stops) ends the live streams, so that a graceful shutdown is not held open by a browser tab.
    pub fn router(&self, stop: watch::Receiver<bool>) -> Router {
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
