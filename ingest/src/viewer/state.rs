//! The viewer's shared state: its read-only pool, the token it asks for and the login sessions, and
//! how `serve` starts it; what it needs to take a person's score (the projects' tokens, and the
//! writer `serve` lends it).

use super::session::Sessions;
use crate::auth::Auth;
use crate::postgres::Password;
use crate::projects::Projects;
use crate::read::{Db, queries};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;

/// A score to store (`scores`), checked, with the project the viewer found its trace in.
#[derive(Debug, Clone, PartialEq)]
pub struct NewScore {
    pub trace_id: String,
    pub span_id: Option<String>,
    pub name: String,
    pub value: Option<f64>,
    pub label: Option<String>,
    pub explanation: Option<String>,
    pub scorer: Option<String>,
    /// Always `human`: a person gave it, in the viewer.
    pub source: &'static str,
    /// The project's name.
    pub project: String,
    pub score_key: Option<String>,
}

/// Why the writer stored nothing: the database's SQLSTATE (None: it could not be reached) and its
/// message.
#[derive(Debug)]
pub struct StoreFailure {
    pub sqlstate: Option<String>,
    pub message: String,
}

/// Stores a score and gives its key: `crate::server` hands the viewer this, over the ingest's writer.
pub type AddScore = Arc<
    dyn Fn(NewScore) -> Pin<Box<dyn Future<Output = Result<String, StoreFailure>> + Send>>
        + Send
        + Sync,
>;

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
    pub(super) db: Db,
    pub(super) auth: Auth,
    /// The browsers logged in (`login`).
    pub(super) sessions: Sessions,
    /// The port speaks TLS: the session cookie is `Secure` and `__Host-` prefixed.
    pub(super) secure_cookies: bool,
    /// True once the server stops: live streams end then.
    pub(super) stop: Option<watch::Receiver<bool>>,
    /// The projects' tokens, which may add scores to their projects' traces.
    pub(super) projects: Projects,
    /// Stores a score through the ingest's writer; None: the viewer takes no scores.
    pub(super) add_score: Option<AddScore>,
}

/// Who reads, in the pool's messages.
const WHO: &str = "viewer";

impl Viewer {
    /// Connects the viewer's read-only pool to `database_url` (with `password` in place of the
    /// URL's, if given) and checks it can read.
    pub async fn connect(
        database_url: &str,
        password: Option<&Password>,
        auth: Auth,
    ) -> Result<Self, String> {
        let db = Db::connect(database_url, password, &queries::CAN_READ, WHO).await?;
        Ok(Self::with(db, auth))
    }

    fn with(db: Db, auth: Auth) -> Self {
        Self {
            db,
            auth,
            sessions: Sessions::default(),
            secure_cookies: false,
            stop: None,
            projects: Projects::default(),
            add_score: None,
        }
    }

    /// Lets people add scores (`POST /api/traces/ID/scores`): stored by `add_score` (the ingest's
    /// writer; the viewer's own pool stays read-only), with the projects' tokens `projects` knows
    /// scoring their own projects' traces.
    pub fn with_scoring(mut self, projects: Projects, add_score: AddScore) -> Self {
        self.projects = projects;
        self.add_score = Some(add_score);
        self
    }

    /// Served over TLS (`--tls-cert`): login cookies are then `Secure`, named `__Host-...`.
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    /// The viewer as `serve` runs it: None when it is turned off, or when it would read with the
    /// ingest's own login (its URL and password) and that login may not read (a writer-only
    /// role): the ingest must not stop for the viewer, so it serves OTLP alone and says how to turn
    /// the viewer on. A database URL given for the viewer itself must work.
    pub async fn start(
        config: Option<&ViewerConfig>,
        ingest_database_url: &str,
        ingest_password: Option<&Password>,
        auth: Auth,
    ) -> Result<Option<Self>, String> {
        let Some(config) = config else {
            return Ok(None);
        };
        let db = Db::start(
            config.database_url.as_deref(),
            ingest_database_url,
            ingest_password,
            &queries::CAN_READ,
            WHO,
        )
        .await?;
        Ok(db.map(|db| Self::with(db, auth)))
    }
}
