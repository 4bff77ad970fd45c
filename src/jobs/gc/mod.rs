//! The gc job: delete our own VPC endpoints stuck in `failed`, safely.
//!
//! An endpoint is deleted only when it is `failed`, its `updated_at` is older
//! than `WARDEN_GC_MIN_AGE_MINUTES`, it does not carry the keep tag nor a
//! keep-until tag (`{keep tag}-until`, an RFC 3339 time) still in the future.
//! When more qualify than `WARDEN_GC_MAX_DELETES`, the run deletes none and
//! raises a critical alert (a run matching more than its cap is more likely a
//! mistake than a backlog); `WARDEN_GC_OVER_LIMIT=partial` deletes up to the
//! cap instead, oldest first. The listing only nominates: each endpoint is
//! re-read right before its deletion and deleted only if it still qualifies.
//!
//! The rules and the plan are pure ([`plan`]); this file lists, re-reads
//! and deletes.

mod plan;

pub use plan::{cap, deleted_entry, eligible, plan, refusal, Plan, Rules, FAILED};

use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;
use tracing::info;

use super::caps::Cap;
use super::{Ctx, DEADLINE_REASON};
use crate::alerts::Alert;
use crate::report::{DeletedEntry, Report, SkippedEntry};
use crate::vpcep::{ApiError, Endpoint};

fn rules_of(ctx: &Ctx) -> Rules {
    let s = &ctx.settings;
    Rules {
        now: OffsetDateTime::now_utc(),
        min_age: Duration::minutes(s.gc_min_age_minutes.min(i64::MAX as u64) as i64),
        keep_tag: s.gc_keep_tag.clone(),
        max_deletes: s.gc_max_deletes,
        over_limit: s.gc_over_limit,
    }
}

/// Lists the project's endpoints, keeping only the failed ones (page by page,
/// so memory follows the failed count, not the estate).
async fn failed_endpoints(ctx: &Ctx) -> Result<Vec<Endpoint>, ApiError> {
    let mut failed = Vec::new();
    ctx.client
        .for_each_endpoint_page(|page| {
            failed.extend(page.into_iter().filter(|e| e.status == FAILED))
        })
        .await?;
    Ok(failed)
}

/// Runs the gc job.
pub async fn run(ctx: &Ctx) -> Report {
    let mut report = Report::new("tick", ctx.dry_run());
    if !ctx.settings.gc_enabled {
        return report;
    }
    let listed = match failed_endpoints(ctx).await {
        Ok(l) => l,
        Err(e) => {
            // No deletion is based on a half-read list.
            report.error("gc", "vpc endpoints", e.to_string(), e.is_retryable());
            return report;
        }
    };
    let rules = rules_of(ctx);
    let listed = eligible(listed, &rules);
    // The cap counts across every target of the run.
    let verdict = ctx.seat.offer(Cap::Delete, listed.delete.len(), None).await;
    let room = match verdict.total > rules.max_deletes {
        true => ctx
            .seat
            .take(Cap::Delete, listed.delete.len(), rules.max_deletes),
        false => listed.delete.len(),
    };
    let plan = cap(listed, verdict.total, room, &rules);
    report.gc_skipped.extend(plan.skip);
    if let Some(count) = plan.refused {
        if !verdict.alerts {
            return report;
        }
        let alert = Alert::refused(
            "gc_over_limit",
            ctx.client.project_id(),
            count,
            format!("{count} failed endpoints qualify for deletion, more than WARDEN_GC_MAX_DELETES={}: none was deleted; check them, then raise the cap or set WARDEN_GC_OVER_LIMIT=partial", rules.max_deletes),
        );
        let delivered = ctx
            .sinks
            .deliver_all("gc", vec![alert], ctx.dry_run())
            .await;
        report.alerts.extend(delivered.alerts);
        report.errors.extend(delivered.errors);
        return report;
    }
    let mut set = JoinSet::new();
    for e in plan.delete {
        let slot = ctx.action_slot().await;
        if !ctx.has_time() {
            report.gc_skipped.push(SkippedEntry {
                endpoint_id: e.id,
                reason: DEADLINE_REASON.to_owned(),
                target: None,
            });
            continue;
        }
        let ctx = ctx.clone();
        let rules = rules.clone();
        set.spawn(async move {
            let outcome = recheck_and_delete(&ctx, e, &rules).await;
            drop(slot);
            outcome
        });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Outcome::Deleted(entry)) => report.deleted.push(entry),
            Ok(Outcome::Skipped(entry)) => report.gc_skipped.push(entry),
            Ok(Outcome::Failed(id, e)) => report.error(
                "gc",
                &format!("endpoint {id}"),
                e.to_string(),
                e.is_retryable(),
            ),
            Err(_) => report.error(
                "gc",
                "vpc endpoints",
                "a deletion task ended abnormally".into(),
                true,
            ),
        }
    }
    // Under the cap: an over-limit alert sent before has cleared. Said
    // last, so the deletions do not wait for the run's other jobs (which
    // deliver together with this one).
    let cleared = ctx.sinks.deliver_all("gc", Vec::new(), ctx.dry_run()).await;
    report.errors.extend(cleared.errors);
    report
}

enum Outcome {
    Deleted(DeletedEntry),
    Skipped(SkippedEntry),
    Failed(String, ApiError),
}

/// Re-reads one endpoint and deletes it only if it still qualifies (a dry
/// run re-reads too, and reports what the real run would delete).
async fn recheck_and_delete(ctx: &Ctx, listed: Endpoint, rules: &Rules) -> Outcome {
    let current = match ctx.client.get_endpoint(&listed.id).await {
        Ok(e) => e,
        Err(e) if e.is_not_found() => {
            return Outcome::Skipped(SkippedEntry {
                endpoint_id: listed.id,
                reason: "already gone when re-read".into(),
                target: None,
            })
        }
        Err(e) => return Outcome::Failed(listed.id, e),
    };
    if current.id != listed.id {
        return Outcome::Skipped(SkippedEntry {
            reason: format!(
                "the re-read answer describes endpoint {:?}, not the one listed; left alone",
                current.id
            ),
            endpoint_id: listed.id,
            target: None,
        });
    }
    if let Some(reason) = refusal(&current, rules) {
        return Outcome::Skipped(SkippedEntry {
            endpoint_id: listed.id,
            reason: format!("changed since listing: {reason}"),
            target: None,
        });
    }
    if ctx.dry_run() {
        return Outcome::Deleted(deleted_entry(&current));
    }
    match ctx.client.delete_endpoint(&current.id).await {
        Ok(()) => {
            info!(endpoint = %current.id, updated_at = %current.updated_at, "failed endpoint deleted");
            Outcome::Deleted(deleted_entry(&current))
        }
        Err(e) => Outcome::Failed(current.id, e),
    }
}
