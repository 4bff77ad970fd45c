//! The approve job: accept pending connections from allowlisted accounts,
//! leave or reject the others; on scheduled runs, reconcile accepted ones
//! and announce the ones left waiting.
//!
//! The API is the source of truth: the connections are always re-read (an
//! event only says which service, and maybe which endpoint, to look at), and
//! the `domain_id` judged is the one the API returns. The job is split along
//! its seams: [`rules`] says who may connect, [`plan`] decides (the one pure
//! function every path acts on), [`apply`] carries out accepts and rejects,
//! [`reconcile`] revokes, [`notices`] announces and writes audit marks.

pub mod apply;
pub mod notices;
pub mod plan;
pub mod reconcile;
pub mod rules;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::warn;

use super::caps::Cap;
use super::{Ctx, DEADLINE_REASON};
use crate::config::Reconcile;
use crate::events::Notice;
use crate::report::{PendingEntry, Report, RevokedEntry};
use crate::vpcep::{ApiError, Connection};
pub use notices::Notices;
pub use plan::{plan, Candidate, Decision, Plan, Planned, Rules, PENDING};
pub use rules::{Allowlist, Record, Verdict};

/// The services a tick sweeps: `WARDEN_SERVICE_IDS`, or every service of the project.
async fn managed_services(ctx: &Ctx) -> Result<Vec<String>, ApiError> {
    if !ctx.settings.service_ids.is_empty() {
        return Ok(ctx.settings.service_ids.clone());
    }
    Ok(ctx.services().await?.iter().map(|s| s.id.clone()).collect())
}

/// Sweeps every pending connection of every managed service, all services at once
/// (the client's concurrency limit bounds the requests in flight). A sweep is
/// the scheduled run: it also reconciles (`WARDEN_RECONCILE`) and, without
/// audit marks, announces the connections created since the previous tick.
pub async fn sweep(ctx: &Ctx) -> Report {
    let mut report = Report::new("tick", ctx.dry_run());
    let services = match managed_services(ctx).await {
        Ok(s) => s,
        Err(e) => {
            report.error(
                "approve",
                "endpoint services",
                e.to_string(),
                e.is_retryable(),
            );
            if rules_of(ctx, true).reconcile {
                // Nothing is revoked anywhere in a run that could not list what it judges.
                let why = format!("the endpoint services could not be listed: {e}");
                ctx.seat.offer(Cap::Revoke, 0, Some(why)).await;
            }
            return report;
        }
    };
    let notices = services.into_iter().map(|service_id| Notice {
        service_id,
        endpoint_id: None,
        target: None,
    });
    for part in run(ctx, notices.collect(), true).await {
        report.merge(part);
    }
    report
}

/// The distinct work in a batch of notices: a service named without an
/// endpoint is swept once and covers every notice of that service; an
/// endpoint named twice is handled once. Returns the notices to run and, for
/// each notice given, the index of the one that covers it.
pub fn distinct(notices: &[Notice]) -> (Vec<Notice>, Vec<usize>) {
    let swept: HashSet<&str> = notices
        .iter()
        .filter(|n| n.endpoint_id.is_none())
        .map(|n| n.service_id.as_str())
        .collect();
    let mut unique: Vec<Notice> = Vec::new();
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    let covering = notices
        .iter()
        .map(|n| {
            let key = if swept.contains(n.service_id.as_str()) {
                (n.service_id.clone(), None)
            } else {
                (n.service_id.clone(), n.endpoint_id.clone())
            };
            *index.entry(key.clone()).or_insert_with(|| {
                unique.push(Notice {
                    service_id: key.0,
                    endpoint_id: key.1,
                    target: None,
                });
                unique.len() - 1
            })
        })
        .collect();
    (unique, covering)
}

/// Runs the approve job for notices that events brought (no reconciling; pending
/// connections are announced only through audit marks). One report per
/// notice, in order.
pub async fn run_all(ctx: &Ctx, notices: Vec<Notice>) -> Vec<Report> {
    run(ctx, notices, false).await
}

/// What handling one notice produced, before the run-wide steps.
pub struct Part {
    pub report: Report,
    pub service_id: String,
    /// Connections left pending that are to be announced: their places in
    /// `report.left_pending`, which holds their endpoint, account and reason.
    pub announce: Vec<usize>,
    /// Audit marks to write: (endpoint, description).
    pub marks: Vec<(String, String)>,
    /// Accepted connections of accounts no longer allowed.
    pub revoke: Vec<Candidate>,
    /// Why a read this part needed failed (nothing is revoked in such a run).
    pub read_failed: Option<String>,
    /// The service's pending connections as read (endpoint ids).
    pub pending: Vec<String>,
}

