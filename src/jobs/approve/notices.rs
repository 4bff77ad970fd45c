//! Notices of waiting connections (`WARDEN_PENDING_NOTICES`) and the audit
//! marks that record them (`WARDEN_AUDIT_DESCRIPTION`).
//!
//! With audit marks, a connection is announced once: its description then
//! says so. A mark is written only over a description that is empty or the
//! warden's own, checked again when it is written (see
//! [`crate::vpcep::Client::describe_own_connections`]).

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tracing::{info, warn};

use std::collections::HashSet;

use super::Part;
use crate::alerts::Alert;
use crate::jobs::{marks, Ctx};
use crate::state::{connection_key, Announced, CLAIM_HOLDS};
use crate::vpcep::Connection;

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
    /// Without audit marks, with a state store read in this run
    /// (`WARDEN_STATE` file or S3 API), on every run: each connection left
    /// pending that the state does not list as announced.
    Remembered,
}

/// Whether a connection left pending is to be announced now.
pub fn announces(c: &Connection, notices: Notices) -> bool {
    let in_window = |(from, to): (OffsetDateTime, OffsetDateTime)| {
        crate::vpcep::parse_time(&c.created_at).is_some_and(|at| from < at && at <= to)
    };
    match notices {
        Notices::Off => false,
        Notices::Window(from, to) => in_window((from, to)),
        Notices::Remembered => !marks::is_announced(c.description.as_deref()),
        Notices::Marks { window } => {
            if marks::is_ours(c.description.as_deref()) {
                !marks::is_announced(c.description.as_deref())
            } else {
                window.is_some_and(in_window)
            }
        }
    }
}

/// Sends the run's notices (and `extra` alerts) in one delivery; when every
/// sink took them, the announced connections are kept as announced in the
/// state and get their mark, so they are not announced again. Each is
/// claimed in the state document first, so a concurrent run does not
/// announce it too.
///
/// `settled`: a scheduled sweep that read every managed service: an
/// announced connection no longer pending there is no longer waiting, and
/// is sent resolved, once (Alertmanager ends it).
pub async fn announce(ctx: &Ctx, parts: &mut [Part], extra: Vec<Alert>, settled: bool) {
    let project = ctx.client.project_id().to_owned();
    let now = OffsetDateTime::now_utc();
    let by_marks = ctx.settings.audit_description;
    let wanted: Vec<(&str, &str, &str)> = parts
        .iter()
        .flat_map(|p| {
            p.announced().map(|e| {
                (
                    p.service_id.as_str(),
                    e.endpoint_id.as_str(),
                    e.domain_id.as_str(),
                )
            })
        })
        .collect();
    let claimed: Vec<bool> = ctx
        .state
        .claim(|doc| {
            wanted
                .iter()
                .map(|(service, endpoint, domain)| {
                    let key = connection_key(service, endpoint);
                    // With audit marks the mark decides (clearing it announces
                    // again); the state only keeps two runs from both announcing.
                    let free = match doc.announced.get(&key) {
                        None => true,
                        Some(a) if a.claimed => now - a.at >= CLAIM_HOLDS,
                        Some(_) => by_marks,
                    };
                    if free {
                        doc.announced.insert(
                            key,
                            Announced {
                                at: now,
                                domain_id: (*domain).to_owned(),
                                claimed: true,
                            },
                        );
                    }
                    free
                })
                .collect()
        })
        .await;
    let mut claimed = claimed.into_iter();
    for part in parts.iter_mut() {
        part.announce.retain(|_| claimed.next().unwrap_or(false));
    }
    if ctx.state.failed().is_some() {
        adopt(ctx, parts, now).await;
    }
    let mut alerts = extra;
    alerts.reserve_exact(parts.iter().map(|p| p.announce.len()).sum());
    for part in parts.iter() {
        for left in part.announced() {
            alerts.push(Alert::pending(
                &project,
                &part.service_id,
                &left.endpoint_id,
                &left.domain_id,
                &left.reason,
            ));
        }
    }
    if settled {
        alerts.extend(no_longer_waiting(ctx, parts).await);
    }
    if alerts.is_empty() && !settled {
        return;
    }
    let delivered = if settled {
        ctx.sinks
            .deliver_all("approve", alerts, ctx.dry_run())
            .await
    } else {
        ctx.sinks.deliver("approve", alerts, ctx.dry_run()).await
    };
    let all_reached = delivered.reached;
    ctx.state
        .update(|doc| {
            for p in parts.iter() {
                for left in p.announced() {
                    let key = connection_key(&p.service_id, &left.endpoint_id);
                    if all_reached {
                        if let Some(a) = doc.announced.get_mut(&key) {
                            a.claimed = false;
                        }
                    } else {
                        doc.announced.remove(&key);
                    }
                }
            }
        })
        .await;
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
    // Marks are written only with audit marks on (`write_marks`).
    if !all_reached || !by_marks {
        return;
    }
    for part in parts.iter_mut() {
        let marks: Vec<(String, String)> = part
            .announced()
            .map(|left| {
                let mark = marks::mark("announced", now, &left.reason);
                (left.endpoint_id.clone(), mark)
            })
            .collect();
        part.announce.clear();
        part.marks.extend(marks);
    }
}

