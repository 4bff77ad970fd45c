//! The approve job: accept pending connections from allowlisted accounts,
//! leave or reject the others.
//!
//! The API is the source of truth: the pending connections are always re-read
//! (an event only says which service, and maybe which endpoint, to look at),
//! and the `domain_id` compared is the one the API returns.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::{info, warn};

use super::{marks, Ctx, DEADLINE_REASON};
use crate::alerts::Alert;
use crate::config::{NotAllowed, Reconcile};
use crate::events::Notice;
use crate::report::{ConnectionEntry, PendingEntry, Report, RevokedEntry};
use crate::vpcep::{ApiError, Connection, ConnectionAction, Permission};

/// The status of a connection waiting for the provider's decision.
pub const PENDING: &str = "pendingAcceptance";

/// Who may connect to one service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    /// `WARDEN_ALLOWED_DOMAINS`.
    pub domains: HashSet<String>,
    /// The service's own whitelist records (`iam:domain::ID`), when `service-whitelist` is on.
    pub service_whitelist: HashSet<String>,
}

impl Allowlist {
    /// Whether it names no account at all.
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.service_whitelist.is_empty()
    }

    /// Why `domain_id` is allowed, or `None`. Matching is exact: no prefix,
    /// substring or case folding.
    pub fn reason(&self, domain_id: &str) -> Option<&'static str> {
        if domain_id.is_empty() {
            None
        } else if self.domains.contains(domain_id) {
            Some("account in WARDEN_ALLOWED_DOMAINS")
        } else if self.service_whitelist.contains(domain_id) {
            Some("account in the service's whitelist")
        } else {
            None
        }
    }
}

/// The account ids named by whitelist records. Only `iam:domain::ID` records
/// count; a `*` record (anyone may connect) is never taken as approval.
pub fn whitelisted_domains(records: &[Permission]) -> HashSet<String> {
    records
        .iter()
        .filter_map(|p| p.permission.trim().strip_prefix("iam:domain::"))
        .filter(|id| !id.is_empty() && *id != "*")
        .map(str::to_owned)
        .collect()
}

/// What to do with one pending connection, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept(String),
    Reject(String),
    Leave(String),
}

/// One planned decision for a pending connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub endpoint_id: String,
    pub domain_id: String,
    pub decision: Decision,
    /// The connection's description as read (to tell whose it is).
    pub description: Option<String>,
    /// Whether a connection left pending is announced now (see [`Notices`]).
    pub announce: bool,
}

/// An accepted connection whose account is no longer allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub service_id: String,
    pub endpoint_id: String,
    pub domain_id: String,
    pub description: Option<String>,
}

/// How the approve job tells which pending connections to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notices {
    /// None are announced.
    Off,
    /// With audit marks: every pending connection whose description does not
    /// yet say it was announced; a connection whose description is someone
    /// else's falls back to `window`, when there is one.
    Marks {
        window: Option<(OffsetDateTime, OffsetDateTime)>,
    },
    /// Without audit marks, on scheduled ticks only: the connections created in
    /// `(from, to]`, the time since the previous scheduled tick.
    Window(OffsetDateTime, OffsetDateTime),
}

/// The rules of one approve run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub not_allowed: NotAllowed,
    /// Whether accepted connections are checked against the allowlist.
    pub reconcile: bool,
    /// `WARDEN_MAX_CONNECTIONS_PER_ACCOUNT`.
    pub max_per_account: Option<usize>,
    pub notices: Notices,
}

/// What an approve run over one service's connections will do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// One decision per pending connection, oldest first.
    pub decisions: Vec<Planned>,
    /// Accepted connections of accounts not allowed (only when reconciling).
    pub revoke: Vec<Candidate>,
    /// Set when reconciling was refused for this service, with the reason.
    pub revoke_refused: Option<String>,
}

/// Statuses that hold a place against the per-account limit.
const HOLDING: &[&str] = &["accepted", "creating"];

