//! The viewer's login sessions: what a browser's cookie stands for. A session id is 32 random
//! bytes (64 hex digits), known to the browser and to this process's memory only, mapped to the
//! SHA-256 digest of the token that logged in and to when it expires (`LIFETIME` after login). A
//! session ends at expiry, at logout (forgotten here), and as soon as its token is no longer
//! accepted (rotated away by SIGHUP: `login` asks `crate::auth::Auth::accepts` on every use). A
//! restart ends them all. At most `MAX_SESSIONS` live at once: expired ones are dropped when one is
//! added to a full map, and past the bound the oldest goes.
//!
//! Ids are held as their SHA-256 digests, so neither a lookup's timing nor a look at this memory
//! gives one away.

use crate::auth::TokenDigest;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a login lasts (the cookie's Max-Age): 12 hours.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// Live sessions at most.
const MAX_SESSIONS: usize = 10_000;

#[derive(Clone, Default)]
pub struct Sessions {
    live: Arc<Mutex<HashMap<[u8; 32], Session>>>,
}

struct Session {
    token: TokenDigest,
    expires: Instant,
}

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    /// A new session for the token of `token`: its id, for the cookie.
    pub fn start(&self, token: TokenDigest) -> Result<String, String> {
        self.start_at(token, Instant::now())
    }

    fn start_at(&self, token: TokenDigest, now: Instant) -> Result<String, String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a session id: {e}"))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live.len() >= MAX_SESSIONS {
            live.retain(|_, session| session.expires > now);
        }
        while live.len() >= MAX_SESSIONS {
            let oldest = live
                .iter()
                .min_by_key(|(_, session)| session.expires)
                .map(|(key, _)| *key);
            match oldest {
                Some(oldest) => live.remove(&oldest),
                None => break,
            };
        }
        live.insert(
            key(&id),
            Session {
                token,
                expires: now + LIFETIME,
            },
        );
        Ok(id)
    }

    /// The token digest of a live session; None (and the session forgotten) once it expired.
    pub fn token_of(&self, id: &str) -> Option<TokenDigest> {
        self.token_at(id, Instant::now())
    }

    fn token_at(&self, id: &str, now: Instant) -> Option<TokenDigest> {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        let key = key(id);
        match live.get(&key) {
            Some(session) if session.expires > now => Some(session.token),
            Some(_) => {
                live.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Forgets a session (logout, or its token was rotated away).
    pub fn end(&self, id: &str) {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key(id));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_it_expires_or_ends() {
        let sessions = Sessions::default();
        let token = TokenDigest::of("the-token-0123456789");
        let start = Instant::now();
        let id = sessions.start_at(token, start).unwrap();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        let other = sessions.start_at(token, start).unwrap();
        assert_ne!(id, other, "random ids");
        assert_eq!(sessions.token_at(&id, start + LIFETIME / 2), Some(token));
        assert_eq!(sessions.token_at(&id, start + LIFETIME), None, "expired");
        assert_eq!(sessions.token_at(&id, start), None, "and forgotten");
        sessions.end(&other);
        assert_eq!(sessions.token_at(&other, start), None, "logged out");
        assert_eq!(sessions.token_at("not-a-session", start), None);
    }

    #[test]
    fn the_sessions_are_bounded() {
        let sessions = Sessions::default();
        let token = TokenDigest::of("the-token-0123456789");
        let start = Instant::now();
        let first = sessions.start_at(token, start).unwrap();
        for n in 1..MAX_SESSIONS + 5 {
            sessions
                .start_at(token, start + Duration::from_millis(n as u64))
                .unwrap();
        }
        assert_eq!(sessions.len(), MAX_SESSIONS);
        assert_eq!(sessions.token_at(&first, start), None, "the oldest went");
        // Expired ones are dropped when a session starts.
        sessions.start_at(token, start + LIFETIME * 2).unwrap();
        assert_eq!(sessions.len(), 1);
    }
}
