//! The batcher: which requests of a signal join which group, and when a group closes. Pure: no
//! I/O, no clock (the time is passed in).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How large a group may grow and how long a request may wait for others to join it. One set per
/// server (`serve`'s --batch-* flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Most rows in one group (a request with more is written alone).
    pub max_rows: usize,
    /// Most request bytes (decompressed) in one group (a larger request is written alone).
    pub max_bytes: usize,
    /// While another write of the signal is in flight, how long the oldest waiting request may wait
    /// for more to join before its group is written anyway. An idle signal writes at once.
    pub max_wait: Duration,
    /// Groups of one signal written at once (each a transaction on its own connection).
    pub writers: usize,
}

impl Bounds {
    /// Measured in BENCHMARKS.md (group commit): groups of up to 256 rows, 4 at once, let 10-span
    /// requests share transactions, while 500-span requests, too large to share, are written alone
    /// as before (sharing them gained nothing and cost parallelism).
    pub const DEFAULT: Bounds = Bounds {
        max_rows: 256,
        max_bytes: 2 << 20,
        max_wait: Duration::from_millis(2),
        writers: 4,
    };

    /// Bounds that cannot work, explained.
    pub fn check(&self) -> Result<(), String> {
        for (flag, value) in [
            ("--batch-max-rows", self.max_rows),
            ("--batch-max-bytes", self.max_bytes),
            ("--batch-writers", self.writers),
        ] {
            if value == 0 {
                return Err(format!("{flag} must be at least 1"));
            }
        }
        Ok(())
    }

    /// Whether a request this large may share a transaction at all.
    fn fits(&self, rows: usize, bytes: usize) -> bool {
        rows <= self.max_rows && bytes <= self.max_bytes
    }
}

impl Default for Bounds {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<T> {
    /// Write these together in one transaction now (a writer is taken: call `finished` after).
    Group(Vec<T>),
    /// Write this request alone now, beside the groups, without taking a writer: it exceeds the
    /// bounds, and waiting behind the groups (or making them wait behind it) would hold others.
    Alone(T),
    /// Nothing until this time, a new request or a finished write.
    WaitUntil(Instant),
    /// Nothing until a new request or a finished write.
    Idle,
}

struct Waiting<T> {
    item: T,
    rows: usize,
    bytes: usize,
    since: Instant,
}

/// The requests of one signal waiting to be written, and the writes in flight.
pub struct Batcher<T> {
    bounds: Bounds,
    queue: VecDeque<Waiting<T>>,
    /// Requests too large to share a transaction, each to be written alone at once.
    alone: VecDeque<T>,
    /// Of the waiting requests (those that may share): their rows and bytes.
    rows: usize,
    bytes: usize,
    in_flight: usize,
}

impl<T> Batcher<T> {
    pub fn new(bounds: Bounds) -> Self {
        Self {
            bounds,
            queue: VecDeque::new(),
            alone: VecDeque::new(),
            rows: 0,
            bytes: 0,
            in_flight: 0,
        }
    }

    /// A request of `rows` rows and `bytes` bytes arrived at `now`.
    pub fn push(&mut self, item: T, rows: usize, bytes: usize, now: Instant) {
        if !self.bounds.fits(rows, bytes) {
            self.alone.push_back(item);
            return;
        }
        self.rows += rows;
        self.bytes += bytes;
        self.queue.push_back(Waiting {
            item,
            rows,
            bytes,
            since: now,
        });
    }

    /// A group `Next::Group` gave was written (committed or not).
    pub fn finished(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Groups in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Nothing waiting and nothing in flight.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.alone.is_empty() && self.in_flight == 0
    }

    /// What to do at `now`; call again until it says to wait.
    ///
    /// A request too large to share (beyond the bounds alone) is written alone at once, beside the
    /// groups. The others go in the order they came. With a writer free, a group closes at once when no write is
    /// in flight (an idle server adds no latency), when the waiting requests fill the bounds, or
    /// when the oldest has waited `max_wait`; until then more may join. A group takes waiting
    /// requests in order while they fit.
    pub fn next(&mut self, now: Instant) -> Next<T> {
        if let Some(alone) = self.alone.pop_front() {
            return Next::Alone(alone);
        }
        let Some(front) = self.queue.front() else {
            return Next::Idle;
        };
        if self.in_flight >= self.bounds.writers {
            return Next::Idle;
        }
        let full = self.rows >= self.bounds.max_rows || self.bytes >= self.bounds.max_bytes;
        let due = front.since + self.bounds.max_wait;
        if self.in_flight > 0 && !full && now < due {
            return Next::WaitUntil(due);
        }
        let (mut group, mut rows, mut bytes) = (Vec::new(), 0, 0);
        while let Some(next) = self.queue.front() {
            let (with_rows, with_bytes) = (rows + next.rows, bytes + next.bytes);
            if !self.bounds.fits(with_rows, with_bytes) {
                break;
            }
            (rows, bytes) = (with_rows, with_bytes);
            group.extend(self.pop().map(|waiting| waiting.item));
        }
        self.in_flight += 1;
        Next::Group(group)
    }