/// Plans the decisions for a service's connections: the pending ones (all,
/// or only `only`) are accepted, rejected or left; with `rules.reconcile`,
/// accepted connections of accounts not allowed become revoke candidates.
pub fn plan(
    service_id: &str,
    connections: &[Connection],
    allow: &Allowlist,
    rules: &Rules,
    only: Option<&str>,
) -> Plan {
    let mut plan = Plan::default();
    let mut held: HashMap<&str, usize> = HashMap::new();
    for c in connections {
        if HOLDING.contains(&c.status.as_str()) {
            *held.entry(c.domain_id.as_str()).or_default() += 1;
        }
    }
    let mut pending: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.status == PENDING && only.is_none_or(|id| c.id == id))
        .collect();
    // Oldest first: when an account is at its limit, its earliest requests get the places.
    pending.sort_by(|a, b| {
        let at = |c: &Connection| crate::vpcep::parse_time(&c.created_at);
        at(a).cmp(&at(b)).then_with(|| a.id.cmp(&b.id))
    });
    for c in pending {
        let not_allowed = |reason: String| match rules.not_allowed {
            NotAllowed::Reject => Decision::Reject(reason),
            NotAllowed::Leave => Decision::Leave(reason),
        };
        let decision = match allow.reason(&c.domain_id) {
            None => not_allowed(format!(
                "account {:?} is not allowlisted (WARDEN_NOT_ALLOWED={})",
                c.domain_id,
                not_allowed_name(rules.not_allowed)
            )),
            Some(why) => {
                let holding = held.entry(c.domain_id.as_str()).or_default();
                match rules.max_per_account {
                    Some(max) if *holding >= max => not_allowed(format!(
                        "account {:?} already has {holding} accepted or creating connection(s) to service {service_id}, WARDEN_MAX_CONNECTIONS_PER_ACCOUNT={max} (WARDEN_NOT_ALLOWED={})",
                        c.domain_id,
                        not_allowed_name(rules.not_allowed)
                    )),
                    _ => {
                        *holding += 1;
                        Decision::Accept(why.to_owned())
                    }
                }
            }
        };
        let announce = matches!(decision, Decision::Leave(_)) && announces(c, rules.notices);
        plan.decisions.push(Planned {
            endpoint_id: c.id.clone(),
            domain_id: c.domain_id.clone(),
            decision,
            description: c.description.clone(),
            announce,
        });
    }
    if rules.reconcile && only.is_none() {
        let revoke: Vec<Candidate> = connections
            .iter()
            .filter(|c| c.status == "accepted" && allow.reason(&c.domain_id).is_none())
            .map(|c| Candidate {
                service_id: service_id.to_owned(),
                endpoint_id: c.id.clone(),
                domain_id: c.domain_id.clone(),
                description: c.description.clone(),
            })
            .collect();
        if allow.is_empty() && !revoke.is_empty() {
            plan.revoke_refused = Some(format!(
                "the allowlist of service {service_id} is empty: nothing is revoked (WARDEN_ALLOWED_DOMAINS and the service's whitelist name no account)"
            ));
        }
        plan.revoke = revoke;
    }
    plan
}

fn not_allowed_name(n: NotAllowed) -> &'static str {
    match n {
        NotAllowed::Leave => "leave",
        NotAllowed::Reject => "reject",
    }
}

/// Whether a connection left pending is to be announced now.
fn announces(c: &Connection, notices: Notices) -> bool {
    let in_window = |(from, to): (OffsetDateTime, OffsetDateTime)| {
        crate::vpcep::parse_time(&c.created_at).is_some_and(|at| from < at && at <= to)
    };
    match notices {
        Notices::Off => false,
        Notices::Window(from, to) => in_window((from, to)),
        Notices::Marks { window } => {
            if marks::is_ours(c.description.as_deref()) {
                !marks::is_announced(c.description.as_deref())
            } else {
                window.is_some_and(in_window)
            }
        }
    }
}

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
            return report;
        }
    };
    let notices = services.into_iter().map(|service_id| Notice {
        service_id,
        endpoint_id: None,
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
struct Part {
    report: Report,
    service_id: String,
    /// Connections left pending that are to be announced: (endpoint, account, reason).
    announce: Vec<(String, String, String)>,
    /// Audit marks to write: (endpoint, description).
    marks: Vec<(String, String)>,
    /// Accepted connections of accounts no longer allowed.
    revoke: Vec<Candidate>,
}

impl Part {
    fn new(ctx: &Ctx, service_id: &str) -> Self {
        Self {
            report: Report::new("connection", ctx.dry_run()),
            service_id: service_id.to_owned(),
            announce: Vec::new(),
            marks: Vec::new(),
            revoke: Vec::new(),
        }
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
                failed
            })
        })
        .collect();
    let mut alerts = Vec::new();
    if rules.reconcile {
        alerts.extend(revoke(ctx, &mut parts).await);
    }
    announce(ctx, &mut parts, alerts).await;
    if ctx.settings.audit_description && !ctx.dry_run() {
        write_marks(ctx, &mut parts).await;
    }
    parts.into_iter().map(|p| p.report).collect()
}

