//! The web viewer: `agent-trace serve` and `up` serve it at `/` on the OTLP/HTTP port. It is the
//! front end built from `viewer/` (embedded in the binary, `assets`) and a JSON API under `/api`
//! (`api`, with live updates in `live`) that reads through the extension's SQL API alone:
//! `agent_traces`, `trace_tree`, `critical_path`, `agent_turns`, `diff_traces`/`diff_summary`,
//! `replay`/`replay_json`, `agent_sessions`, `agent_logs`, `agent_metric_deltas`, `agent_scores`
//! and `agent_trace_scores`, with every statement in `sql/viewer/*.sql` (`crate::read::queries`).
//!
//! What it must not do: write anything through its own pool, or run SQL a user typed. Its own
//! connection pool (`crate::read`) runs read-only transactions as `agent_trace_reader` when the login role
//! may, and every value from a request is a bind parameter. The one write it takes, a person's
//! score (`scores`), it hands to the writer `crate::server` lends it. It must not touch the data
//! path either (`otlp`, `decode`, `map`, `write`): `crate::server` gives it the HTTP listener, the
//! bearer token (`crate::auth`; `login` adds a session cookie for browsers, `session`), the
//! projects' tokens, the score writer and the stop signal it shares with OTLP/HTTP.

mod api;
mod assets;
mod live;
mod login;
mod scores;
mod session;
mod state;

pub use state::{AddScore, NewScore, StoreFailure, Viewer, ViewerConfig};

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
        // Scores take a project's token too, so they check who asks themselves (`login::scorer`).
        let scoring = Router::new().route("/api/traces/{trace_id}/scores", post(scores::add));
        Router::new()
            .route("/login", get(login::page).post(login::log_in))
            .route("/logout", post(login::log_out))
            .merge(scoring)
            .merge(protected)
            .with_state(viewer)
    }
}
