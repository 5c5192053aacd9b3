//! The memory of the requests in progress, one budget for both transports (`--max-inflight-bytes`).
//!
//! A request holds a `Charge` from its first byte to its answer, and grows it before each step that
//! allocates: the body as it arrives, the body as it inflates, then a safe upper bound of the decoded
//! request and its rows (`decode::decoded_size_bound`) before decoding. When the budget cannot cover
//! the next step the request is answered 429 / RESOURCE_EXHAUSTED, which clients retry, so many
//! requests waiting on a slow or locked database cannot add up to more memory than the budget,
//! however they were compressed or encoded.

use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes of memory for the requests in progress, handed out in `Charge`s.
#[derive(Clone)]
pub struct Budget {
    bytes: Arc<Semaphore>,
    total: usize,
}

/// The budget could not cover a request's next step.
#[derive(Debug, PartialEq, Eq)]
pub struct Exhausted {
    /// The bytes the request asked for, in all.
    pub wanted: usize,
    pub total: usize,
}

impl Exhausted {
    /// The request needs more than the whole budget: waiting cannot help.
    pub fn never_fits(&self) -> bool {
        self.wanted > self.total
    }
}

impl std::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.never_fits() {
            write!(
                f,
                "request too large: decoding it needs about {} bytes, more than all {} bytes of \
                 memory for requests in progress (--max-inflight-bytes); send smaller batches",
                self.wanted, self.total
            )
        } else {
            write!(
                f,
                "too much in flight: this request needs about {} bytes of the {} bytes of memory \
                 for requests in progress (--max-inflight-bytes); retry later",
                self.wanted, self.total
            )
        }
    }
}

impl Budget {
    pub fn new(total_bytes: usize) -> Self {
        let total = total_bytes.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// A charge of nothing yet, for one request.
    pub fn charge(&self) -> Charge {
        Charge {
            budget: self.clone(),
            held: None,
            bytes: 0,
        }
    }

    /// Bytes held by requests in progress now.
    pub fn in_use(&self) -> usize {
        self.total - self.bytes.available_permits()
    }
}

/// The bytes one request holds; they return to the budget when it is dropped.
pub struct Charge {
    budget: Budget,
    held: Option<OwnedSemaphorePermit>,
    bytes: usize,
}

impl Charge {
    /// Holds `more` bytes on top of what this request holds, without waiting: a full budget is an
    /// answer (retry later), not a queue.
    pub fn grow(&mut self, more: usize) -> Result<(), Exhausted> {
        let exhausted = || Exhausted {
            wanted: self.bytes.saturating_add(more),
            total: self.budget.total,
        };
        if more == 0 {
            return Ok(());
        }
        let permits = u32::try_from(more).map_err(|_| exhausted())?;
        let permit = self
            .budget
            .bytes
            .clone()
            .try_acquire_many_owned(permits)
            .map_err(|_| exhausted())?;
        match &mut self.held {
            Some(held) => held.merge(permit),
            None => self.held = Some(permit),
        }
        self.bytes += more;
        Ok(())
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A byte buffer whose capacity is held against the budget as it grows: a request body as it
/// arrives, or as it inflates.
#[derive(Default)]
pub(crate) struct ChargedBuffer {
    bytes: Vec<u8>,
}

impl ChargedBuffer {
    /// Appends `data`, first growing the capacity (doubling, but never past `cap`) and charging
    /// the growth. The caller refuses data beyond `cap` before calling this.
    pub fn extend(
        &mut self,
        data: &[u8],
        cap: usize,
        charge: &mut Charge,
    ) -> Result<(), Exhausted> {
        let needed = self.bytes.len() + data.len();
        let capacity = self.bytes.capacity();
        if needed > capacity {
            let grown = (capacity * 2).max(8 << 10).min(cap).max(needed);
            charge.grow(grown - capacity)?;
            self.bytes.reserve_exact(grown - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn into_bytes(self) -> bytes::Bytes {
        bytes::Bytes::from(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_and_come_back_when_dropped() {
        let budget = Budget::new(1000);
        let mut first = budget.charge();
        first.grow(600).unwrap();
        first.grow(0).unwrap();
        let mut second = budget.charge();
        assert_eq!(
            second.grow(500),
            Err(Exhausted {
                wanted: 500,
                total: 1000
            })
        );
        second.grow(400).unwrap();
        assert_eq!(budget.in_use(), 1000);
        assert_eq!(first.bytes(), 600);
        drop(first);
        assert_eq!(budget.in_use(), 400);
        second.grow(600).unwrap();
        drop(second);
        assert_eq!(budget.in_use(), 0);
        // More than a semaphore can count at once is simply too much.
        assert!(budget.charge().grow(usize::MAX).is_err());
    }

    #[test]
    fn a_buffer_charges_its_capacity_as_it_grows() {
        let budget = Budget::new(1 << 20);
        let mut charge = budget.charge();
        let mut buffer = ChargedBuffer::default();
        buffer.extend(b"abc", 100 << 10, &mut charge).unwrap();
        assert_eq!(charge.bytes(), 8 << 10, "a first block");
        for _ in 0..20 {
            buffer
                .extend(&[7; 4 << 10], 100 << 10, &mut charge)
                .unwrap();
        }
        assert_eq!(buffer.len(), 3 + 80 * 1024);
        assert_eq!(
            charge.bytes(),
            100 << 10,
            "doubling, but no further than the cap"
        );
        let small = Budget::new(10 << 10);
        let mut charge = small.charge();
        let mut buffer = ChargedBuffer::default();
        buffer.extend(&[0; 8 << 10], 1 << 20, &mut charge).unwrap();
        assert!(buffer.extend(&[0; 1], 1 << 20, &mut charge).is_err());
        assert_eq!(buffer.into_bytes().len(), 8 << 10);
    }
}