/// The rules of this run, from the settings.
fn rules_of(ctx: &Ctx, scheduled: bool) -> Rules {
    let s = &ctx.settings;
    let now = OffsetDateTime::now_utc();
    let window = scheduled.then(|| {
        let every = time::Duration::minutes(s.schedule_minutes.min(i64::MAX as u64) as i64);
        (now - every, now)
    });
    let notices = match (s.pending_notices, s.audit_description, window) {
        (false, _, _) => Notices::Off,
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
        return part;
    }
    let connections = match read_connections(ctx, notice, rules).await {
        Ok(c) => c,
        Err(e) => {
            report.error("approve", &target, e.to_string(), e.is_retryable());
            return part;
        }
    };
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
            report.error("approve", &target, e.to_string(), e.is_retryable());
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
    if let Some(reason) = plan.revoke_refused {
        warn!(service_id = service, "{reason}");
        part.report
            .revoked
            .extend(plan.revoke.into_iter().map(|c| RevokedEntry {
                service_id: c.service_id,
                endpoint_id: c.endpoint_id,
                domain_id: c.domain_id,
                rejected: false,
                reason: reason.clone(),
                target: None,
            }));
    } else {
        part.revoke = plan.revoke;
    }
    apply(ctx, plan.decisions, &mut part).await;
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
/// pending one not already allowed, or (reconciling) an accepted one.
async fn allowlist(
    ctx: &Ctx,
    service: &str,
    connections: &[Connection],
    rules: &Rules,
) -> Result<Allowlist, ApiError> {
    let mut allow = Allowlist {
        domains: ctx.settings.allowed_domains.iter().cloned().collect(),
        service_whitelist: HashSet::new(),
    };
    let undecided = connections.iter().any(|c| {
        let judged = c.status == PENDING || (rules.reconcile && c.status == "accepted");
        judged && allow.reason(&c.domain_id).is_none()
    });
    if ctx.settings.allow_service_whitelist && undecided {
        let records = ctx.client.list_permissions(service).await?;
        allow.service_whitelist = whitelisted_domains(&records);
    }
    Ok(allow)
}

/// Carries out the accept and reject decisions; collects what is left
/// pending, the announcements and the marks.
async fn apply(ctx: &Ctx, planned: Vec<Planned>, part: &mut Part) {
    let service = part.service_id.clone();
    let now = OffsetDateTime::now_utc();
    let mut set = JoinSet::new();
    for p in planned {
        let (action, reason) = match p.decision {
            Decision::Leave(reason) => {
                if p.announce {
                    part.announce.push((
                        p.endpoint_id.clone(),
                        p.domain_id.clone(),
                        reason.clone(),
                    ));
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
        let entry = ConnectionEntry {
            service_id: service.clone(),
            endpoint_id: p.endpoint_id,
            domain_id: p.domain_id,
            reason,
            target: None,
        };
        let ours = marks::is_ours(p.description.as_deref());
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
                info!(service_id = %entry.service_id, endpoint_id = %entry.endpoint_id, domain_id = %entry.domain_id, ?action, reason = %entry.reason, "connection decided");
                push_done(part, action, entry, ours, now);
            }
            Err(e) => failed(&mut part.report, &entry.service_id, &entry.endpoint_id, &e),
        }
    }
}

/// Records a failed action on one connection.
fn failed(report: &mut Report, service_id: &str, endpoint_id: &str, e: &ApiError) {
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
        part.marks.push((
            entry.endpoint_id.clone(),
            marks::mark(what, now, &entry.reason),
        ));
    }
    match action {
        ConnectionAction::Receive => part.report.approved.push(entry),
        ConnectionAction::Reject => part.report.rejected.push(entry),
    }
}

/// Reconciles across the whole run: at most `WARDEN_RECONCILE_MAX`
/// revocations; when more match, none, and a critical alert (a mass revoke is
/// almost always a configuration mistake). Returns that alert, if any.
async fn revoke(ctx: &Ctx, parts: &mut [Part]) -> Option<Alert> {
    let total: usize = parts.iter().map(|p| p.revoke.len()).sum();
    if total == 0 {
        return None;
    }
    let max = ctx.settings.reconcile_max;
    let mode = ctx.settings.reconcile;
    let now = OffsetDateTime::now_utc();
    let over = total > max;
    let why =
        "account no longer allowed (not in WARDEN_ALLOWED_DOMAINS nor the service's whitelist)";
    let mut set = JoinSet::new();
    for (i, part) in parts.iter_mut().enumerate() {
        for c in std::mem::take(&mut part.revoke) {
            let refused = if over {
                Some(format!(
                    "{why}; {total} connections match, more than WARDEN_RECONCILE_MAX={max}: none is rejected"
                ))
            } else if mode == Reconcile::Report {
                Some(format!("{why}; WARDEN_RECONCILE=report: not rejected"))
            } else {
                None
            };
            let entry = RevokedEntry {
                service_id: c.service_id.clone(),
                endpoint_id: c.endpoint_id.clone(),
                domain_id: c.domain_id.clone(),
                rejected: refused.is_none(),
                reason: refused.unwrap_or_else(|| format!("{why}; WARDEN_RECONCILE=reject")),
                target: None,
            };
            if !entry.rejected || ctx.dry_run() {
                part.report.revoked.push(entry);
                continue;
            }
            let slot = ctx.action_slot().await;
            if !ctx.has_time() {
                let target = format!("service {} endpoint {}", c.service_id, c.endpoint_id);
                part.report
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
                (i, entry, ours, result)
            });
        }
    }
    while let Some(joined) = set.join_next().await {
        let Ok((i, entry, ours, result)) = joined else {
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
                info!(service_id = %entry.service_id, endpoint_id = %entry.endpoint_id, domain_id = %entry.domain_id, "connection revoked");
                if ours {
                    part.marks.push((
                        entry.endpoint_id.clone(),
                        marks::mark("revoked", now, "account no longer allowed"),
                    ));
                }
                part.report.revoked.push(entry);
            }
            Err(e) => failed(&mut part.report, &entry.service_id, &entry.endpoint_id, &e),
        }
    }
    over.then(|| {
        Alert::refused(
            "reconcile_over_limit",
            ctx.client.project_id(),
            total,
            format!("{total} accepted connections belong to accounts no longer allowed, more than WARDEN_RECONCILE_MAX={max}: none was rejected; check WARDEN_ALLOWED_DOMAINS and the services' whitelists"),
        )
    })
}

