//! Batch: group commit. Requests of one signal that arrive while its writes are in flight wait
//! together and go into the next transaction as one group, bounded by rows, bytes and a short wait;
//! each is answered when that transaction commits (or fails).
//!
//! - `batcher.rs`: which waiting requests join which group, and when a group closes. Pure: no
//!   I/O, no clock (the time is passed in), so every rule is a unit test.
//! - `lane.rs`: one task per signal that runs a `Batcher`, hands each group to the writer (the only
//!   I/O) and answers each request with its own share of what was written.

mod batcher;
mod lane;

pub use batcher::{Batcher, Bounds, Next};
pub use lane::{Batches, Lane};