impl Part {
    fn new(ctx: &Ctx, service_id: &str) -> Self {
        Self {
            report: Report::new("connection", ctx.dry_run()),
            service_id: service_id.to_owned(),
            announce: Vec::new(),
            marks: Vec::new(),
            revoke: Vec::new(),
            read_failed: None,
            pending: Vec::new(),
        }
    }

    /// The connections to be announced, as left pending.
    pub fn announced(&self) -> impl Iterator<Item = &PendingEntry> {
        self.announce
            .iter()
            .filter_map(|&i| self.report.left_pending.get(i))
    }

    /// Records a failed read: an error of this part, and a run that revokes nothing.
    fn read_failed(&mut self, target: &str, e: &ApiError) {
        self.report
            .error("approve", target, e.to_string(), e.is_retryable());
        self.read_failed = Some(format!("{target}: {e}"));
    }
}

/// Handles each notice concurrently, at most twice the request limit at a
/// time (so a sweep of many services holds few connection lists at once);
/// then, across all of them: revokes (when `scheduled`), announces, and
/// writes the audit marks, one request per service. A task that ended
/// abnormally still gets a report, with the error.
async fn run(ctx: &Ctx, notices: Vec<Notice>, scheduled: bool) -> Vec<Report> {
    let rules = Arc::new(rules_of(ctx, scheduled));
    let limit = 2 * ctx.settings.max_concurrency.max(1);
    let mut parts: Vec<Option<Part>> = (0..notices.len()).map(|_| None).collect();
    let mut slots = HashMap::new();
    let mut set = JoinSet::new();
    for (i, notice) in notices.iter().enumerate() {
        while set.len() >= limit {
            collect_one(&mut set, &slots, &mut parts).await;
        }
        let (ctx, notice, rules) = (ctx.clone(), notice.clone(), rules.clone());
        let task = set.spawn(async move { handle(&ctx, &notice, &rules).await });
        slots.insert(task.id(), i);
    }
    while !set.is_empty() {
        collect_one(&mut set, &slots, &mut parts).await;
    }
    let mut parts: Vec<Part> = parts
        .into_iter()
        .zip(&notices)
        .map(|(part, notice)| {
            part.unwrap_or_else(|| {
                let mut failed = Part::new(ctx, &notice.service_id);
                let target = format!("service {}", notice.service_id);
                failed
                    .report
                    .error("approve", &target, "the task ended abnormally".into(), true);
                failed.read_failed = Some(format!("{target}: the task ended abnormally"));
                failed
            })
        })
        .collect();
    let mut alerts = Vec::new();
    if rules.reconcile {
        alerts.extend(reconcile::revoke(ctx, &mut parts).await);
    }
    // A sweep that read every managed service settles what is no longer waiting.
    let settled = scheduled && parts.iter().all(|p| p.read_failed.is_none());
    notices::announce(ctx, &mut parts, alerts, settled).await;
    if ctx.settings.audit_description && !ctx.dry_run() {
        notices::write_marks(ctx, &mut parts).await;
    }
    parts.into_iter().map(|p| p.report).collect()
}

/// The rules of this run, from the settings.
pub(crate) fn rules_of(ctx: &Ctx, scheduled: bool) -> Rules {
    let s = &ctx.settings;
    let now = OffsetDateTime::now_utc();
    let window = scheduled.then(|| {
        let every = time::Duration::minutes(s.schedule_minutes.min(i64::MAX as u64) as i64);
        (now - every, now)
    });
    let notices = match (s.pending_notices, s.audit_description, window) {
        (false, _, _) => Notices::Off,
        (true, false, _) if ctx.state.remembers() => Notices::Remembered,
        (true, true, window) => Notices::Marks { window },
        (true, false, Some((from, to))) => Notices::Window(from, to),
        (true, false, None) => Notices::Off,
    };
    Rules {
        not_allowed: s.not_allowed,
        reconcile: scheduled && s.reconcile != Reconcile::Off,
        max_per_account: s.max_connections_per_account,
        notices,
    }
}

/// Waits for one task and files its part in the notice's slot.
async fn collect_one(
    set: &mut JoinSet<Part>,
    slots: &HashMap<tokio::task::Id, usize>,
    parts: &mut [Option<Part>],
) {
    match set.join_next_with_id().await {
        Some(Ok((id, part))) => {
            if let Some(&i) = slots.get(&id) {
                parts[i] = Some(part);
            }
        }
        Some(Err(e)) => warn!(error = %e, "an approve task ended abnormally"),
        None => {}
    }
}

