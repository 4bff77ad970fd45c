//! Carrying out one service's accept and reject decisions.
//!
//! Under `WARDEN_MAX_CONNECTIONS_PER_ACCOUNT`, the service's connections are
//! read once more right before accepting and the plan is made again on that
//! answer, under a lock per service held by this process: two runs of one
//! process (a tick and a notice in `serve`) never accept past the limit
//! together. Between processes (two Lambda invocations at once) the window
//! left is the time between that re-read and the accept, one request long;
//! the next scheduled run sees the excess, and the limit admits no more.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::info;

use super::plan::{plan, Decision, Planned, Rules};
use super::{allowlist, Part};
use crate::jobs::{marks, Ctx, DEADLINE_REASON};
use crate::report::{ConnectionEntry, PendingEntry, Report};
use crate::vpcep::{ApiError, ConnectionAction};

type ServiceLocks = Mutex<HashMap<(String, String), Arc<tokio::sync::Mutex<()>>>>;

/// One async lock per (project, service), process-wide.
fn service_lock(project: &str, service: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<ServiceLocks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    locks
        .entry((project.to_owned(), service.to_owned()))
        .or_default()
        .clone()
}

/// Carries out the accept and reject decisions; collects what is left
/// pending, the announcements and the marks.
pub async fn apply(ctx: &Ctx, planned: Vec<Planned>, rules: &Rules, part: &mut Part) {
    let limited = rules.max_per_account.is_some()
        && planned
            .iter()
            .any(|p| matches!(p.decision, Decision::Accept(_)));
    if !limited || ctx.dry_run() {
        return carry_out(ctx, planned, part).await;
    }
    let lock = service_lock(ctx.client.project_id(), &part.service_id);
    let _held = lock.lock().await;
    let planned = match replan(ctx, &part.service_id, planned, rules).await {
        Ok(planned) => planned,
        Err(e) => {
            let target = format!("service {}", part.service_id);
            part.report
                .error("approve", &target, e.to_string(), e.is_retryable());
            return;
        }
    };
    carry_out(ctx, planned, part).await;
}

/// The same decisions made again on the service's connections as they are
/// now, for the connections first planned.
async fn replan(
    ctx: &Ctx,
    service: &str,
    planned: Vec<Planned>,
    rules: &Rules,
) -> Result<Vec<Planned>, ApiError> {
    let now = ctx.client.list_connections(service, None, None).await?;
    let allow = allowlist(ctx, service, &now, rules).await?;
    let fresh = plan(service, &now, &allow, rules, None).decisions;
    Ok(planned
        .into_iter()
        .filter_map(|p| {
            // A connection no longer pending was decided elsewhere meanwhile.
            let again = fresh.iter().find(|f| f.endpoint_id == p.endpoint_id)?;
            Some(Planned {
                announce: p.announce,
                ..again.clone()
            })
        })
        .collect())
}

async fn carry_out(ctx: &Ctx, planned: Vec<Planned>, part: &mut Part) {
    let service = part.service_id.clone();
    let now = OffsetDateTime::now_utc();
    let mut set = JoinSet::new();
    for p in planned {
        let (action, reason) = match p.decision {
            Decision::Leave(reason) => {
                if p.announce {
                    part.announce.push(part.report.left_pending.len());
                }
                part.report.left_pending.push(PendingEntry {
                    service_id: service.clone(),
                    endpoint_id: p.endpoint_id,
                    domain_id: p.domain_id,
                    reason,
                    target: None,
                });
                continue;
            }
            Decision::Accept(reason) => (ConnectionAction::Receive, reason),
            Decision::Reject(reason) => (ConnectionAction::Reject, reason),
        };
        // A mark is made only with audit marks on, and a description that
        // was someone else's when read is not even tried.
        let ours = ctx.settings.audit_description && marks::is_ours(p.description.as_deref());
        let entry = ConnectionEntry {
            service_id: service.clone(),
            endpoint_id: p.endpoint_id,
            domain_id: p.domain_id,
            reason,
            target: None,
        };
        if ctx.dry_run() {
            push_done(part, action, entry, ours, now);
            continue;
        }
        let slot = ctx.action_slot().await;
        if !ctx.has_time() {
            part.report.error(
                "approve",
                &format!("service {service} endpoint {}", entry.endpoint_id),
                DEADLINE_REASON.to_owned(),
                true,
            );
            continue;
        }
        let client = ctx.client.clone();
        set.spawn(async move {
            let result = client
                .connection_action(&entry.service_id, &entry.endpoint_id, action)
                .await;
            drop(slot);
            (action, entry, ours, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        let Ok((action, entry, ours, result)) = joined else {
            part.report.error(
                "approve",
                &service,
                "a connection action ended abnormally".into(),
                true,
            );
            continue;
        };
        match result {
            Ok(()) => {
                // One short line: the endpoint names the connection; the service is in the report.
                let done = if matches!(action, ConnectionAction::Receive) {
                    "connection accepted"
                } else {
                    "connection rejected"
                };
                info!(endpoint = %entry.endpoint_id, domain = %entry.domain_id, reason = %entry.reason, "{done}");
                push_done(part, action, entry, ours, now);
            }
            Err(e) => failed(&mut part.report, &entry.service_id, &entry.endpoint_id, &e),
        }
    }
}

/// Records a failed action on one connection.
pub fn failed(report: &mut Report, service_id: &str, endpoint_id: &str, e: &ApiError) {
    let target = format!("service {service_id} endpoint {endpoint_id}");
    report.error("approve", &target, e.to_string(), e.is_retryable());
}

fn push_done(
    part: &mut Part,
    action: ConnectionAction,
    entry: ConnectionEntry,
    ours: bool,
    now: OffsetDateTime,
) {
    let what = match action {
        ConnectionAction::Receive => "accepted",
        ConnectionAction::Reject => "rejected",
    };
    if ours {
        let mark = marks::mark(what, now, &entry.reason);
        part.marks.push((entry.endpoint_id.clone(), mark));
    }
    match action {
        ConnectionAction::Receive => part.report.approved.push(entry),
        ConnectionAction::Reject => part.report.rejected.push(entry),
    }
}
