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

use super::Part;
use crate::alerts::Alert;
use crate::jobs::{marks, Ctx};
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
}

/// Whether a connection left pending is to be announced now.
pub fn announces(c: &Connection, notices: Notices) -> bool {
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

/// Sends the run's notices (and `extra` alerts) in one delivery; when every
/// sink took them, the announced connections get their mark, so they are
/// not announced again.
pub async fn announce(ctx: &Ctx, parts: &mut [Part], extra: Vec<Alert>) {
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
