//! Wrong tokens, counted per client address and slowed down: a burst of `BURST` wrong tokens, then
//! one per `PERIOD` (the generic cell rate algorithm: each address has a "theoretical arrival
//! time" that every wrong token pushes `PERIOD` further; while it is more than `BURST - 1`
//! periods ahead, the address is throttled). A throttled address is answered 429 without its token
//! being looked at, so a guess is worth nothing then, even the right one. A right token is never
//! counted.
//!
//! Each wrong token is logged (WARN, target `agent_trace::auth`: the address, the path and how many
//! wrong or throttled requests came since the last line; never the token), at most one line per
//! address per `PERIOD` and `MAX_LINES_PER_PERIOD` lines per period in all, so a flood cannot fill
//! the disk: what is not logged at once is counted into the address's next line.
//!
//! IPv6 clients are counted per /64 (one host usually holds a whole /64), IPv4 per address. The
//! table is bounded (`MAX_ADDRESSES`): addresses whose count has run down are dropped when it
//! fills; a wrong token from a new address while every place holds an active one is refused (401)
//! without being counted.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wrong tokens an address may send at once.
pub const BURST: u32 = 10;
/// Then one more per period; also the logging window.
pub const PERIOD: Duration = Duration::from_secs(6);
/// Addresses tracked at once.
const MAX_ADDRESSES: usize = 65_536;
/// Log lines per period, all addresses together.
const MAX_LINES_PER_PERIOD: u32 = 100;

/// The wrong tokens of every address, shared by every clone.
#[derive(Clone, Default)]
pub struct Throttle {
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    addresses: HashMap<IpAddr, Address>,
    /// The current logging window: when it began and how many lines it has had.
    window: Option<(Instant, u32)>,
}

struct Address {
    /// When the address will have no wrong token left to its name.
    at_rest: Instant,
    /// Counted since its last log line.
    wrong: u64,
    throttled: u64,
    logged_at: Option<Instant>,
}

/// What a throttled address is told: how long until its next token is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// Whole seconds, rounded up (Retry-After, RetryInfo), at least 1.
    pub fn seconds(&self) -> u32 {
        let seconds = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        u32::try_from(seconds.max(1)).unwrap_or(u32::MAX)
    }
}

/// How far ahead of now an address's count may run before it is throttled.
fn tolerance() -> Duration {
    PERIOD * (BURST - 1)
}

/// The key an address is counted under.
fn key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(bits))
            }
        },
    }
}

impl Throttle {
    /// Whether `peer` is throttled now, and if so for how long; a throttled request is counted
    /// (and logged) as such.
    pub fn throttled(&self, peer: IpAddr, path: &str) -> Option<Throttled> {
        self.throttled_at(peer, path, Instant::now())
    }

    /// Counts (and logs) a wrong token from `peer`.
    pub fn wrong_token(&self, peer: IpAddr, path: &str) {
        self.wrong_token_at(peer, path, Instant::now());
    }

    fn throttled_at(&self, peer: IpAddr, path: &str, now: Instant) -> Option<Throttled> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let address = state.addresses.get_mut(&key(peer))?;
        let ahead = address.at_rest.saturating_duration_since(now);
        let wait = ahead
            .checked_sub(tolerance())
            .filter(|wait| !wait.is_zero())?;
        address.throttled += 1;
        state.log(peer, path, now);
        Some(Throttled { retry_after: wait })
    }

    fn wrong_token_at(&self, peer: IpAddr, path: &str, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let key = key(peer);
        if !state.addresses.contains_key(&key) && state.addresses.len() >= MAX_ADDRESSES {
            state.addresses.retain(|_, address| {
                address.at_rest > now || address.wrong + address.throttled > 0
            });
            if state.addresses.len() >= MAX_ADDRESSES {
                state.addresses.retain(|_, address| address.at_rest > now);
            }
            if state.addresses.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let address = state.addresses.entry(key).or_insert(Address {
            at_rest: now,
            wrong: 0,
            throttled: 0,
            logged_at: None,
        });
        address.at_rest = address.at_rest.max(now) + PERIOD;
        address.wrong += 1;
        state.log(peer, path, now);
    }

    /// The number of addresses tracked (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .addresses
            .len()
    }
}

impl State {
    /// One line for `peer` if its last was a period ago or more and this period has room.
    fn log(&mut self, peer: IpAddr, path: &str, now: Instant) {
        let window = match self.window {
            Some((began, lines)) if now.saturating_duration_since(began) < PERIOD => (began, lines),
            _ => (now, 0),
        };
        self.window = Some(window);
        if window.1 >= MAX_LINES_PER_PERIOD {
            return;
        }
        let Some(address) = self.addresses.get_mut(&key(peer)) else {
            return;
        };
        if address
            .logged_at
            .is_some_and(|at| now.saturating_duration_since(at) < PERIOD)
        {
            return;
        }
        tracing::warn!(
            target: "agent_trace::auth",
            peer = %peer,
            path = %path,
            wrong_tokens = address.wrong,
            throttled = address.throttled,
            "wrong bearer token (counts since this address's last line; past {BURST} at once, it \
             is answered 429 without a check)"
        );
        address.wrong = 0;
        address.throttled = 0;
        address.logged_at = Some(now);
        self.window = Some((window.0, window.1 + 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    #[test]
    fn a_burst_then_one_wrong_token_per_period() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for _ in 0..BURST {
            assert_eq!(throttle.throttled_at(CLIENT, "/v1/traces", start), None);
            throttle.wrong_token_at(CLIENT, "/v1/traces", start);
        }
        let throttled = throttle
            .throttled_at(CLIENT, "/v1/traces", start)
            .expect("throttled after the burst");
        assert_eq!(throttled.retry_after, PERIOD);
        assert_eq!(throttled.seconds(), 6);
        assert_eq!(throttle.throttled_at(OTHER, "/v1/traces", start), None);
        // One period later, one more wrong token is looked at, and then it waits again.
        let later = start + PERIOD;
        assert_eq!(throttle.throttled_at(CLIENT, "/v1/traces", later), None);
        throttle.wrong_token_at(CLIENT, "/v1/traces", later);
        assert!(throttle.throttled_at(CLIENT, "/v1/traces", later).is_some());
        // Quiet for the whole burst's time: a full burst again.
        let rested = later + PERIOD * BURST;
        for _ in 0..BURST {
            assert_eq!(throttle.throttled_at(CLIENT, "/", rested), None);
            throttle.wrong_token_at(CLIENT, "/", rested);
        }
        assert!(throttle.throttled_at(CLIENT, "/", rested).is_some());
    }

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(key(mapped), CLIENT);
    }

    #[test]
    fn the_table_stays_bounded() {
        let throttle = Throttle::default();
        let start = Instant::now();
        for n in 0..(MAX_ADDRESSES as u32 + 10) {
            let peer = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n));
            throttle.wrong_token_at(peer, "/", start);
        }
        assert!(throttle.len() <= MAX_ADDRESSES);
        // Once their counts have run down, new addresses take their places.
        let rested = start + PERIOD * 2;
        throttle.wrong_token_at(OTHER, "/", rested);
        assert!(throttle.len() <= MAX_ADDRESSES);
        assert!(
            throttle
                .state
                .lock()
                .unwrap()
                .addresses
                .contains_key(&OTHER)
        );
    }
}
