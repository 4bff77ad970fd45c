//! Reconcile (`WARDEN_RECONCILE`): revoke accepted connections of accounts
//! no longer allowed, on scheduled runs only, and only when it is safe:
//!
//! - not before `WARDEN_RECONCILE_GRACE_MINUTES` have passed since the
//!   connection was first found not allowed (recorded in its description;
//!   until then the report says `revoke scheduled at …` and one notice goes
//!   out, at the first sighting);
//! - not in a run in which any list or whitelist read failed, in any target;
//! - not when more are due across the whole run (every target) than
//!   `WARDEN_RECONCILE_MAX`: then none anywhere, and one critical alert.
//!
//! Which connections are candidates is decided in [`super::plan`] alone.

use time::{Duration, OffsetDateTime};
use tokio::task::JoinSet;
use tracing::info;

use super::apply::failed;
use super::plan::Candidate;
use super::Part;
use crate::alerts::Alert;
use crate::config::Reconcile;
use crate::jobs::caps::Cap;
use crate::jobs::{marks, Ctx, DEADLINE_REASON};
use crate::report::RevokedEntry;
use crate::state::connection_key;
use crate::vpcep::ConnectionAction;

const WHY: &str =
    "account no longer allowed (not in WARDEN_ALLOWED_DOMAINS, WARDEN_ALLOWED_ORG_PATHS nor the service's whitelist)";

/// Where a candidate stands with its grace period.
enum Grace {
    /// Due now.
    Due,
    /// Found before, due at this time.
    Waiting(OffsetDateTime),
    /// Found for the first time now: due at this time.
    FirstSeen(OffsetDateTime),
    /// Its first sighting cannot be recorded (the description is someone else's).
    Unrecorded,
}

