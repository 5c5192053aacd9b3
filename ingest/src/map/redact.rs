//! Redaction at ingest: what is kept of content (prompts, completions, messages, tool arguments and
//! results) before a row is written. Pure: rows in, rows out.
//!
//! Content is the value of every attribute whose key matches a pattern (`keys::CONTENT`, plus the
//! server's and the project's own), in span attributes, span event attributes, log record and
//! metric point attributes, and the attributes of the resource that sent them (a CLI's command line
//! holds its prompt); and the columns mapped from those keys: `input` and `output` of spans, `body`
//! of log records, `explanation` of scores. Each is kept, dropped (the key goes, the column is NULL), or replaced by
//! a keyed hash, `hmac-sha256:` and 64 hex digits: HMAC-SHA-256 under the server's secret key, so
//! equal values hash equal (prompts still group and join) but nobody without the key can test a
//! guess against them. Typed columns that are not content (model, tokens, session, ...) are mapped
//! before this and stay.

use super::keys::CONTENT;
use super::logs::LogRow;
use super::metrics::MetricRow;
use super::scores::ScoreRow;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::sync::Arc;

/// What happens to content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Keep,
    Drop,
    Hash,
}

impl std::str::FromStr for Content {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "keep" => Ok(Content::Keep),
            "drop" => Ok(Content::Drop),
            "hash" => Ok(Content::Hash),
            other => Err(format!(
                "content redaction {other:?}: use keep, drop or hash"
            )),
        }
    }
}

/// What happens to one attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Keep,
    Drop,
    Hash,
}

/// How content is redacted for one project.
#[derive(Clone)]
pub struct Redaction {
    content: Content,
    /// Patterns beyond `keys::CONTENT`.
    extra_keys: Arc<[String]>,
    /// The HMAC key of `Content::Hash`.
    hash_key: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for Redaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redaction")
            .field("content", &self.content)
            .field("extra_keys", &self.extra_keys)
            .field("hash_key", &self.hash_key.as_ref().map(|_| ".."))
            .finish()
    }
}

/// A project's own settings (agent_trace.projects.redaction), over the server's.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    pub content: Option<String>,
    #[serde(default)]
    pub keys: Vec<String>,
}

/// The smallest HMAC key accepted: 128 bits.
pub const MIN_HASH_KEY_BYTES: usize = 16;

impl Default for Redaction {
    fn default() -> Self {
        Self::keep()
    }
}

impl Redaction {
    /// Everything kept.
    pub fn keep() -> Self {
        Self {
            content: Content::Keep,
            extra_keys: Arc::from([]),
            hash_key: None,
        }
    }

    /// `content` for the default content keys and `extra_keys`; `hash_key` is needed for (and only
    /// used by) `Content::Hash`, and must hold at least `MIN_HASH_KEY_BYTES`.
    pub fn new(
        content: Content,
        extra_keys: Vec<String>,
        hash_key: Option<Vec<u8>>,
    ) -> Result<Self, String> {
        if let Some(key) = &hash_key
            && key.len() < MIN_HASH_KEY_BYTES
        {
            return Err(format!(
                "the redaction hash key has {} bytes; give at least {MIN_HASH_KEY_BYTES} random bytes",
                key.len()
            ));
        }
        if content == Content::Hash && hash_key.is_none() {
            return Err(
                "content redaction by hash needs a secret key (--redact-hash-key-file): a hash \
                 without one can be reversed by hashing guesses"
                    .into(),
            );
        }
        if let Some(empty) = extra_keys.iter().find(|key| key.trim().is_empty()) {
            return Err(format!("an empty redaction key pattern {empty:?}"));
        }
        Ok(Self {
            content,
            extra_keys: extra_keys.into(),
            hash_key: hash_key.map(Arc::from),
        })
    }

    /// The server's settings with a project's overrides: its content mode, and its keys added.
    pub fn with(&self, overrides: &Overrides) -> Result<Self, String> {
        let content = match &overrides.content {
            Some(content) => content.parse()?,
            None => self.content,
        };
        if content == Content::Hash && self.hash_key.is_none() {
            return Err(
                "the project asks for content redaction by hash, and the server has no hash key \
                 (--redact-hash-key-file)"
                    .into(),
            );
        }
        let mut keys = self.extra_keys.to_vec();
        keys.extend(overrides.keys.iter().cloned());
        Ok(Self {
            content,
            extra_keys: keys.into(),
            hash_key: self.hash_key.clone(),
        })
    }

    /// What is done to content.
    pub fn content(&self) -> Content {
        self.content
    }

    fn is_content_key(&self, key: &str) -> bool {
        CONTENT
            .iter()
            .copied()
            .chain(self.extra_keys.iter().map(String::as_str))
            .any(|pattern| matches(pattern, key))
    }

    /// A content string as stored: itself, nothing, or its keyed hash.
    pub(crate) fn text(&self, text: Option<String>) -> Option<String> {
        match self.content {
            Content::Keep => text,
            Content::Drop => None,
            Content::Hash => text.map(|text| self.hash(text.as_bytes())),
        }
    }

    /// What happens to the attribute `key` (NUL in it read as U+FFFD, as it is stored).
    pub(crate) fn rule(&self, key: &str) -> Rule {
        if self.content == Content::Keep {
            return Rule::Keep;
        }
        let content = if key.contains('\0') {
            self.is_content_key(&key.replace('\0', "\u{FFFD}"))
        } else {
            self.is_content_key(key)
        };
        match (content, self.content) {
            (false, _) | (_, Content::Keep) => Rule::Keep,
            (true, Content::Drop) => Rule::Drop,
            (true, Content::Hash) => Rule::Hash,
        }
    }

