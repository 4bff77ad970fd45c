//! The approve job: accept pending connections from allowlisted accounts,
//! leave or reject the others.
//!
//! The API is the source of truth: the pending connections are always re-read
//! (an event only says which service, and maybe which endpoint, to look at),
//! and the `domain_id` compared is the one the API returns.

use std::collections::{HashMap, HashSet};

use tokio::task::JoinSet;
use tracing::{info, warn};

use super::{Ctx, DEADLINE_REASON};
use crate::config::NotAllowed;
use crate::events::Notice;
use crate::report::{ConnectionEntry, PendingEntry, Report};
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

/// What to do with one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept,
    Reject,
    Leave(String),
}

/// One planned decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub endpoint_id: String,
    pub domain_id: String,
    pub decision: Decision,
}

/// Plans the decisions for a service's connections. Connections that are not
/// pending are not touched and not listed.
pub fn plan(
    connections: &[Connection],
    allow: &Allowlist,
    not_allowed: NotAllowed,
) -> Vec<Planned> {
    connections
        .iter()
        .filter(|c| c.status == PENDING)
        .map(|c| {
            let decision = match (allow.reason(&c.domain_id), not_allowed) {
                (Some(_), _) => Decision::Accept,
                (None, NotAllowed::Reject) => Decision::Reject,
                (None, NotAllowed::Leave) => Decision::Leave(format!(
                    "account {:?} is not allowlisted (WARDEN_NOT_ALLOWED=leave)",
                    c.domain_id
                )),
            };
            Planned {
                endpoint_id: c.id.clone(),
                domain_id: c.domain_id.clone(),
                decision,
            }
        })
        .collect()
}

/// The services a tick sweeps: `WARDEN_SERVICE_IDS`, or every service of the project.
async fn managed_services(ctx: &Ctx) -> Result<Vec<String>, ApiError> {
    if !ctx.settings.service_ids.is_empty() {
        return Ok(ctx.settings.service_ids.clone());
    }
    Ok(ctx
        .client
        .list_services()
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect())
}

/// Sweeps every pending connection of every managed service, all services at once
/// (the client's concurrency limit bounds the requests in flight).
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
    for part in run_all(ctx, notices.collect()).await {
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

/// Runs the approve job for each notice concurrently, at most twice the
/// request limit at a time (so a sweep of many services holds few connection
/// lists at once); one report per notice, in order. A task that ended
/// abnormally still gets a report, with the error.
pub async fn run_all(ctx: &Ctx, notices: Vec<Notice>) -> Vec<Report> {
    let limit = 2 * ctx.settings.max_concurrency.max(1);
    let mut reports: Vec<Option<Report>> = vec![None; notices.len()];
    let mut slots = HashMap::new();
    let mut set = JoinSet::new();
    for (i, notice) in notices.iter().enumerate() {
        while set.len() >= limit {
            collect_one(&mut set, &slots, &mut reports).await;
        }
        let (ctx, notice) = (ctx.clone(), notice.clone());
        let task = set.spawn(async move { handle(&ctx, &notice).await });
        slots.insert(task.id(), i);
    }
    while !set.is_empty() {
        collect_one(&mut set, &slots, &mut reports).await;
    }
    reports
        .into_iter()
        .zip(&notices)
        .map(|(report, notice)| {
            report.unwrap_or_else(|| {
                let mut failed = Report::new("connection", ctx.dry_run());
                let target = format!("service {}", notice.service_id);
                failed.error("approve", &target, "the task ended abnormally".into(), true);
                failed
            })
        })
        .collect()
}

/// Waits for one task and files its report in the notice's slot.
async fn collect_one(
    set: &mut JoinSet<Report>,
    slots: &HashMap<tokio::task::Id, usize>,
    reports: &mut [Option<Report>],
) {
    match set.join_next_with_id().await {
        Some(Ok((id, report))) => {
            if let Some(&i) = slots.get(&id) {
                reports[i] = Some(report);
            }
        }
        Some(Err(e)) => warn!(error = %e, "an approve task ended abnormally"),
        None => {}
    }
}

/// The approve job for one notice: re-read, plan, apply.
pub async fn handle(ctx: &Ctx, notice: &Notice) -> Report {
    let mut report = Report::new("connection", ctx.dry_run());
    let service = notice.service_id.as_str();
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
        return report;
    }
    if !ctx.has_time() {
        report.error("approve", &target, DEADLINE_REASON.to_owned(), true);
        return report;
    }
    let connections = match read_connections(ctx, notice).await {
        Ok(c) => c,
        Err(e) => {
            report.error("approve", &target, e.to_string(), e.is_retryable());
            return report;
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
            return report;
        }
    }
    let allow = match allowlist(ctx, service, &connections).await {
        Ok(a) => a,
        Err(e) => {
            report.error("approve", &target, e.to_string(), e.is_retryable());
            return report;
        }
    };
    let planned = plan(&connections, &allow, ctx.settings.not_allowed);
    apply(ctx, service, planned, &mut report).await;
    report
}