/// Sends the run's notices (and `extra` alerts) in one delivery; when every
/// sink took them, the announced connections get their mark, so they are
/// not announced again.
async fn announce(ctx: &Ctx, parts: &mut [Part], extra: Vec<Alert>) {
    let project = ctx.client.project_id().to_owned();
    let mut alerts = extra;
    for part in parts.iter() {
        for (endpoint, domain, reason) in &part.announce {
            alerts.push(Alert::pending(
                &project,
                &part.service_id,
                endpoint,
                domain,
                reason,
            ));
        }
    }
    if alerts.is_empty() {
        return;
    }
    let delivered = ctx.sinks.deliver("approve", &alerts, ctx.dry_run()).await;
    let all_reached = delivered.errors.is_empty();
    if parts.is_empty() {
        return;
    }
    // The report of the first notice that announced carries the deliveries
    // (so a failed one retries that record).
    let first = parts
        .iter()
        .position(|p| !p.announce.is_empty())
        .unwrap_or(0);
    parts[first].report.alerts.extend(delivered.alerts);
    parts[first].report.errors.extend(delivered.errors);
    if !all_reached {
        return;
    }
    let now = OffsetDateTime::now_utc();
    for part in parts.iter_mut() {
        for (endpoint, _, reason) in std::mem::take(&mut part.announce) {
            part.marks
                .push((endpoint, marks::mark("announced", now, &reason)));
        }
    }
}

