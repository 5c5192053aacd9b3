//! What the service knows of projects (extension/sql/projects.sql): which ingest token belongs to
//! which project, and how each project redacts its content. The database is the source: the server
//! reads it every few seconds (`server::refresh_projects`, through the writer) and replaces the
//! snapshot here whole, so a token revoked in SQL stops working within that time.
//!
//! A token is known by its SHA-256, as the database stores it; tokens given to the server itself
//! (`--token`, `--token-file`) belong to the default project.

use crate::map::redact::{Overrides, Redaction};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The SHA-256 of a token.
pub type TokenDigest = [u8; 32];

/// One reading of the database: the tokens it holds, and the projects with their own redaction.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    pub tokens: Vec<(TokenDigest, i32)>,
    pub redactions: Vec<(i32, serde_json::Value)>,
}

#[derive(Default)]
struct Snapshot {
    tokens: HashMap<TokenDigest, i32>,
    redactions: HashMap<i32, Arc<Redaction>>,
}

/// The tokens and redactions in force, shared by both transports.
#[derive(Clone)]
pub struct Projects {
    /// The server's own redaction (flags), which projects override.
    server: Arc<Redaction>,
    snapshot: Arc<RwLock<Arc<Snapshot>>>,
}

impl Projects {
    pub fn new(server: Redaction) -> Self {
        Self {
            server: Arc::new(server),
            snapshot: Arc::default(),
        }
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The project of a token the database holds (by its SHA-256), if it holds it.
    pub fn project_of(&self, digest: &TokenDigest) -> Option<i32> {
        self.current().tokens.get(digest).copied()
    }

    /// Whether the database holds any token (then every request needs one).
    pub fn has_tokens(&self) -> bool {
        !self.current().tokens.is_empty()
    }

    /// How `project` redacts: its own settings over the server's, else the server's.
    pub fn redaction(&self, project: i32) -> Arc<Redaction> {
        self.current()
            .redactions
            .get(&project)
            .cloned()
            .unwrap_or_else(|| self.server.clone())
    }

    /// Takes a new reading whole. A project whose settings cannot apply (unknown keys, hashing
    /// without the server's key) is redacted by dropping its content, the safe side, and the
    /// returned list says which and why, for the log.
    pub fn replace(&self, directory: Directory) -> Vec<String> {
        let mut problems = Vec::new();
        let mut redactions = HashMap::new();
        for (project, settings) in directory.redactions {
            let applied = serde_json::from_value::<Overrides>(settings)
                .map_err(|e| e.to_string())
                .and_then(|overrides| self.server.with(&overrides));
            let redaction = applied.unwrap_or_else(|why| {
                problems.push(format!("project {project}: {why}; its content is dropped"));
                let drop = Overrides {
                    content: Some("drop".into()),
                    keys: Vec::new(),
                };
                self.server
                    .with(&drop)
                    .unwrap_or_else(|_| unreachable!("dropping needs no key"))
            });
            redactions.insert(project, Arc::new(redaction));
        }
        let snapshot = Snapshot {
            tokens: directory.tokens.into_iter().collect(),
            redactions,
        };
        *self.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(snapshot);
        problems
    }
}

impl Default for Projects {
    fn default() -> Self {
        Self::new(Redaction::keep())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::redact::Content;
    use serde_json::json;

    #[test]
    fn a_reading_replaces_tokens_and_redactions_whole() {
        let projects = Projects::default();
        assert_eq!(projects.project_of(&[1; 32]), None);
        assert!(!projects.has_tokens());
        let problems = projects.replace(Directory {
            tokens: vec![([1; 32], 2), ([2; 32], 3)],
            redactions: vec![
                (2, json!({"content": "drop"})),
                (3, json!({"content": "hash"})),
                (4, json!({"colour": "red"})),
            ],
        });
        assert_eq!(projects.project_of(&[1; 32]), Some(2));
        assert_eq!(projects.redaction(2).content(), Content::Drop);
        assert_eq!(projects.redaction(1).content(), Content::Keep);
        // Hashing without the server's key, or unknown settings: dropped, and said.
        assert_eq!(projects.redaction(3).content(), Content::Drop);
        assert_eq!(projects.redaction(4).content(), Content::Drop);
        assert_eq!(problems.len(), 2, "{problems:?}");
        projects.replace(Directory::default());
        assert_eq!(projects.project_of(&[1; 32]), None);
        assert_eq!(projects.redaction(2).content(), Content::Keep);
    }
}
