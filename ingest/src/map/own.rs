//! What a request's rows get beyond what the request says: the project they belong to (the project
//! of the token the request came with) and what is kept of their content (`redact`). Pure.

use super::Mapped;
use super::logs::LogRow;
use super::metrics::MetricRow;
use super::redact::Redaction;
use super::scores::ScoreRow;
use super::spans::SpanRow;

/// What a request's rows get beyond what the request says.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The project of the token the request came with.
    pub project_id: i32,
    /// That project's redaction.
    pub redaction: &'a Redaction,
}

/// A row that belongs to a project and may hold content.
pub trait Owned {
    /// Puts the row in `context`'s project and redacts its content as `context` says.
    fn own(&mut self, context: &Context);
}

/// A span's text columns are redacted here; its JSON columns (attributes, resource attributes,
/// events' attributes) were redacted as they were written (`spans::map_request_redacted`, by
/// `Redaction::rule`, as `Redaction::attributes` redacts a JSON object).
impl Owned for SpanRow {
    fn own(&mut self, context: &Context) {
        self.project_id = context.project_id;
        self.input = context.redaction.text(self.input.take());
        self.output = context.redaction.text(self.output.take());
    }
}

impl Owned for LogRow {
    fn own(&mut self, context: &Context) {
        self.project_id = context.project_id;
        context.redaction.log(self);
    }
}

impl Owned for MetricRow {
    fn own(&mut self, context: &Context) {
        self.project_id = context.project_id;
        context.redaction.metric(self);
    }
}

impl Owned for ScoreRow {
    fn own(&mut self, context: &Context) {
        self.project_id = context.project_id;
        context.redaction.score(self);
    }
}

/// `mapped` with every row, and every score, owned by `context` (pure).
pub fn own<R: Owned>(mut mapped: Mapped<R>, context: &Context) -> Mapped<R> {
    for row in &mut mapped.rows {
        row.own(context);
    }
    for score in &mut mapped.scores {
        score.own(context);
    }
    mapped
}