/// The approve job for one notice: re-read, plan, apply the decisions.
async fn handle(ctx: &Ctx, notice: &Notice, rules: &Rules) -> Part {
    let service = notice.service_id.as_str();
    let mut part = Part::new(ctx, service);
    let report = &mut part.report;
    let target = match &notice.endpoint_id {
        Some(e) => format!("service {service} endpoint {e}"),
        None => format!("service {service}"),
    };
    if !ctx.settings.service_ids.is_empty()
        && !ctx.settings.service_ids.iter().any(|s| s == service)
    {
        report.error(
            "approve",
            &target,
            format!("service {service} is not managed: it is not in WARDEN_SERVICE_IDS"),
            false,
        );
        return part;
    }
    if !ctx.has_time() {
        report.error("approve", &target, DEADLINE_REASON.to_owned(), true);
        part.read_failed = Some(format!("{target}: {DEADLINE_REASON}"));
        return part;
    }
    let connections = match read_connections(ctx, notice, rules).await {
        Ok(c) => c,
        Err(e) => {
            part.read_failed(&target, &e);
            return part;
        }
    };
    part.pending = connections
        .iter()
        .filter(|c| c.status == PENDING)
        .map(|c| c.id.clone())
        .collect();
    if let Some(endpoint_id) = &notice.endpoint_id {
        if connections.iter().all(|c| &c.id != endpoint_id) {
            report.error(
                "approve",
                &target,
                format!("endpoint {endpoint_id} has no connection to service {service}"),
                false,
            );
            return part;
        }
    }
    let allow = match allowlist(ctx, service, &connections, rules).await {
        Ok(a) => a,
        Err(e) => {
            // No decision, and no revocation, on a half-read allowlist.
            part.read_failed(&format!("whitelist of service {service}"), &e);
            return part;
        }
    };
    let plan = plan(
        service,
        &connections,
        &allow,
        rules,
        notice.endpoint_id.as_deref(),
    );
    let now = OffsetDateTime::now_utc();
    for endpoint in plan.cleared {
        let mark = super::marks::mark("allowed again", now, "account allowed again");
        part.marks.push((endpoint, mark));
    }
    let mut kept = plan.not_judged;
    match plan.revoke_refused {
        Some(reason) => {
            warn!(service_id = service, "{reason}");
            kept.extend(plan.revoke.into_iter().map(|c| (c, reason.clone())));
        }
        None => part.revoke = plan.revoke,
    }
    part.report
        .revoked
        .extend(kept.into_iter().map(|(c, reason)| RevokedEntry {
            service_id: c.service_id,
            endpoint_id: c.endpoint_id,
            domain_id: c.domain_id,
            rejected: false,
            reason,
            target: None,
        }));
    apply::apply(ctx, plan.decisions, rules, &mut part).await;
    part
}

/// The connections one notice needs: the pending ones of a sweep; or, when
/// accepted connections count too (reconciling, a per-account limit), all of
/// the service's; or the one endpoint an event named.
async fn read_connections(
    ctx: &Ctx,
    notice: &Notice,
    rules: &Rules,
) -> Result<Vec<Connection>, ApiError> {
    let service = &notice.service_id;
    let everything =
        rules.reconcile && notice.endpoint_id.is_none() || rules.max_per_account.is_some();
    if everything {
        return ctx.client.list_connections(service, None, None).await;
    }
    match &notice.endpoint_id {
        // A named endpoint is read whatever its status, so "already accepted" is told
        // apart from "no such connection".
        Some(endpoint) => {
            ctx.client
                .list_connections(service, None, Some(endpoint))
                .await
        }
        None => {
            ctx.client
                .list_connections(service, Some(PENDING), None)
                .await
        }
    }
}

/// The allowlist for one service. The service's whitelist is read only when
/// `service-whitelist` is on and some connection's fate depends on it: a
/// pending one not already allowed by the settings, or (reconciling) an
/// accepted one; the organization only when a rule by org path or account
/// name is left to judge such a connection (once per run, see [`Ctx::organization`]).
async fn allowlist(
    ctx: &Ctx,
    service: &str,
    connections: &[Connection],
    rules: &Rules,
) -> Result<Allowlist, ApiError> {
    let mut allow = Allowlist::of_domains(&ctx.settings.allowed_domains);
    allow.whitelist_on = ctx.settings.allow_service_whitelist;
    allow.owner = ctx.settings.domain_id.clone();
    allow.org_paths = ctx.settings.organizations.allowed_paths.clone();
    let undecided = |allow: &Allowlist| {
        connections.iter().any(|c| {
            let judged = c.status == PENDING || (rules.reconcile && c.status == "accepted");
            judged
                && plan::account(c).is_some_and(|a| !matches!(allow.judge(a), Verdict::Allowed(_)))
        })
    };
    if allow.whitelist_on && undecided(&allow) {
        let records = ctx.whitelist(service).await?;
        allow.whitelist = rules::records(&records);
    }
    if allow.needs_organization() && undecided(&allow) {
        allow.organization = ctx.organization().await;
    }
    Ok(allow)
}
