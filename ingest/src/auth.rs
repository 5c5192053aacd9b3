//! The one bearer-token check of both transports: OTLP/HTTP reads the `Authorization` header,
//! OTLP/gRPC the `authorization` metadata, and both ask `Auth::allows`, before anything else about
//! the request is looked at (an unauthenticated request learns nothing but 401).
//!
//! Several tokens may be valid at once, so a token is rotated without downtime: add the new one,
//! move the clients over, remove the old one. Tokens come from `--token` (repeatable) and
//! `--token-file` (one per line), and the file is read again on SIGHUP (`Auth::replace`).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use subtle::{Choice, ConstantTimeEq};

/// Where the tokens come from.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// Given one by one (`--token`, `AGENT_TRACE_TOKEN`).
    pub given: Vec<String>,
    /// A file of tokens, one per line; blank lines and lines starting with `#` are skipped.
    pub file: Option<PathBuf>,
}

impl Tokens {
    /// One token given on its own (tests, `setup`).
    pub fn one(token: impl Into<String>) -> Self {
        Tokens {
            given: vec![token.into()],
            file: None,
        }
    }

    /// Every token, checked: an empty one (or one that is only spaces) is refused rather than
    /// turning into "no token" or into a token anyone guesses.
    pub fn read(&self) -> Result<Vec<String>, String> {
        let mut tokens = Vec::new();
        for token in &self.given {
            if token.trim().is_empty() {
                return Err("--token (AGENT_TRACE_TOKEN) is empty: give a token, or none".into());
            }
            tokens.push(token.clone());
        }
        if let Some(path) = &self.file {
            let from_file = read_token_file(path)?;
            if from_file.is_empty() {
                return Err(format!(
                    "the token file {} holds no token (one per line; # starts a comment)",
                    path.display()
                ));
            }
            tokens.extend(from_file);
        }
        Ok(tokens)
    }
}

fn read_token_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the token file {}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect())
}

/// The tokens clients may present as `Authorization: Bearer TOKEN`; with none, everyone may write.
/// Held as SHA-256 digests: comparing digests of equal length in constant time tells an attacker
/// neither how much of a guess was right nor how long a token is.
#[derive(Clone, Default)]
pub struct Auth {
    digests: Arc<RwLock<Arc<[[u8; 32]]>>>,
}

impl Auth {
    /// An Auth that accepts exactly `tokens` (none: anyone). An empty token is refused.
    pub fn new(tokens: &Tokens) -> Result<Self, String> {
        let auth = Auth::default();
        auth.replace(tokens)?;
        Ok(auth)
    }

    /// Reads the tokens again (SIGHUP). On an error, or if the new set would be empty where there
    /// were tokens (which would open the server to anyone), the tokens stay as they were.
    /// Ok(number of tokens now accepted).
    pub fn replace(&self, tokens: &Tokens) -> Result<usize, String> {
        let tokens = tokens.read()?;
        let digests: Arc<[[u8; 32]]> = tokens.iter().map(|t| digest(t.as_bytes())).collect();
        let mut current = self.digests.write().unwrap_or_else(|e| e.into_inner());
        if digests.is_empty() && !current.is_empty() {
            return Err("no token left: keeping the tokens in use".into());
        }
        *current = digests;
        Ok(current.len())
    }

    /// Whether a token is needed at all.
    pub fn is_required(&self) -> bool {
        !self.current().is_empty()
    }

    fn current(&self) -> Arc<[[u8; 32]]> {
        self.digests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether a request with this `Authorization` value (None: absent or not text) may write.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let expected = self.current();
        if expected.is_empty() {
            return true;
        }
        let Some(presented) = authorization.and_then(bearer_token) else {
            return false;
        };
        let presented = digest(presented.as_bytes());
        // Every token is compared, whichever matches: the time taken does not say which.
        let matched = expected.iter().fold(Choice::from(0), |matched, token| {
            matched | token.ct_eq(&presented)
        });
        bool::from(matched)
    }
}

/// The token of `Bearer TOKEN`: the scheme in any case (RFC 9110 makes it case-insensitive), then
/// one or more spaces.
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, rest) = authorization.split_once(' ')?;
    let token = rest.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What a request without the right token is told, on either transport.
pub const UNAUTHORIZED: &str = "missing or wrong bearer token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_bearer_token_is_allowed() {
        let auth = Auth::new(&Tokens {
            given: vec!["s3cret".into(), "n3xt".into()],
            file: None,
        })
        .unwrap();
        assert!(auth.is_required());
        for right in [
            "Bearer s3cret",
            "Bearer n3xt",
            "bearer s3cret",
            "BEARER s3cret",
            "Bearer   s3cret",
        ] {
            assert!(auth.allows(Some(right)), "{right:?}");
        }
        for wrong in [
            None,
            Some(""),
            Some("s3cret"),
            Some("Bearer"),
            Some("Bearer "),
            Some("Bearer s3cre"),
            Some("Bearer s3crett"),
            Some("Basic s3cret"),
            Some("Bearers3cret"),
        ] {
            assert!(!auth.allows(wrong), "{wrong:?}");
        }
        let open = Auth::new(&Tokens::default()).unwrap();
        assert!(!open.is_required());
        assert!(open.allows(None));
    }

    #[test]
    fn empty_tokens_are_refused() {
        for empty in ["", "  "] {
            let error = Auth::new(&Tokens::one(empty)).err().unwrap();
            assert!(error.contains("empty"), "{error}");
        }
    }

    #[test]
    fn a_token_file_is_read_again_and_never_emptied() {
        let path = std::env::temp_dir().join(format!("agent-trace-tokens-{}", std::process::id()));
        std::fs::write(&path, "# rotation\nold-token\n\n  new-token  \n").unwrap();
        let tokens = Tokens {
            given: vec![],
            file: Some(path.clone()),
        };
        let auth = Auth::new(&tokens).unwrap();
        assert!(auth.allows(Some("Bearer old-token")));
        assert!(auth.allows(Some("Bearer new-token")));
        std::fs::write(&path, "new-token\n").unwrap();
        assert_eq!(auth.replace(&tokens), Ok(1));
        assert!(!auth.allows(Some("Bearer old-token")));
        assert!(auth.allows(Some("Bearer new-token")));
        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(auth.replace(&tokens).is_err());
        assert!(auth.allows(Some("Bearer new-token")), "kept");
        std::fs::remove_file(&path).unwrap();
        assert!(auth.replace(&tokens).is_err());
        assert!(auth.allows(Some("Bearer new-token")), "kept");
    }
}
