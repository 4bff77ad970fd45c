//! Trigger in, report out: the one place that knows every job. With
//! `WARDEN_TARGETS`, a tick's jobs run in each target (see [`crate::targets`]).

use std::time::Instant;

use tracing::field::Empty;
use tracing::{info_span, Instrument};

use crate::events::{Job, Notice, Trigger};
use crate::jobs::{approve, gc, quota, remember, Ctx};
use crate::report::Report;
use crate::targets;

/// What one invocation did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: Report,
    /// Ids of the records that failed (SQS `messageId`s), to be retried.
    pub failed_records: Vec<String>,
}

/// Runs the jobs `trigger` asks for and reports.
pub async fn dispatch(ctx: &Ctx, trigger: Trigger) -> Outcome {
    let ctx = &ctx.for_one_run();
    let started = Instant::now();
    let calls_before = ctx.client.api_calls();
    let mut outcome = match trigger {
        Trigger::Tick { jobs, targets } => {
            let names: Vec<&str> = jobs.iter().map(|j| j.name()).collect();
            // Fields recorded only when they say something, so lines stay short.
            let span = info_span!("tick", jobs = Empty, targets = Empty, dry_run = Empty);
            if !names.is_empty() {
                span.record("jobs", names.join(","));
            }
            if !targets.is_empty() {
                span.record("targets", targets.join(","));
            }
            if ctx.dry_run() {
                span.record("dry_run", true);
            }
            let report = if targets::configured(ctx) {
                let work = move |ctx: Ctx| {
                    let jobs = jobs.clone();
                    async move { tick(&ctx, &jobs).await }
                };
                targets::run(ctx, "tick", &targets, work)
                    .instrument(span)
                    .await
            } else {
                let key = remember::project_key(ctx);
                remember::around(ctx, key, |ctx| async move { tick(&ctx, &jobs).await })
                    .instrument(span)
                    .await
            };
            Outcome {
                report,
                failed_records: Vec::new(),
            }
        }
        Trigger::FanOut { jobs, targets } => {
            let names: Vec<&str> = jobs.iter().map(|j| j.name()).collect();
            let span = info_span!("fanout", jobs = %names.join(","), targets = %targets.join(","));
            Outcome {
                report: targets::fan_out(ctx, &jobs, &targets)
                    .instrument(span)
                    .await,
                failed_records: Vec::new(),
            }
        }
        Trigger::Connections(records) => {
            let span = info_span!(
                "connections",
                records = records.len(),
                dry_run = ctx.dry_run()
            );
            connections(ctx, records).instrument(span).await
        }
    };
    // The targets' own requests are counted already; these are the warden's (agency hand-offs).
    outcome.report.api_calls += ctx.client.api_calls().saturating_sub(calls_before);
    outcome.report.duration_ms = started.elapsed().as_millis().try_into().unwrap_or(u64::MAX);
    outcome
}

/// A tick runs its jobs side by side under the client's one concurrency
/// limit; their alerts travel together, one request per sink (each job's
/// sinks are one of the run's batch, and say when the job has ended).
async fn tick(ctx: &Ctx, jobs: &[Job]) -> Report {
    let wanted: Vec<Job> = Job::ALL
        .into_iter()
        .filter(|j| jobs.is_empty() || jobs.contains(j))
        .collect();
    let runs = wanted
        .iter()
        .zip(ctx.sinks.batched(wanted.len()))
        .map(|(&job, sinks)| {
            let ctx = ctx.with_sinks(sinks);
            async move {
                let report = match job {
                    Job::Approve => approve::sweep(&ctx).await,
                    Job::Quota => quota::run(&ctx).await,
                    Job::Gc => gc::run(&ctx).await,
                };
                ctx.sinks.done();
                report
            }
        });
    let mut report = Report::new("tick", ctx.dry_run());
    for part in futures_util::future::join_all(runs).await {
        report.merge(part);
    }
    report
}

/// Each record is handled on its own: a malformed one, or one whose work failed,
/// is listed as failed; the others are processed once.
async fn connections(ctx: &Ctx, records: Vec<crate::events::Record>) -> Outcome {
    let mut report = Report::new("connection", ctx.dry_run());
    let mut failed_records = Vec::new();
    let mut notices: Vec<Notice> = Vec::new();
    let mut ids: Vec<Option<String>> = Vec::new();
    for (i, record) in records.into_iter().enumerate() {
        match record.notice {
            Ok(notice) => {
                notices.push(notice);
                ids.push(record.id);
            }
            Err(message) => {
                let target = record.id.clone().unwrap_or_else(|| format!("record {i}"));
                report.error("approve", &target, message, false);
                failed_records.extend(record.id);
            }
        }
    }
    // Repeated notices (an SQS batch, a re-delivered SNS message) are worked
    // once; each record still succeeds or fails with the work that covers it.
    // With targets, each notice is worked in the target holding its service.
    // A state store that failed is an error of the run, not of a record:
    // the records are not retried for it.
    let (parts, covering) = if targets::configured(ctx) {
        let routed = targets::connections(ctx, notices).await;
        report.errors.extend(routed.state_errors);
        (routed.reports, routed.covering)
    } else {
        let (unique, covering) = approve::distinct(&notices);
        let ctx = remember::open(ctx, remember::project_key(ctx)).await;
        let parts = approve::run_all(&ctx, unique).await;
        let mut all = Report::new("connection", ctx.dry_run());
        parts.iter().for_each(|p| all.merge(p.clone()));
        report.errors.extend(remember::close(&ctx, &all).await);
        (parts, covering)
    };
    for (&part, id) in covering.iter().zip(ids) {
        if !parts[part].is_clean() {
            failed_records.extend(id);
        }
    }
    for part in parts {
        // A target's own requests (with targets) are counted in its reports.
        report.api_calls += part.api_calls;
        report.merge(part);
    }
    Outcome {
        report,
        failed_records,
    }
}
