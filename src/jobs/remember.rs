//! A run's state document: opened before the jobs of one target, saved
//! after them with the run's summary, and what went wrong with the store
//! said in the report (job `state`) and the logs.
//!
//! A store that fails never stops approval or gc: the jobs run as if
//! nothing had been sent, announced or first seen (alerts then go out: a
//! duplicate beats a missed alert); only revocation, which needs the first
//! sightings, waits for a run that could read them.

use std::sync::Arc;

use crate::report::{ErrorEntry, Report};
use crate::state::{LastRun, Run, Store};

use super::Ctx;

/// The context of a run holding the document at `key` (read now; a dry run
/// never writes it).
pub async fn open(ctx: &Ctx, key: String) -> Ctx {
    let run = Run::open(&ctx.store, key, ctx.dry_run()).await;
    ctx.with_state(Arc::new(run))
}

/// The document of the one target of plain settings.
pub fn project_key(ctx: &Ctx) -> String {
    Store::project_key(ctx.client.project_id())
}

/// Saves the run's document with `summary` as its last run; what went
/// wrong with the store, as an error for the report.
pub async fn close(ctx: &Ctx, summary: &Report) -> Option<ErrorEntry> {
    let finished_at = time::OffsetDateTime::now_utc();
    let summary = summary.summary();
    ctx.state
        .update(|doc| {
            doc.last_run = Some(LastRun {
                finished_at,
                summary,
            })
        })
        .await;
    ctx.state.save().await;
    let message = ctx.state.problem().await?;
    tracing::error!(store = ctx.store.location(), "{message}");
    Some(ErrorEntry {
        job: "state".into(),
        target: format!("state store {}", ctx.store.location()),
        message,
        retryable: true,
        target_name: None,
    })
}

/// Runs `work` in a run holding the document at `key`, then saves it; a
/// store problem is an error of the report.
pub async fn around<F, Fut>(ctx: &Ctx, key: String, work: F) -> Report
where
    F: FnOnce(Ctx) -> Fut,
    Fut: std::future::Future<Output = Report>,
{
    let ctx = open(ctx, key).await;
    let mut report = work(ctx.clone()).await;
    report.errors.extend(close(&ctx, &report).await);
    report
}