    fn pop(&mut self) -> Option<Waiting<T>> {
        let waiting = self.queue.pop_front()?;
        self.rows -= waiting.rows;
        self.bytes -= waiting.bytes;
        Some(waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUNDS: Bounds = Bounds {
        max_rows: 100,
        max_bytes: 10_000,
        max_wait: Duration::from_millis(5),
        writers: 2,
    };

    fn ms(start: Instant, millis: u64) -> Instant {
        start + Duration::from_millis(millis)
    }

    #[test]
    fn an_idle_lane_writes_a_lone_request_at_once() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        assert_eq!(batcher.next(t0), Next::Idle);
        batcher.push("a", 10, 1000, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a"]));
        assert_eq!(batcher.next(t0), Next::Idle);
        assert_eq!(batcher.in_flight(), 1);
        batcher.finished();
        assert!(batcher.is_idle());
    }

    #[test]
    fn requests_arriving_during_a_write_wait_for_each_other_until_the_wait_is_over() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        batcher.push("a", 10, 1000, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a"]));
        // A writer is free, but one is busy: the next requests wait for more to join.
        batcher.push("b", 10, 1000, ms(t0, 1));
        assert_eq!(batcher.next(ms(t0, 1)), Next::WaitUntil(ms(t0, 6)));
        batcher.push("c", 10, 1000, ms(t0, 3));
        assert_eq!(batcher.next(ms(t0, 5)), Next::WaitUntil(ms(t0, 6)));
        // The oldest has waited max_wait: the group closes with everything waiting.
        assert_eq!(batcher.next(ms(t0, 6)), Next::Group(vec!["b", "c"]));
        assert_eq!(batcher.in_flight(), 2);
    }

    #[test]
    fn a_finished_write_lets_the_waiting_go_at_once() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        batcher.push("a", 10, 1000, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a"]));
        batcher.push("b", 10, 1000, ms(t0, 1));
        batcher.push("c", 10, 1000, ms(t0, 1));
        assert!(matches!(batcher.next(ms(t0, 1)), Next::WaitUntil(_)));
        // Nothing in flight any more: no reason to wait.
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 2)), Next::Group(vec!["b", "c"]));
    }

    #[test]
    fn with_every_writer_busy_requests_wait_however_long_they_have_waited() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        batcher.push("a", 10, 1000, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a"]));
        batcher.push("b", 10, 1000, t0);
        assert_eq!(batcher.next(ms(t0, 5)), Next::Group(vec!["b"]));
        batcher.push("c", 10, 1000, ms(t0, 6));
        assert_eq!(batcher.next(ms(t0, 60)), Next::Idle);
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 61)), Next::Group(vec!["c"]));
    }

    #[test]
    fn a_group_closes_when_full_and_takes_no_more_than_the_bounds() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        batcher.push("a", 10, 100, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a"]));
        // 40 + 40 + 40 rows: more than 100 wait, so no need to wait for more; the group
        // takes the first two (80), the third waits for the next.
        for name in ["b", "c", "d"] {
            batcher.push(name, 40, 100, ms(t0, 1));
        }
        assert_eq!(batcher.next(ms(t0, 1)), Next::Group(vec!["b", "c"]));
        batcher.finished();
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 1)), Next::Group(vec!["d"]));
        // Bytes bound the same way.
        batcher.push("e", 1, 6000, ms(t0, 2));
        batcher.push("f", 1, 6000, ms(t0, 2));
        assert_eq!(batcher.next(ms(t0, 2)), Next::Group(vec!["e"]));
        assert_eq!(batcher.next(ms(t0, 2)), Next::Idle);
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 2)), Next::WaitUntil(ms(t0, 7)));
        assert_eq!(batcher.next(ms(t0, 7)), Next::Group(vec!["f"]));
    }

    #[test]
    fn a_request_beyond_the_bounds_is_written_alone_at_once_holding_no_writer() {
        let (mut batcher, t0) = (Batcher::new(BOUNDS), Instant::now());
        batcher.push("a", 10, 100, t0);
        batcher.push("b", 10, 100, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec!["a", "b"]));
        batcher.push("c", 10, 100, t0);
        assert_eq!(batcher.next(ms(t0, 5)), Next::Group(vec!["c"]));
        // Both writers busy: the huge ones go anyway, one by one, the small one waits.
        batcher.push("small", 10, 100, ms(t0, 1));
        batcher.push("many rows", 101, 100, ms(t0, 1));
        batcher.push("many bytes", 1, 10_001, ms(t0, 1));
        assert_eq!(batcher.next(ms(t0, 1)), Next::Alone("many rows"));
        assert_eq!(batcher.next(ms(t0, 1)), Next::Alone("many bytes"));
        assert_eq!(batcher.next(ms(t0, 1)), Next::Idle);
        assert_eq!(batcher.in_flight(), 2);
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 100)), Next::Group(vec!["small"]));
    }

    #[test]
    fn one_writer_is_strict_group_commit() {
        let bounds = Bounds {
            writers: 1,
            ..BOUNDS
        };
        let (mut batcher, t0) = (Batcher::new(bounds), Instant::now());
        batcher.push(1, 1, 1, t0);
        assert_eq!(batcher.next(t0), Next::Group(vec![1]));
        for k in 2..=5 {
            batcher.push(k, 1, 1, t0);
        }
        assert_eq!(batcher.next(ms(t0, 100)), Next::Idle);
        batcher.finished();
        assert_eq!(batcher.next(ms(t0, 100)), Next::Group(vec![2, 3, 4, 5]));
    }

    #[test]
    fn bounds_of_zero_are_refused() {
        assert!(Bounds::DEFAULT.check().is_ok());
        for bounds in [
            Bounds {
                max_rows: 0,
                ..BOUNDS
            },
            Bounds {
                max_bytes: 0,
                ..BOUNDS
            },
            Bounds {
                writers: 0,
                ..BOUNDS
            },
        ] {
            assert!(bounds.check().is_err());
        }
    }
}