    pub(crate) fn hash(&self, bytes: &[u8]) -> String {
        let key = self.hash_key.as_deref().unwrap_or_default();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(bytes);
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(12 + 64);
        out.push_str("hmac-sha256:");
        for byte in digest {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    /// An attributes object with its content keys redacted: dropped, or their values hashed (a
    /// string's text; any other value's JSON text).
    pub(crate) fn attributes(&self, attributes: &mut Value) {
        let Value::Object(map) = attributes else {
            return;
        };
        match self.content {
            Content::Keep => {}
            Content::Drop => map.retain(|key, _| !self.is_content_key(key)),
            Content::Hash => {
                for (key, value) in map.iter_mut() {
                    if self.is_content_key(key) {
                        let hashed = match &*value {
                            Value::String(text) => self.hash(text.as_bytes()),
                            other => self.hash(other.to_string().as_bytes()),
                        };
                        *value = Value::String(hashed);
                    }
                }
            }
        }
    }

    pub fn log(&self, row: &mut LogRow) {
        if self.content == Content::Keep {
            return;
        }
        row.body = self.text(row.body.take());
        self.attributes(&mut row.attributes);
        self.attributes(&mut row.resource_attributes);
    }

    /// A score's explanation is an evaluator's reasons, which quote what it judged.
    pub fn score(&self, row: &mut ScoreRow) {
        if self.content == Content::Keep {
            return;
        }
        row.explanation = self.text(row.explanation.take());
        self.attributes(&mut row.attributes);
    }

    pub fn metric(&self, row: &mut MetricRow) {
        if self.content == Content::Keep {
            return;
        }
        self.attributes(&mut row.attributes);
        self.attributes(&mut row.resource_attributes);
    }
}

/// Whether `key` is content by default (`keys::CONTENT`), whatever a server or project adds.
pub fn is_default_content_key(key: &str) -> bool {
    CONTENT.iter().any(|pattern| matches(pattern, key))
}

/// Whether `key` matches `pattern`: equal, or, for a pattern ending in `*`, starting with the rest.
fn matches(pattern: &str, key: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> Option<Vec<u8>> {
        Some(b"0123456789abcdef0123456789abcdef".to_vec())
    }

    #[test]
    fn patterns_match_keys_and_prefixes() {
        assert!(matches("input.value", "input.value"));
        assert!(!matches("input.value", "input.value.extra"));
        assert!(matches(
            "llm.input_messages.*",
            "llm.input_messages.0.message.content"
        ));
        assert!(!matches("llm.input_messages.*", "llm.input_messages"));
        let redaction = Redaction::new(Content::Drop, vec!["x.secret".into()], None).unwrap();
        assert!(redaction.is_content_key("gen_ai.input.messages"));
        assert!(redaction.is_content_key("x.secret"));
        assert!(!redaction.is_content_key("gen_ai.request.model"));
        assert!(!redaction.is_content_key("session.id"));
    }

    #[test]
    fn hashing_needs_a_key_and_equal_values_hash_equal() {
        assert!(Redaction::new(Content::Hash, vec![], None).is_err());
        assert!(Redaction::new(Content::Hash, vec![], Some(vec![1; 8])).is_err());
        let redaction = Redaction::new(Content::Hash, vec![], key()).unwrap();
        let a = redaction.hash(b"What's the weather in Paris?");
        assert_eq!(a, redaction.hash(b"What's the weather in Paris?"));
        assert_ne!(a, redaction.hash(b"What's the weather in Rome?"));
        assert!(a.starts_with("hmac-sha256:") && a.len() == 12 + 64, "{a}");
        let other_key = Redaction::new(
            Content::Hash,
            vec![],
            Some(b"another key of 16+ bytes".to_vec()),
        )
        .unwrap();
        assert_ne!(a, other_key.hash(b"What's the weather in Paris?"));
    }

    #[test]
    fn attributes_are_dropped_or_hashed_by_key() {
        let mut attributes = json!({"input.value": "the prompt", "gen_ai.request.model": "gpt-4o",
                                    "llm.output_messages.0.message.content": {"x": 1}});
        let drop = Redaction::new(Content::Drop, vec![], None).unwrap();
        drop.attributes(&mut attributes);
        assert_eq!(attributes, json!({"gen_ai.request.model": "gpt-4o"}));

        let mut attributes = json!({"input.value": "the prompt", "n": 1});
        let hash = Redaction::new(Content::Hash, vec![], key()).unwrap();
        hash.attributes(&mut attributes);
        assert_eq!(attributes["input.value"], json!(hash.hash(b"the prompt")));
        assert_eq!(attributes["n"], json!(1));
    }

    #[test]
    fn a_project_overrides_the_server() {
        let server = Redaction::new(Content::Keep, vec!["a".into()], key()).unwrap();
        let project = server
            .with(&Overrides {
                content: Some("hash".into()),
                keys: vec!["b".into()],
            })
            .unwrap();
        assert_eq!(project.content(), Content::Hash);
        assert!(project.is_content_key("a") && project.is_content_key("b"));
        let no_key = Redaction::keep();
        assert!(
            no_key
                .with(&Overrides {
                    content: Some("hash".into()),
                    keys: vec![]
                })
                .is_err()
        );
        assert!(
            no_key
                .with(&Overrides {
                    content: Some("shred".into()),
                    keys: vec![]
                })
                .is_err()
        );
    }
}
