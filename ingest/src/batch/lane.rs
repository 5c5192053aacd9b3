//! One lane per signal (spans, logs, metrics: each its own table, so each its own transactions):
//! a task that runs the signal's `Batcher` and hands each group it closes to the writer, then
//! answers each request of the group with its own share of what was written, or with the group's
//! error. The requests wait for their answer; nothing here touches the database.

use super::batcher::{Batcher, Bounds, Next};
use crate::map::logs::LogRow;
use crate::map::metrics::MetricRow;
use crate::map::scores::ScoreRow;
use crate::map::spans::SpanRow;
use crate::write::{Part, Row, WriteError, Writer, Written};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// One request's rows and scores, and where its answer goes.
struct Job<R> {
    rows: Vec<R>,
    scores: Vec<ScoreRow>,
    reply: oneshot::Sender<Result<Written, WriteError>>,
}

/// Where one signal's requests are written from (cheap to clone: a channel to its task).
pub struct Lane<R> {
    arrivals: mpsc::UnboundedSender<(Job<R>, usize)>,
    /// Requests given to the lane and not answered yet (waiting or being written).
    unanswered: Arc<AtomicUsize>,
}

impl<R> Clone for Lane<R> {
    fn clone(&self) -> Self {
        Self {
            arrivals: self.arrivals.clone(),
            unanswered: self.unanswered.clone(),
        }
    }
}

impl<R> Lane<R> {
    /// Requests given to the lane and not answered yet: waiting for their group or being written.
    pub fn unanswered(&self) -> usize {
        self.unanswered.load(Ordering::Relaxed)
    }
}

/// Counts a request as unanswered while it lives.
struct Unanswered(Arc<AtomicUsize>);

impl Unanswered {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<R: Row + Send + 'static> Lane<R> {
    /// Starts the lane's task; it ends when the last `Lane` is dropped and its writes are done.
    fn start(writer: Writer, bounds: Bounds) -> Self {
        let (arrivals, received) = mpsc::unbounded_channel();
        tokio::spawn(run(writer, bounds, received));
        Self {
            arrivals,
            unanswered: Arc::default(),
        }
    }

    /// Writes one request's rows and scores (`bytes`: its size, decompressed) with whatever
    /// requests of the signal join them, and returns what became of its own once the transaction
    /// that holds them committed. `Err`: nothing of it was committed.
    pub async fn write(
        &self,
        rows: Vec<R>,
        scores: Vec<ScoreRow>,
        bytes: usize,
    ) -> Result<Written, WriteError> {
        if rows.is_empty() && scores.is_empty() {
            return Ok(Written::default());
        }
        let _unanswered = Unanswered::new(&self.unanswered);
        let (reply, answer) = oneshot::channel();
        let job = Job {
            rows,
            scores,
            reply,
        };
        self.arrivals
            .send((job, bytes))
            .map_err(|_| WriteError::unavailable("the server is stopping"))?;
        answer.await.map_err(|_| {
            WriteError::unavailable("the write of this request's group was abandoned")
        })?
    }
}

/// The lanes of the three signals.
#[derive(Clone)]
pub struct Batches {
    pub spans: Lane<SpanRow>,
    pub logs: Lane<LogRow>,
    pub metrics: Lane<MetricRow>,
}

impl Batches {
    /// Starts one lane per signal, writing with `writer` within `bounds` (needs a tokio runtime).
    pub fn start(writer: &Writer, bounds: Bounds) -> Self {
        Self {
            spans: Lane::start(writer.clone(), bounds),
            logs: Lane::start(writer.clone(), bounds),
            metrics: Lane::start(writer.clone(), bounds),
        }
    }
}

/// The lane's task: requests in, groups out to the writer, as the batcher says.
async fn run<R: Row + Send + 'static>(
    writer: Writer,
    bounds: Bounds,
    mut arrivals: mpsc::UnboundedReceiver<(Job<R>, usize)>,
) {
    let mut batcher = Batcher::new(bounds);
    // Groups (each holding one of the lane's writers) and requests written alone.
    let (mut groups, mut alone) = (JoinSet::new(), JoinSet::new());
    let mut open = true;
    loop {
        let wake = loop {
            match batcher.next(Instant::now()) {
                Next::Group(jobs) => drop(groups.spawn(write(writer.clone(), jobs))),
                Next::Alone(job) => drop(alone.spawn(write(writer.clone(), vec![job]))),
                Next::WaitUntil(when) => break Some(when),
                Next::Idle => break None,
            }
        };
        if !open && batcher.is_idle() && alone.is_empty() {
            return;
        }
        let sleep = tokio::time::Instant::from_std(wake.unwrap_or_else(Instant::now));
        tokio::select! {
            arrival = arrivals.recv(), if open => match arrival {
                Some(first) => {
                    // Everything that arrived meanwhile, so a burst is grouped at once.
                    let now = Instant::now();
                    let mut arrival = Some(first);
                    while let Some((job, bytes)) = arrival {
                        let rows = job.rows.len() + job.scores.len();
                        batcher.push(job, rows, bytes, now);
                        arrival = arrivals.try_recv().ok();
                    }
                }
                None => open = false,
            },
            Some(_) = groups.join_next(), if !groups.is_empty() => batcher.finished(),
            Some(_) = alone.join_next(), if !alone.is_empty() => {}
            _ = tokio::time::sleep_until(sleep), if wake.is_some() => {}
        }
    }
}

/// Writes `jobs` in one transaction and answers each.
async fn write<R: Row>(writer: Writer, jobs: Vec<Job<R>>) {
    // A request whose client is gone (its answer no longer awaited) is not written.
    let mut jobs = jobs.into_iter().filter(|job| !job.reply.is_closed());
    let Some(first) = jobs.next() else {
        return;
    };
    let mut parts = vec![Part {
        rows: first.rows.len(),
        scores: first.scores.len(),
    }];
    let (mut rows, mut scores, mut replies) = (first.rows, first.scores, vec![first.reply]);
    for job in jobs {
        parts.push(Part {
            rows: job.rows.len(),
            scores: job.scores.len(),
        });
        rows.extend(job.rows);
        scores.extend(job.scores);
        replies.push(job.reply);
    }
    match writer.write_group(&rows, &scores, &parts).await {
        Ok(written) => {
            for (reply, written) in replies.into_iter().zip(written) {
                let _ = reply.send(Ok(written));
            }
        }
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}