/// Where `c` stands: its first sighting is the earlier of its description's
/// mark and the state document's (`remembered`); a new one can be recorded
/// in the state (`kept`) or in a description the warden may mark (`marked`).
fn grace_of(
    c: &Candidate,
    grace: Duration,
    marked: bool,
    kept: bool,
    remembered: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Grace {
    if grace.is_zero() {
        return Grace::Due;
    }
    let first = [marks::first_sighting(c.description.as_deref()), remembered]
        .into_iter()
        .flatten()
        .min();
    match first {
        Some(first) if first + grace <= now => Grace::Due,
        Some(first) => Grace::Waiting(first + grace),
        None if kept || (marked && marks::is_ours(c.description.as_deref())) => {
            Grace::FirstSeen(now + grace)
        }
        None => Grace::Unrecorded,
    }
}

fn time_of(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Reconciles across the whole run. Returns the alerts to send with the
/// run's notices: the first-sighting notices and, over the cap, the one
/// critical alert (raised by one target of the run only).
pub async fn revoke(ctx: &Ctx, parts: &mut [Part]) -> Vec<Alert> {
    let s = &ctx.settings;
    let now = OffsetDateTime::now_utc();
    if let Some(why) = ctx.state.failed() {
        // Without the first sightings nothing is revoked in this target;
        // the other targets of the run go on.
        let reason = format!("{WHY}; not revoked: the state store could not be relied on ({why}), and revoking needs the first sightings it keeps");
        ctx.seat.offer(Cap::Revoke, 0, None).await;
        for part in parts.iter_mut() {
            for c in std::mem::take(&mut part.revoke) {
                part.report.revoked.push(entry(&c, false, reason.clone()));
            }
        }
        return Vec::new();
    }
    let kept = ctx.state.remembers();
    // Without a state store or audit marks no first sighting is kept:
    // `report` mode, which revokes nothing, reports at once; `reject`
    // (refused at start with a grace period) revokes nothing.
    let minutes = match (s.audit_description || kept, s.reconcile) {
        (false, Reconcile::Report) => 0,
        _ => s.reconcile_grace_minutes.min(i64::MAX as u64 / 60),
    };
    let grace = Duration::minutes(minutes as i64);
    let first_seen = ctx.state.view(|d| d.first_seen.clone()).await;
    let mut seen_now = std::collections::BTreeMap::new();
    let mut alerts = Vec::new();
    let mut due: Vec<(usize, Candidate)> = Vec::new();
    for (i, part) in parts.iter_mut().enumerate() {
        for c in std::mem::take(&mut part.revoke) {
            let key = connection_key(&c.service_id, &c.endpoint_id);
            let remembered = first_seen.get(&key).copied().filter(|_| kept);
            seen_now.insert(key, remembered.unwrap_or(now));
            let waiting = match grace_of(&c, grace, s.audit_description, kept, remembered, now) {
                Grace::Due => {
                    due.push((i, c));
                    continue;
                }
                Grace::Waiting(at) => format!(
                    "{WHY}; revoke scheduled at {} (WARDEN_RECONCILE_GRACE_MINUTES={})",
                    time_of(at),
                    s.reconcile_grace_minutes
                ),
                Grace::FirstSeen(at) => {
                    let reason = format!(
                        "{WHY}; revoke scheduled at {} (WARDEN_RECONCILE_GRACE_MINUTES={})",
                        time_of(at),
                        s.reconcile_grace_minutes
                    );
                    if s.audit_description && marks::is_ours(c.description.as_deref()) {
                        let mark = marks::mark(marks::FOUND_NOT_ALLOWED, now, WHY);
                        part.marks.push((c.endpoint_id.clone(), mark));
                    }
                    alerts.push(scheduled_notice(ctx, &c, &reason));
                    reason
                }
                Grace::Unrecorded => format!(
                    "{WHY}; not revoked: the first sighting that starts WARDEN_RECONCILE_GRACE_MINUTES cannot be recorded (no WARDEN_STATE store, and its description is not the warden's or WARDEN_AUDIT_DESCRIPTION is off)"
                ),
            };
            part.report.revoked.push(entry(&c, false, waiting));
        }
    }
    let incomplete = parts
        .iter()
        .filter_map(|p| p.read_failed.clone())
        .next()
        .map(|first| {
            let more = parts.iter().filter(|p| p.read_failed.is_some()).count() - 1;
            match more {
                0 => first,
                n => format!("{first} (and {n} more)"),
            }
        });
    if kept {
        // The first sightings of this run's candidates; after a complete
        // read, a connection no longer a candidate (allowed again, revoked,
        // gone) is forgotten, so a later sighting starts afresh.
        let complete = incomplete.is_none();
        ctx.state
            .update(|doc| {
                if complete {
                    doc.first_seen.retain(|k, _| seen_now.contains_key(k));
                }
                for (k, at) in seen_now {
                    doc.first_seen.entry(k).or_insert(at);
                }
            })
            .await;
    }
    let verdict = ctx.seat.offer(Cap::Revoke, due.len(), incomplete).await;
    let max = s.reconcile_max;
    let refused = if !verdict.incomplete.is_empty() {
        Some(format!(
            "{WHY}; not revoked: a read of this run failed ({}), and nothing is revoked on a partial view",
            verdict.incomplete.join("; ")
        ))
    } else if verdict.total > max {
        Some(format!(
            "{WHY}; {} connections are due across the run, more than WARDEN_RECONCILE_MAX={max}: none is rejected",
            verdict.total
        ))
    } else if s.reconcile == Reconcile::Report {
        Some(format!("{WHY}; WARDEN_RECONCILE=report: not rejected"))
    } else {
        None
    };
    if verdict.total > max && verdict.incomplete.is_empty() && verdict.alerts {
        let total = verdict.total;
        alerts.push(Alert::refused(
            "reconcile_over_limit",
            ctx.client.project_id(),
            total,
            format!("{total} accepted connections belong to accounts no longer allowed, more than WARDEN_RECONCILE_MAX={max}: none was rejected; check WARDEN_ALLOWED_DOMAINS and the services' whitelists"),
        ));
    }
    if let Some(reason) = refused {
        for (i, c) in due {
            parts[i]
                .report
                .revoked
                .push(entry(&c, false, reason.clone()));
        }
        return alerts;
    }
    reject_all(ctx, parts, due, now).await;
    alerts
}

/// Rejects the due connections (in a dry run: reports them as rejected).
async fn reject_all(
    ctx: &Ctx,
    parts: &mut [Part],
    due: Vec<(usize, Candidate)>,
    now: OffsetDateTime,
) {
    let reason = format!("{WHY}; WARDEN_RECONCILE=reject");
    let mut set = JoinSet::new();
    for (i, c) in due {
        let done = entry(&c, true, reason.clone());
        if ctx.dry_run() {
            parts[i].report.revoked.push(done);
            continue;
        }
        let slot = ctx.action_slot().await;
        if !ctx.has_time() {
            let target = format!("service {} endpoint {}", c.service_id, c.endpoint_id);
            parts[i]
                .report
                .error("approve", &target, DEADLINE_REASON.to_owned(), true);
            continue;
        }
        let client = ctx.client.clone();
        let ours = marks::is_ours(c.description.as_deref());
        set.spawn(async move {
            let result = client
                .connection_action(&c.service_id, &c.endpoint_id, ConnectionAction::Reject)
                .await;
            drop(slot);
            (i, done, ours, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        let Ok((i, done, ours, result)) = joined else {
            if let Some(part) = parts.first_mut() {
                part.report.error(
                    "approve",
                    "revocations",
                    "a revocation ended abnormally".into(),
                    true,
                );
            }
            continue;
        };
        let part = &mut parts[i];
        match result {
            Ok(()) => {
                info!(endpoint = %done.endpoint_id, domain = %done.domain_id, "connection revoked");
                if ours {
                    part.marks.push((
                        done.endpoint_id.clone(),
                        marks::mark("revoked", now, "account no longer allowed"),
                    ));
                }
                part.report.revoked.push(done);
            }
            Err(e) => failed(&mut part.report, &done.service_id, &done.endpoint_id, &e),
        }
    }
}

fn entry(c: &Candidate, rejected: bool, reason: String) -> RevokedEntry {
    RevokedEntry {
        service_id: c.service_id.clone(),
        endpoint_id: c.endpoint_id.clone(),
        domain_id: c.domain_id.clone(),
        rejected,
        reason,
        target: None,
    }
}

/// The notice sent once, when a connection is first found not allowed.
fn scheduled_notice(ctx: &Ctx, c: &Candidate, reason: &str) -> Alert {
    let project = ctx.client.project_id();
    let mut alert = Alert::pending(project, &c.service_id, &c.endpoint_id, &c.domain_id, reason);
    alert.kind = "revoke_scheduled".into();
    alert.dedup_key = format!("vpcep-revoke/{project}/{}/{}", c.service_id, c.endpoint_id);
    alert.summary = format!(
        "VPCEP connection to be revoked: endpoint {} of account {} on service {} in project {project} is no longer allowed",
        c.endpoint_id, c.domain_id, c.service_id
    );
    alert.alertname = "VpcepRevokeScheduled";
    alert
}