/// Writes each part's marks in one request per part.
async fn write_marks(ctx: &Ctx, parts: &mut [Part]) {
    let mut set = JoinSet::new();
    for (i, part) in parts.iter_mut().enumerate() {
        let marks = std::mem::take(&mut part.marks);
        if marks.is_empty() {
            continue;
        }
        let (client, service) = (ctx.client.clone(), part.service_id.clone());
        set.spawn(async move { (i, client.describe_connections(&service, &marks).await) });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((_, Ok(()))) => {}
            Ok((i, Err(e))) => {
                let target = format!("audit marks of service {}", parts[i].service_id);
                parts[i]
                    .report
                    .error("approve", &target, e.to_string(), e.is_retryable());
            }
            Err(_) => warn!("an audit mark write ended abnormally"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(service: &str, endpoint: Option<&str>) -> Notice {
        Notice {
            service_id: service.into(),
            endpoint_id: endpoint.map(str::to_owned),
        }
    }

    #[test]
    fn repeated_notices_are_worked_once_and_a_sweep_covers_its_service() {
        let notices = [
            notice("s1", Some("e1")),
            notice("s1", Some("e1")),
            notice("s2", Some("e2")),
            notice("s2", None),
            notice("s3", Some("e3")),
            notice("s2", Some("e4")),
        ];
        let (unique, covering) = distinct(&notices);
        assert_eq!(
            unique,
            [
                notice("s1", Some("e1")),
                notice("s2", None),
                notice("s3", Some("e3"))
            ]
        );
        assert_eq!(covering, [0, 0, 1, 1, 2, 1]);
    }

    fn conn(id: &str, domain: &str, status: &str) -> Connection {
        conn_at(id, domain, status, "2026-01-01T00:00:00Z", None)
    }

    fn conn_at(
        id: &str,
        domain: &str,
        status: &str,
        created: &str,
        description: Option<&str>,
    ) -> Connection {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain_id": domain, "status": status, "description": description,
            "created_at": created, "updated_at": created
        }))
        .unwrap()
    }

    #[test]
    fn the_per_account_limit_admits_the_oldest_requests_first() {
        let conns = [
            conn("held", "acct", "accepted"),
            conn("other", "acct", "rejected"),
            conn_at("late", "acct", PENDING, "2026-01-03T00:00:00Z", None),
            conn_at("early", "acct", PENDING, "2026-01-02T00:00:00Z", None),
        ];
        let r = Rules {
            max_per_account: Some(2),
            ..rules(NotAllowed::Leave)
        };
        let planned = plan_of(&conns, &allow(&["acct"]), &r);
        assert_eq!(planned[0].endpoint_id, "early");
        assert!(matches!(planned[0].decision, Decision::Accept(_)));
        assert!(
            matches!(&planned[1].decision, Decision::Leave(why) if why.contains("WARDEN_MAX_CONNECTIONS_PER_ACCOUNT=2"))
        );
    }

    #[test]
    fn notices_follow_the_mark_or_the_window() {
        use time::macros::datetime;
        let window = (
            datetime!(2026-11-24 10:00 UTC),
            datetime!(2026-11-24 10:05 UTC),
        );
        let fresh = conn_at("fresh", "x", PENDING, "2026-11-24T10:03:00Z", None);
        let old = conn_at("old", "x", PENDING, "2026-11-24T09:00:00Z", None);
        let marked = conn_at(
            "marked",
            "x",
            PENDING,
            "2026-11-24T09:00:00Z",
            Some("vpcep-warden: announced 2026-11-24T09:00Z, x"),
        );
        let foreign = conn_at("foreign", "x", PENDING, "2026-11-24T10:04:00Z", Some("ops"));
        let conns = [fresh, old, marked, foreign];
        let announced = |notices| -> Vec<String> {
            let r = Rules {
                notices,
                ..rules(NotAllowed::Leave)
            };
            plan_of(&conns, &allow(&[]), &r)
                .into_iter()
                .filter(|p| p.announce)
                .map(|p| p.endpoint_id)
                .collect()
        };
        assert_eq!(
            announced(Notices::Window(window.0, window.1)),
            ["fresh", "foreign"]
        );
        assert_eq!(
            announced(Notices::Marks {
                window: Some(window)
            }),
            ["old", "fresh", "foreign"]
        );
        assert_eq!(announced(Notices::Marks { window: None }), ["old", "fresh"]);
        assert!(announced(Notices::Off).is_empty());
    }

    #[test]
    fn reconciling_names_accepted_connections_of_accounts_not_allowed() {
        let conns = [
            conn("kept", "good", "accepted"),
            conn("gone", "removed", "accepted"),
            conn("waiting", "removed", PENDING),
        ];
        let r = Rules {
            reconcile: true,
            ..rules(NotAllowed::Leave)
        };
        let p = plan("svc", &conns, &allow(&["good"]), &r, None);
        let ids: Vec<_> = p.revoke.iter().map(|c| c.endpoint_id.as_str()).collect();
        assert_eq!(ids, ["gone"]);
        assert_eq!(p.revoke_refused, None);
        let empty = plan("svc", &conns, &allow(&[]), &r, None);
        assert!(empty.revoke_refused.unwrap().contains("empty"));
    }

    fn rules(not_allowed: NotAllowed) -> Rules {
        Rules {
            not_allowed,
            reconcile: false,
            max_per_account: None,
            notices: Notices::Off,
        }
    }

    fn plan_of(conns: &[Connection], allow: &Allowlist, rules: &Rules) -> Vec<Planned> {
        plan("svc", conns, allow, rules, None).decisions
    }

    fn allow(domains: &[&str]) -> Allowlist {
        Allowlist {
            domains: domains.iter().map(|d| d.to_string()).collect(),
            service_whitelist: HashSet::new(),
        }
    }

    #[test]
    fn approve_accepts_allowlisted_and_leaves_unknown_domains_pending() {
        let conns = [conn("e1", "good", PENDING), conn("e2", "stranger", PENDING)];
        let planned = plan_of(&conns, &allow(&["good"]), &rules(NotAllowed::Leave));
        assert!(
            matches!(&planned[0].decision, Decision::Accept(r) if r.contains("WARDEN_ALLOWED_DOMAINS"))
        );
        assert!(matches!(&planned[1].decision, Decision::Leave(r) if r.contains("stranger")));
    }

    #[test]
    fn approve_rejects_unknown_domains_when_configured() {
        let planned = plan_of(
            &[conn("e2", "stranger", PENDING)],
            &allow(&["good"]),
            &rules(NotAllowed::Reject),
        );
        assert!(
            matches!(&planned[0].decision, Decision::Reject(r) if r.contains("not allowlisted"))
        );
    }

    #[test]
    fn approve_ignores_connections_that_are_not_pending() {
        let conns = [
            conn("e1", "good", "accepted"),
            conn("e2", "good", "rejected"),
        ];
        assert!(plan_of(&conns, &allow(&["good"]), &rules(NotAllowed::Reject)).is_empty());
    }

    #[test]
    fn allowlist_matching_is_exact() {
        let a = allow(&["abc123"]);
        for near in ["abc12", "abc1234", "ABC123", " abc123", "xabc123", ""] {
            assert_eq!(a.reason(near), None, "{near:?} must not match");
        }
        assert!(a.reason("abc123").is_some());
    }

    #[test]
    fn a_star_whitelist_record_never_approves() {
        let records: Vec<Permission> = serde_json::from_value(serde_json::json!([
            {"id": "1", "permission": "*"},
            {"id": "2", "permission": "iam:domain::*"},
            {"id": "3", "permission": "iam:domain::d-ok"},
            {"id": "4", "permission": "iam:domain::"}
        ]))
        .unwrap();
        let got = whitelisted_domains(&records);
        assert_eq!(got, HashSet::from(["d-ok".to_owned()]));
    }
}
