//! The one bearer-token check of both transports, the operator's endpoints and the viewer: OTLP/HTTP
//! reads the `Authorization` header, OTLP/gRPC the `authorization` metadata, and both ask
//! `Auth::check`, before anything else about the request is looked at (an unauthenticated request
//! learns nothing but 401).
//!
//! Several tokens may be valid at once, so a token is rotated without downtime: add the new one,
//! move the clients over, remove the old one. Tokens come from `--token` (repeatable) and
//! `--token-file` (one per line), and the file is read again on SIGHUP (`Auth::replace`). Each is
//! at least `MIN_TOKEN_CHARS` characters long.
//!
//! Wrong tokens are counted per client address (`throttle`): past a burst, the address is answered
//! 429 without its token being looked at, and each wrong token is logged (boundedly, never the
//! token itself). The client's address is the TCP peer, which `crate::server` puts into each
//! request as axum's `ConnectInfo` (`peer`).

pub mod throttle;

use crate::map::DEFAULT_PROJECT;
use crate::projects::Projects;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use subtle::{Choice, ConstantTimeEq};
use throttle::Throttle;
pub use throttle::Throttled;

/// The shortest token accepted: a shorter one could be guessed, rate limit or not.
pub const MIN_TOKEN_CHARS: usize = 16;

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
    /// turning into "no token" or into a token anyone guesses, and so is one shorter than
    /// `MIN_TOKEN_CHARS`. The error never shows a token.
    pub fn read(&self) -> Result<Vec<String>, String> {
        let mut tokens = Vec::new();
        for token in &self.given {
            if token.trim().is_empty() {
                return Err("--token (AGENT_TRACE_TOKEN) is empty: give a token, or none".into());
            }
            long_enough(token).map_err(|why| format!("--token (AGENT_TRACE_TOKEN): {why}"))?;
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

/// Ok if `token` is at least `MIN_TOKEN_CHARS` characters long; else why not (without the token).
fn long_enough(token: &str) -> Result<(), String> {
    let length = token.chars().count();
    if length < MIN_TOKEN_CHARS {
        return Err(format!(
            "a token of {length} characters is too short: tokens must be at least \
             {MIN_TOKEN_CHARS} characters, as a short one can be guessed \
             (make one with `openssl rand -hex 32`)"
        ));
    }
    Ok(())
}

fn read_token_file(path: &Path) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the token file {}: {e}", path.display()))?;
    let mut tokens = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let token = line.trim();
        if token.is_empty() || token.starts_with('#') {
            continue;
        }
        long_enough(token).map_err(|why| {
            format!(
                "the token file {}, line {}: {why}",
                path.display(),
                number + 1
            )
        })?;
        tokens.push(token.to_string());
    }
    Ok(tokens)
}

/// A token's SHA-256 digest: what is kept of a token, and what a viewer session remembers of the
/// token that opened it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> Self {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }

    /// The digest's bytes, as the database keeps a project's token (`crate::projects`).
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

/// What a token check came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No token is needed, or the token is one of those accepted.
    Allowed,
    /// No token, or a wrong one (401).
    Refused,
    /// The client's address sent too many wrong tokens: its token was not looked at (429).
    Throttled(Throttled),
}

/// The tokens clients may present as `Authorization: Bearer TOKEN`; with none, everyone may write.
/// Held as SHA-256 digests: comparing digests of equal length in constant time tells an attacker
/// neither how much of a guess was right nor how long a token is.
#[derive(Clone, Default)]
pub struct Auth {
    digests: Arc<RwLock<Arc<[TokenDigest]>>>,
    throttle: Throttle,
}

impl Auth {
    /// An Auth that accepts exactly `tokens` (none: anyone). An empty or short token is refused.
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
        let digests: Arc<[TokenDigest]> = tokens.iter().map(|t| TokenDigest::of(t)).collect();
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

