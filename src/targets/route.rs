//! Connection events with many targets: each notice is worked in the target
//! that holds its service, with that target's settings (allowlist, limits,
//! not-allowed) and credentials.
//!
//! A notice may name its `target`; an unknown name is refused (nothing is
//! done, the HTTP answer is 422). Otherwise the owner is found from each
//! target's list of services, kept across warm invocations and listed anew
//! when a service is in none of them. A service that no target holds is
//! refused with a clear error, never worked in the wrong project.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::task::JoinSet;
use tracing::{info_span, Instrument};

use super::{context, TargetState, Targets};
use crate::events::Notice;
use crate::jobs::{approve, remember, Ctx};
use crate::report::{ErrorEntry, Report};
use crate::state::Store;

/// The reports of a batch of notices: `reports` holds one report per piece
/// of distinct work; `covering[i]` is the report that covers notice `i`.
#[derive(Debug, Default)]
pub struct Routed {
    pub reports: Vec<Report>,
    pub covering: Vec<usize>,
    /// The targets' state stores that failed (errors of the run, not of a record).
    pub state_errors: Vec<ErrorEntry>,
}

/// Why a notice has no target.
fn refused(ctx: &Ctx, notice: &Notice, message: String, retryable: bool) -> Report {
    let mut report = Report::new("connection", ctx.dry_run());
    let what = format!("service {}", notice.service_id);
    report.error("approve", &what, message, retryable);
    report
}

/// Works each notice in the target that holds its service.
pub async fn connections(ctx: &Ctx, notices: Vec<Notice>) -> Routed {
    let targets = ctx
        .kept(|| Targets::new(ctx))
        .unwrap_or_else(|| Arc::new(Targets::new(ctx)));
    let mut routed = Routed::default();
    // Per target, the notices it works and where each came from.
    let mut groups: Vec<(Vec<Notice>, Vec<usize>)> = vec![Default::default(); targets.0.len()];
    let mut slots = vec![usize::MAX; notices.len()];
    let owners = owners(ctx, &targets, &notices).await;
    for (i, (notice, owner)) in notices.into_iter().zip(owners).enumerate() {
        match owner {
            Ok(t) => {
                groups[t].0.push(notice);
                groups[t].1.push(i);
            }
            Err((message, retryable)) => {
                slots[i] = routed.reports.len();
                routed
                    .reports
                    .push(refused(ctx, &notice, message, retryable));
            }
        }
    }
    let mut set = JoinSet::new();
    for (t, (notices, from)) in groups.into_iter().enumerate() {
        if notices.is_empty() {
            continue;
        }
        let (base, state) = (ctx.clone(), targets.0[t].clone());
        let span = info_span!("target", name = %state.target.name);
        set.spawn(async move { (from, work(&base, &state, notices).await) }.instrument(span));
    }
    while let Some(joined) = set.join_next().await {
        // A panicking task leaves its notices without a report: they are refused below.
        let Ok((from, (reports, covering, state_error))) = joined else {
            continue;
        };
        routed.state_errors.extend(state_error);
        let first = routed.reports.len();
        routed.reports.extend(reports);
        for (i, c) in from.into_iter().zip(covering) {
            slots[i] = first + c;
        }
    }
    for slot in slots.iter_mut().filter(|s| **s == usize::MAX) {
        *slot = routed.reports.len();
        let mut report = Report::new("connection", ctx.dry_run());
        report.error(
            "approve",
            "connections",
            "the run ended abnormally".into(),
            true,
        );
        routed.reports.push(report);
    }
    routed.covering = slots;
    routed
}