async fn read_connections(ctx: &Ctx, notice: &Notice) -> Result<Vec<Connection>, ApiError> {
    let service = &notice.service_id;
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
/// `service-whitelist` is on and a pending connection is not already allowed.
async fn allowlist(
    ctx: &Ctx,
    service: &str,
    connections: &[Connection],
) -> Result<Allowlist, ApiError> {
    let mut allow = Allowlist {
        domains: ctx.settings.allowed_domains.iter().cloned().collect(),
        service_whitelist: HashSet::new(),
    };
    let undecided = connections
        .iter()
        .any(|c| c.status == PENDING && allow.reason(&c.domain_id).is_none());
    if ctx.settings.allow_service_whitelist && undecided {
        let records = ctx.client.list_permissions(service).await?;
        allow.service_whitelist = whitelisted_domains(&records);
    }
    Ok(allow)
}

async fn apply(ctx: &Ctx, service: &str, planned: Vec<Planned>, report: &mut Report) {
    let mut set = JoinSet::new();
    for p in planned {
        let entry = ConnectionEntry {
            service_id: service.to_owned(),
            endpoint_id: p.endpoint_id.clone(),
            domain_id: p.domain_id.clone(),
        };
        let action = match p.decision {
            Decision::Leave(reason) => {
                report.left_pending.push(PendingEntry {
                    service_id: entry.service_id,
                    endpoint_id: entry.endpoint_id,
                    domain_id: entry.domain_id,
                    reason,
                });
                continue;
            }
            Decision::Accept => ConnectionAction::Receive,
            Decision::Reject => ConnectionAction::Reject,
        };
        if ctx.dry_run() {
            push_done(report, action, entry);
            continue;
        }
        let slot = ctx.action_slot().await;
        if !ctx.has_time() {
            report.error(
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
            (action, entry, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        let Ok((action, entry, result)) = joined else {
            report.error(
                "approve",
                service,
                "a connection action ended abnormally".into(),
                true,
            );
            continue;
        };
        match result {
            Ok(()) => {
                info!(service_id = %entry.service_id, endpoint_id = %entry.endpoint_id, domain_id = %entry.domain_id, ?action, "connection decided");
                push_done(report, action, entry);
            }
            Err(e) => report.error(
                "approve",
                &format!(
                    "service {} endpoint {}",
                    entry.service_id, entry.endpoint_id
                ),
                e.to_string(),
                e.is_retryable(),
            ),
        }
    }
}

fn push_done(report: &mut Report, action: ConnectionAction, entry: ConnectionEntry) {
    match action {
        ConnectionAction::Receive => report.approved.push(entry),
        ConnectionAction::Reject => report.rejected.push(entry),
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
        serde_json::from_value(serde_json::json!({
            "id": id, "domain_id": domain, "status": status,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
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
        let planned = plan(&conns, &allow(&["good"]), NotAllowed::Leave);
        assert_eq!(planned[0].decision, Decision::Accept);
        assert!(matches!(&planned[1].decision, Decision::Leave(r) if r.contains("stranger")));
    }

    #[test]
    fn approve_rejects_unknown_domains_when_configured() {
        let planned = plan(
            &[conn("e2", "stranger", PENDING)],
            &allow(&["good"]),
            NotAllowed::Reject,
        );
        assert_eq!(planned[0].decision, Decision::Reject);
    }

    #[test]
    fn approve_ignores_connections_that_are_not_pending() {
        let conns = [
            conn("e1", "good", "accepted"),
            conn("e2", "good", "rejected"),
        ];
        assert!(plan(&conns, &allow(&["good"]), NotAllowed::Reject).is_empty());
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
