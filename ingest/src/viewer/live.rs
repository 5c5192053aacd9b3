//! `GET /api/live`: server-sent events that tell the browser when the latest traces changed, so
//! the list shows new traces (and traces still receiving spans) without a reload. Each stream polls
//! `live_head.sql` (the 50 latest traces by start time and when each last changed: an index scan)
//! and sends it as a `head` event when it differs from what it sent last; the page then re-reads
//! its first page with its own filters. A trace that arrives with a start time older than the 50
//! latest appears at the next reload. Streams end when the server stops.

use super::state::Viewer;
use crate::read::queries;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::FutureExt;
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;

/// How often each stream looks at the latest traces.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

pub async fn stream(
    State(viewer): State<Viewer>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stopped = match viewer.stop.clone() {
        Some(mut stop) => async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
        .boxed(),
        None => futures_util::future::pending().boxed(),
    };
    let mut interval = tokio::time::interval(POLL_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let heads = stream::unfold(
        (viewer, interval, None::<String>),
        |(viewer, mut interval, sent)| async move {
            loop {
                interval.tick().await;
                // A failed poll (the database restarting) is skipped: the next one may succeed.
                let Ok(head) = viewer.db.rows(&queries::LIVE_HEAD, &[]).await else {
                    continue;
                };
                if sent.as_deref() != Some(head.get()) {
                    let event = Event::default().event("head").data(head.get());
                    return Some((Ok(event), (viewer, interval, Some(head.get().to_string()))));
                }
            }
        },
    );
    Sse::new(heads.take_until(stopped)).keep_alive(KeepAlive::default())
}
