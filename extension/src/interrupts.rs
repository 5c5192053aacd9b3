//! Letting PostgreSQL stop a long loop.
//!
//! A trace can hold a million spans, and the loops over them (reading, building the tree, aligning
//! two runs, building JSON) run inside one SQL call. PostgreSQL can stop a call (statement_timeout,
//! pg_cancel_backend, a client that went away, a shutdown) only where the call looks, so every loop
//! over spans calls [`check`]: when something asked to stop, it raises that error (e.g. 57014
//! query_canceled) and the loop's Rust state is dropped as the error unwinds.

/// PostgreSQL's CHECK_FOR_INTERRUPTS(): a load and a branch while nothing is pending.
#[inline]
pub fn check() {
    // Plain unit tests run outside a PostgreSQL backend: there is nothing to check there.
    #[cfg(not(test))]
    pgrx::pg_sys::check_for_interrupts!();
}
