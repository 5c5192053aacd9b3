//! The one bearer-token check of both transports: OTLP/HTTP reads the `Authorization` header,
//! OTLP/gRPC the `authorization` metadata, and both ask `Auth::allows`.

use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The token clients must present as `Authorization: Bearer TOKEN`; without one, everyone may write.
#[derive(Clone, Default)]
pub struct Auth {
    token: Option<Arc<str>>,
}

impl Auth {
    pub fn new(token: Option<String>) -> Self {
        Self {
            token: token.map(Arc::from),
        }
    }

    /// Whether a request with this `Authorization` value (None: absent or not text) may write.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let presented = authorization.and_then(|value| value.strip_prefix("Bearer "));
        // ConstantTimeEq compares every byte whatever the first difference, so the time taken tells
        // an attacker nothing about how much of a guess was right.
        presented
            .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(expected.as_bytes())))
    }
}

/// What a request without the right token is told, on either transport.
pub const UNAUTHORIZED: &str = "missing or wrong bearer token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_configured_bearer_token_is_allowed() {
        let auth = Auth::new(Some("s3cret".into()));
        assert!(auth.allows(Some("Bearer s3cret")));
        for wrong in [
            None,
            Some(""),
            Some("s3cret"),
            Some("Bearer s3cre"),
            Some("Bearer s3crett"),
            Some("Basic s3cret"),
        ] {
            assert!(!auth.allows(wrong), "{wrong:?}");
        }
        assert!(Auth::new(None).allows(None));
    }
}