    fn current(&self) -> Arc<[TokenDigest]> {
        self.digests
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether a token of this digest is accepted now (a viewer session asks on every use, so a
    /// token rotated away ends the sessions it opened). Constant time, like `check`.
    pub fn accepts(&self, digest: &TokenDigest) -> bool {
        let expected = self.current();
        // Every token is compared, whichever matches: the time taken does not say which.
        let matched = expected.iter().fold(Choice::from(0), |matched, token| {
            matched | token.0.ct_eq(&digest.0)
        });
        expected.is_empty() || bool::from(matched)
    }

    /// The check of a request with this `Authorization` value (None: absent or not text) from
    /// `peer` to `path`. A request without a bearer token is refused but not counted: it guesses
    /// nothing.
    pub fn check(&self, authorization: Option<&str>, peer: IpAddr, path: &str) -> Verdict {
        if !self.is_required() {
            return Verdict::Allowed;
        }
        match authorization.and_then(bearer_token) {
            Some(token) => self.check_token(token, peer, path),
            None => Verdict::Refused,
        }
    }

    /// The check of a token presented by `peer` to `path` (a bearer token, or the login form's):
    /// throttled without a look at the token if `peer` sent too many wrong ones; a wrong one is
    /// counted and logged.
    pub fn check_token(&self, token: &str, peer: IpAddr, path: &str) -> Verdict {
        if !self.is_required() {
            return Verdict::Allowed;
        }
        if let Some(throttled) = self.throttle.throttled(peer, path) {
            return Verdict::Throttled(throttled);
        }
        if self.accepts(&TokenDigest::of(token)) {
            Verdict::Allowed
        } else {
            self.throttle.wrong_token(peer, path);
            Verdict::Refused
        }
    }
}

impl Auth {
    /// The check of an ingest request (OTLP): the server's own tokens, which write into the default
    /// project, or a project's token (`projects`, from the database), which writes into that
    /// project. While neither the server nor the database has a token, anyone writes into the
    /// default project. Wrong tokens are counted and throttled as `check_token`'s are. A project's
    /// token opens nothing else: the viewer and /metrics take the server's tokens alone.
    pub fn check_ingest(
        &self,
        authorization: Option<&str>,
        projects: &Projects,
        peer: IpAddr,
        path: &str,
    ) -> Result<i32, Verdict> {
        if !self.is_required() && !projects.has_tokens() {
            return Ok(DEFAULT_PROJECT);
        }
        let Some(token) = authorization.and_then(bearer_token) else {
            return Err(Verdict::Refused);
        };
        if let Some(throttled) = self.throttle.throttled(peer, path) {
            return Err(Verdict::Throttled(throttled));
        }
        let digest = TokenDigest::of(token);
        if let Some(project) = projects.project_of(digest.bytes()) {
            return Ok(project);
        }
        if self.is_required() && self.accepts(&digest) {
            return Ok(DEFAULT_PROJECT);
        }
        self.throttle.wrong_token(peer, path);
        Err(Verdict::Refused)
    }
}

/// Whom a request speaks for, by its token (`Auth::check_bearer`), where a project's token is taken
/// besides the server's (scores given in the viewer, the MCP server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bearer {
    /// One of the server's own tokens (`--token`, `--token-file`), or anyone on a server that asks
    /// for no token (the viewer is open then too).
    Server,
    /// A project's ingest token (`crate::projects`): it speaks for that project alone.
    Project(i32),
}

impl Auth {
    /// Whom the bearer token of this `Authorization` value speaks for, on a path that a project's
    /// token may use too. Without a bearer token: the server (`Bearer::Server`) when the server
    /// asks for no token, else refused (not counted). A token sent must be right, unless no token
    /// exists anywhere (as `check_ingest`); wrong ones are counted and throttled as `check_token`'s are.
    pub fn check_bearer(
        &self,
        authorization: Option<&str>,
        projects: &Projects,
        peer: IpAddr,
        path: &str,
    ) -> Result<Bearer, Verdict> {
        let Some(token) = authorization.and_then(bearer_token) else {
            return if self.is_required() {
                Err(Verdict::Refused)
            } else {
                Ok(Bearer::Server)
            };
        };
        if !self.is_required() && !projects.has_tokens() {
            return Ok(Bearer::Server);
        }
        if let Some(throttled) = self.throttle.throttled(peer, path) {
            return Err(Verdict::Throttled(throttled));
        }
        let digest = TokenDigest::of(token);
        if let Some(project) = projects.project_of(digest.bytes()) {
            return Ok(Bearer::Project(project));
        }
        if self.is_required() && self.accepts(&digest) {
            return Ok(Bearer::Server);
        }
        self.throttle.wrong_token(peer, path);
        Err(Verdict::Refused)
    }
}

/// The client's address: the TCP peer that `crate::server` puts into each request's extensions
/// as axum's `ConnectInfo`; unspecified (one shared count) if none was put there.
pub fn peer(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// The token of `Bearer TOKEN`: the scheme in any case (RFC 9110 makes it case-insensitive), then
/// one or more spaces.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, rest) = authorization.split_once(' ')?;
    let token = rest.trim_start_matches(' ');
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What a request without the right token is told, on either transport.
pub const UNAUTHORIZED: &str = "missing or wrong bearer token";

/// What a throttled client is told.
pub fn throttled_message(throttled: &Throttled) -> String {
    format!(
        "too many wrong tokens from this address: retry in {} s (tokens are not checked until then)",
        throttled.seconds()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn allows(auth: &Auth, authorization: Option<&str>) -> bool {
        auth.check(authorization, HERE, "/") == Verdict::Allowed
    }

    #[test]
    fn only_a_configured_bearer_token_is_allowed() {
        let auth = Auth::new(&Tokens {
            given: vec!["s3cret-s3cret-s3cret".into(), "n3xt-n3xt-n3xt-n3xt".into()],
            file: None,
        })
        .unwrap();
        assert!(auth.is_required());
        for right in [
            "Bearer s3cret-s3cret-s3cret",
            "Bearer n3xt-n3xt-n3xt-n3xt",
            "bearer s3cret-s3cret-s3cret",
            "BEARER s3cret-s3cret-s3cret",
            "Bearer   s3cret-s3cret-s3cret",
        ] {
            assert!(allows(&auth, Some(right)), "{right:?}");
        }
        for wrong in [
            None,
            Some(""),
            Some("s3cret-s3cret-s3cret"),
            Some("Bearer"),
            Some("Bearer "),
            Some("Bearer s3cret-s3cret-s3cre"),
            Some("Bearer s3cret-s3cret-s3crett"),
            Some("Basic s3cret-s3cret-s3cret"),
            Some("Bearers3cret-s3cret-s3cret"),
        ] {
            assert!(!allows(&auth, wrong), "{wrong:?}");
        }
        let open = Auth::new(&Tokens::default()).unwrap();
        assert!(!open.is_required());
        assert!(allows(&open, None));
    }

    #[test]
    fn a_bearer_is_the_server_or_one_project() {
        let projects = Projects::default();
        projects.replace(crate::projects::Directory {
            tokens: vec![(*TokenDigest::of("project-token-0123").bytes(), 7)],
            redactions: vec![],
        });
        let auth = Auth::new(&Tokens::one("server-token-012345")).unwrap();
        let check = |authorization| auth.check_bearer(authorization, &projects, HERE, "/mcp");
        assert_eq!(
            check(Some("Bearer server-token-012345")),
            Ok(Bearer::Server)
        );
        assert_eq!(
            check(Some("Bearer project-token-0123")),
            Ok(Bearer::Project(7))
        );
        assert_eq!(
            check(Some("Bearer wrong-token-0123456")),
            Err(Verdict::Refused)
        );
        assert_eq!(check(None), Err(Verdict::Refused));
        // A server without tokens is open, but a project's token still speaks for its project.
        let open = Auth::default();
        let check = |authorization| open.check_bearer(authorization, &projects, HERE, "/mcp");
        assert_eq!(check(None), Ok(Bearer::Server));
        assert_eq!(
            check(Some("Bearer project-token-0123")),
            Ok(Bearer::Project(7))
        );
        // Once the database holds a token, a token sent must be one (as on OTLP).
        assert_eq!(
            check(Some("Bearer anything-else-01234")),
            Err(Verdict::Refused)
        );
    }

    #[test]
    fn empty_tokens_are_refused() {
        for empty in ["", "  "] {
            let error = Auth::new(&Tokens::one(empty)).err().unwrap();
            assert!(error.contains("empty"), "{error}");
        }
    }

    #[test]
    fn short_tokens_are_refused_without_being_shown() {
        let short = "fifteen-chars!!";
        assert_eq!(short.chars().count(), 15);
        let error = Auth::new(&Tokens::one(short)).err().unwrap();
        assert!(error.contains("at least 16 characters"), "{error}");
        assert!(!error.contains(short), "{error}");
        assert!(Auth::new(&Tokens::one("sixteen-chars!!!")).is_ok());
        // Characters, not bytes: 15 two-byte letters are still too short.
        assert!(Auth::new(&Tokens::one("é".repeat(15))).is_err());

        let path = std::env::temp_dir().join(format!("agent-trace-short-{}", std::process::id()));
        std::fs::write(&path, "# tokens\nlong-enough-token-1\ntiny-tok\n").unwrap();
        let error = Auth::new(&Tokens {
            given: vec![],
            file: Some(path.clone()),
        })
        .err()
        .unwrap();
        assert!(
            error.contains("line 3") && error.contains("too short"),
            "{error}"
        );
        assert!(!error.contains("tiny-tok"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn wrong_tokens_are_throttled_and_the_right_one_then_waits_too() {
        let auth = Auth::new(&Tokens::one("the-right-token-0123")).unwrap();
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        for _ in 0..throttle::BURST {
            assert_eq!(
                auth.check(Some("Bearer a-wrong-guess"), HERE, "/v1/traces"),
                Verdict::Refused
            );
        }
        let verdict = auth.check(Some("Bearer the-right-token-0123"), HERE, "/v1/traces");
        assert!(matches!(verdict, Verdict::Throttled(_)), "{verdict:?}");
        // Another address, and requests without any token, are not held up.
        assert_eq!(
            auth.check(Some("Bearer the-right-token-0123"), other, "/"),
            Verdict::Allowed
        );
        assert_eq!(auth.check(None, HERE, "/"), Verdict::Refused);
        // Right tokens are never counted.
        for _ in 0..3 * throttle::BURST {
            assert_eq!(
                auth.check(Some("Bearer the-right-token-0123"), other, "/"),
                Verdict::Allowed
            );
        }
    }

    #[test]
    fn a_session_s_token_is_accepted_only_while_it_is_configured() {
        let path = std::env::temp_dir().join(format!("agent-trace-digest-{}", std::process::id()));
        std::fs::write(&path, "old-token-0123456789\nnew-token-0123456789\n").unwrap();
        let tokens = Tokens {
            given: vec![],
            file: Some(path.clone()),
        };
        let auth = Auth::new(&tokens).unwrap();
        let old = TokenDigest::of("old-token-0123456789");
        assert!(auth.accepts(&old));
        assert!(!auth.accepts(&TokenDigest::of("old-token-012345678")));
        std::fs::write(&path, "new-token-0123456789\n").unwrap();
        auth.replace(&tokens).unwrap();
        assert!(!auth.accepts(&old));
        assert!(auth.accepts(&TokenDigest::of("new-token-0123456789")));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_token_file_is_read_again_and_never_emptied() {
        let path = std::env::temp_dir().join(format!("agent-trace-tokens-{}", std::process::id()));
        std::fs::write(
            &path,
            "# rotation\nold-token-0123456789\n\n  new-token-0123456789  \n",
        )
        .unwrap();
        let tokens = Tokens {
            given: vec![],
            file: Some(path.clone()),
        };
        let auth = Auth::new(&tokens).unwrap();
        assert!(allows(&auth, Some("Bearer old-token-0123456789")));
        assert!(allows(&auth, Some("Bearer new-token-0123456789")));
        std::fs::write(&path, "new-token-0123456789\n").unwrap();
        assert_eq!(auth.replace(&tokens), Ok(1));
        assert!(!allows(&auth, Some("Bearer old-token-0123456789")));
        assert!(allows(&auth, Some("Bearer new-token-0123456789")));
        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(auth.replace(&tokens).is_err());
        assert!(allows(&auth, Some("Bearer new-token-0123456789")), "kept");
        // A short token in the file: refused, the tokens kept.
        std::fs::write(&path, "short-token\n").unwrap();
        assert!(auth.replace(&tokens).is_err());
        assert!(allows(&auth, Some("Bearer new-token-0123456789")), "kept");
        std::fs::remove_file(&path).unwrap();
        assert!(auth.replace(&tokens).is_err());
        assert!(allows(&auth, Some("Bearer new-token-0123456789")), "kept");
    }

    #[test]
    fn a_project_s_token_holds_for_its_project_and_the_server_s_for_the_server() {
        use crate::projects::Directory;
        let projects = Projects::default();
        let open = Auth::default();
        // No token anywhere: anyone, with or without a header.
        assert_eq!(
            open.check_bearer(None, &projects, HERE, "/"),
            Ok(Bearer::Server)
        );
        assert_eq!(
            open.check_bearer(Some("Bearer anything-at-all"), &projects, HERE, "/"),
            Ok(Bearer::Server)
        );
        projects.replace(Directory {
            tokens: vec![(*TokenDigest::of("project-two-token-0123").bytes(), 2)],
            redactions: vec![],
        });
        // A server without a token of its own: no header is anyone; a token sent must be right.
        assert_eq!(
            open.check_bearer(None, &projects, HERE, "/"),
            Ok(Bearer::Server)
        );
        assert_eq!(
            open.check_bearer(Some("Bearer project-two-token-0123"), &projects, HERE, "/"),
            Ok(Bearer::Project(2))
        );
        assert_eq!(
            open.check_bearer(Some("Bearer a-wrong-guess-0123"), &projects, HERE, "/"),
            Err(Verdict::Refused)
        );
        let auth = Auth::new(&Tokens::one("the-server-token-0123")).unwrap();
        assert_eq!(
            auth.check_bearer(None, &projects, HERE, "/"),
            Err(Verdict::Refused)
        );
        assert_eq!(
            auth.check_bearer(Some("Bearer the-server-token-0123"), &projects, HERE, "/"),
            Ok(Bearer::Server)
        );
        assert_eq!(
            auth.check_bearer(Some("Bearer project-two-token-0123"), &projects, HERE, "/"),
            Ok(Bearer::Project(2))
        );
        // Wrong tokens count towards the address's throttle.
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
        for _ in 0..throttle::BURST {
            assert_eq!(
                auth.check_bearer(Some("Bearer a-wrong-guess-0123"), &projects, other, "/"),
                Err(Verdict::Refused)
            );
        }
        assert!(matches!(
            auth.check_bearer(Some("Bearer the-server-token-0123"), &projects, other, "/"),
            Err(Verdict::Throttled(_))
        ));
    }
}
