//! The runs a POST starts: each a task of its own, tracked until it ends
//! (at shutdown too, whatever became of its connection), and a posted tick
//! kept to one per target at a time ([`super::ticks`]).

use std::sync::Arc;

use serde_json::{json, Value};

use super::ticks::{self, Busy, Slot};
use super::Shared;
use crate::events::{Decoded, Trigger};
use crate::jobs::Ctx;

/// Runs a decoded event and answers with its report (an HTTP status and a
/// body, which the HTTP surface sends); a tick that a running
/// one covers is answered `202 Accepted` instead, and one that shares a
/// target with a running one waits for it to end.
pub(super) async fn run(shared: &Arc<Shared>, ctx: Ctx, decoded: Decoded) -> (u16, Value) {
    let Trigger::Tick { jobs, targets } = &decoded.trigger else {
        return finish(shared, ctx, decoded, None).await;
    };
    let covers = shared.ticks.covers(jobs, targets);
    loop {
        match shared.ticks.try_start(covers.clone()) {
            Ok(slot) => return finish(shared, ctx, decoded, Some(slot)).await,
            Err(Busy::Joined(running)) => {
                shared.metrics.tick_joined();
                tracing::info!(
                    started_at = %running.started_at,
                    "a posted tick that the running one covers: joined, not started again"
                );
                return (202, json!({"status": "joined", "running": running}));
            }
            Err(Busy::Overlaps(done)) => {
                tracing::info!("a posted tick waits for the running tick it overlaps");
                ticks::ended(done).await;
            }
        }
    }
}

/// Runs the event in a tracked task (holding the tick's slot, if any, until
/// it ends) and answers with the report.
async fn finish(
    shared: &Arc<Shared>,
    ctx: Ctx,
    decoded: Decoded,
    slot: Option<Slot>,
) -> (u16, Value) {
    let task = shared.clone();
    let span = tracing::Span::current();
    let handle = shared.runs.spawn(tracing::Instrument::instrument(
        async move {
            let trigger = decoded.trigger.clone();
            let (_, outcome) = crate::runtime::run_decoded(&ctx, decoded).await;
            task.record(&trigger, &outcome.report);
            drop(slot);
            outcome
        },
        span,
    ));
    match handle.await {
        Ok(outcome) => {
            let report = serde_json::to_value(&outcome.report).expect("a report always serializes");
            (crate::runtime::http_status(&outcome.report), report)
        }
        Err(e) => {
            tracing::error!(error = %e, "a run stopped abnormally");
            (500, json!({"error": "the run stopped abnormally"}))
        }
    }
}