/// In a run whose durable document was corrupt (announcements then follow
/// the rule without a store: only connections created since the previous
/// tick), the connections left waiting and not announced now are taken as
/// announced before, so the rebuilt document does not announce them again.
async fn adopt(ctx: &Ctx, parts: &[Part], now: OffsetDateTime) {
    ctx.state
        .update(|doc| {
            for part in parts {
                for left in &part.report.left_pending {
                    let key = connection_key(&left.service_id, &left.endpoint_id);
                    doc.announced.entry(key).or_insert_with(|| Announced {
                        at: now,
                        domain_id: left.domain_id.clone(),
                        claimed: false,
                    });
                }
            }
        })
        .await;
}

/// The announced connections no longer pending in a sweep that read every
/// managed service, dropped from the state, each as a resolved notice.
async fn no_longer_waiting(ctx: &Ctx, parts: &[Part]) -> Vec<Alert> {
    let pending: HashSet<(&str, &str)> = parts
        .iter()
        .flat_map(|p| {
            p.pending
                .iter()
                .map(|e| (p.service_id.as_str(), e.as_str()))
        })
        .collect();
    let project = ctx.client.project_id().to_owned();
    let gone: Vec<(String, Announced)> = ctx
        .state
        .update(|doc| {
            let gone: Vec<String> = doc
                .announced
                .iter()
                // Keys are `{service_id}/{endpoint_id}` (`connection_key`).
                .filter(|(k, a)| {
                    !a.claimed && !k.split_once('/').is_some_and(|p| pending.contains(&p))
                })
                .map(|(k, _)| k.clone())
                .collect();
            gone.into_iter()
                .filter_map(|k| doc.announced.remove(&k).map(|a| (k, a)))
                .collect()
        })
        .await;
    gone.into_iter()
        .map(|(key, a)| {
            let (service_id, endpoint_id) = key.split_once('/').unwrap_or((&key, ""));
            let mut alert = Alert::pending(
                &project,
                service_id,
                endpoint_id,
                &a.domain_id,
                "no longer pending: accepted, rejected or deleted",
            );
            alert.summary = format!(
                "VPCEP connection no longer waiting: endpoint {endpoint_id} of account {} on service {service_id} in project {project}",
                a.domain_id
            );
            alert.resolved = true;
            alert
        })
        .collect()
}

/// Writes each part's marks in one request per part, only over
/// descriptions that are still the warden's own when written.
pub async fn write_marks(ctx: &Ctx, parts: &mut [Part]) {
    let mut set = JoinSet::new();
    for (i, part) in parts.iter_mut().enumerate() {
        let marks = std::mem::take(&mut part.marks);
        if marks.is_empty() {
            continue;
        }
        let (client, service) = (ctx.client.clone(), part.service_id.clone());
        set.spawn(async move { (i, client.describe_own_connections(&service, &marks).await) });
    }
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, Ok(done))) => {
                if !done.left.is_empty() {
                    info!(service_id = %parts[i].service_id, left = ?done.left, "descriptions that are not the warden's own were left as they are");
                }
            }
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
    use crate::config::NotAllowed;
    use crate::jobs::approve::{plan, Allowlist, Rules, PENDING};

    fn conn_at(id: &str, created: &str, description: Option<&str>) -> Connection {
        serde_json::from_value(serde_json::json!({
            "id": id, "domain_id": "x", "status": PENDING, "description": description,
            "created_at": created, "updated_at": created
        }))
        .unwrap()
    }

    #[test]
    fn notices_follow_the_mark_or_the_window() {
        use time::macros::datetime;
        let window = (
            datetime!(2026-11-24 10:00 UTC),
            datetime!(2026-11-24 10:05 UTC),
        );
        let fresh = conn_at("fresh", "2026-11-24T10:03:00Z", None);
        let old = conn_at("old", "2026-11-24T09:00:00Z", None);
        let marked = conn_at(
            "marked",
            "2026-11-24T09:00:00Z",
            Some("vpcep-warden: announced 2026-11-24T09:00Z, x"),
        );
        let foreign = conn_at("foreign", "2026-11-24T10:04:00Z", Some("ops"));
        let conns = [fresh, old, marked, foreign];
        let announced = |notices| -> Vec<String> {
            let r = Rules {
                not_allowed: NotAllowed::Leave,
                reconcile: false,
                max_per_account: None,
                notices,
            };
            plan("svc", &conns, &Allowlist::default(), &r, None)
                .decisions
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
}