/// One target's notices, worked once each (see [`approve::distinct`]) in
/// its own context; every report names the target.
async fn work(
    base: &Ctx,
    state: &TargetState,
    notices: Vec<Notice>,
) -> (Vec<Report>, Vec<usize>, Option<ErrorEntry>) {
    let (unique, covering) = approve::distinct(&notices);
    let mut state_error = None;
    let mut reports = match context(base, state).await {
        Ok(ctx) => {
            let key = Store::target_key(&state.target.name);
            let ctx = remember::open(&ctx, key).await;
            let before = ctx.client.api_calls();
            let mut reports = approve::run_all(&ctx, unique).await;
            if let Some(first) = reports.first_mut() {
                first.api_calls += ctx.client.api_calls().saturating_sub(before);
            }
            let mut all = Report::new("connection", ctx.dry_run());
            reports.iter().for_each(|r| all.merge(r.clone()));
            state_error = remember::close(&ctx, &all).await.map(|mut e| {
                e.target_name = Some(state.target.name.clone());
                e
            });
            reports
        }
        Err(failed) => unique
            .iter()
            .map(|_| {
                let mut report = Report::new("connection", base.dry_run());
                report.error(
                    failed.job,
                    &failed.what,
                    failed.message.clone(),
                    failed.retryable,
                );
                report
            })
            .collect(),
    };
    for report in &mut reports {
        report.stamp_target(&state.target.name);
    }
    (reports, covering, state_error)
}

/// The target of each notice (its index), or why it has none and whether a
/// later try may find one.
async fn owners(
    ctx: &Ctx,
    targets: &Targets,
    notices: &[Notice],
) -> Vec<Result<usize, (String, bool)>> {
    let names: Vec<&str> = targets.0.iter().map(|t| t.target.name.as_str()).collect();
    let mut found: Vec<Option<Result<usize, (String, bool)>>> = notices
        .iter()
        .map(|n| {
            let name = n.target.as_deref()?;
            Some(match names.iter().position(|t| *t == name) {
                Some(t) => Ok(t),
                None => Err((
                    format!("the notice names target {name:?}, which WARDEN_TARGETS does not list (targets: {})", names.join(", ")),
                    false,
                )),
            })
        })
        .collect();
    let mut listed = false;
    let mut failures: Vec<String> = Vec::new();
    for (i, notice) in notices.iter().enumerate() {
        if found[i].is_some() {
            continue;
        }
        let mut owner = holder(targets, &notice.service_id).await;
        if owner.is_none() && !listed {
            // A service in no kept list: every target's services are listed anew, once.
            failures = list_services(ctx, targets).await;
            listed = true;
            owner = holder(targets, &notice.service_id).await;
        }
        found[i] = Some(owner.ok_or_else(|| {
            let unread = match failures.is_empty() {
                true => String::new(),
                false => format!(
                    "; these targets could not be listed: {}",
                    failures.join("; ")
                ),
            };
            (
                format!(
                    "service {} is held by no target of WARDEN_TARGETS{unread}; nothing was done",
                    notice.service_id
                ),
                !failures.is_empty(),
            )
        }));
    }
    found
        .into_iter()
        .map(|f| f.expect("every notice was routed"))
        .collect()
}

/// The first target whose kept list holds `service`.
async fn holder(targets: &Targets, service: &str) -> Option<usize> {
    for (t, state) in targets.0.iter().enumerate() {
        if state
            .services
            .lock()
            .await
            .as_ref()
            .is_some_and(|s| s.contains(service))
        {
            return Some(t);
        }
    }
    None
}

/// Lists every target's services side by side and keeps them; returns what
/// failed, by target.
async fn list_services(base: &Ctx, targets: &Targets) -> Vec<String> {
    let mut set = JoinSet::new();
    for state in &targets.0 {
        let (base, state) = (base.clone(), state.clone());
        set.spawn(async move {
            let listed = match context(&base, &state).await {
                Ok(ctx) => ctx.client.list_services().await.map_err(|e| e.to_string()),
                Err(failed) => Err(failed.message),
            };
            match listed {
                Ok(services) => {
                    let ids: HashSet<String> = services.into_iter().map(|s| s.id).collect();
                    *state.services.lock().await = Some(ids);
                    None
                }
                Err(e) => Some(format!("{}: {e}", state.target.name)),
            }
        });
    }
    let mut failures = Vec::new();
    while let Some(joined) = set.join_next().await {
        failures.extend(joined.ok().flatten());
    }
    failures.sort();
    failures
}
