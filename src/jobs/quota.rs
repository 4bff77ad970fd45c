//! The quota job: read the VPCEP quotas, grade each, and raise one alert per
//! crossed level. Alerts carry a stable `dedup_key`, so a receiver that
//! deduplicates (Alertmanager) pages once, however often the job runs.
//!
//! It also reviews the managed services' set-up (posture): a service with
//! approval disabled, or with a `*` whitelist record, raises a warning
//! (`vpcep-posture/{project}/{service}/{finding}`). That costs one read of
//! the services and one of each service's whitelist per run.

use tokio::task::JoinSet;

use super::Ctx;
use crate::alerts::Alert;
use crate::config::Settings;
use crate::report::{Level, QuotaEntry, Report};
use crate::vpcep::check::findings;
use crate::vpcep::{ApiError, EndpointService, Quota};

/// The levels that grade usage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub warn_percent: f64,
    pub critical_percent: f64,
    /// Also warn when fewer than this many free slots remain.
    pub min_free: Option<u64>,
}

impl Levels {
    /// The levels configured in `settings`.
    pub fn from_settings(s: &Settings) -> Self {
        Self {
            warn_percent: s.quota_warn_percent,
            critical_percent: s.quota_critical_percent,
            min_free: s.quota_min_free,
        }
    }
}

/// Percent of `quota` that `used` takes; a zero quota with anything used is 100 %.
pub fn percent(used: u64, quota: u64) -> f64 {
    if quota == 0 {
        if used == 0 {
            0.0
        } else {
            100.0
        }
    } else {
        used as f64 * 100.0 / quota as f64
    }
}

/// Grades one quota of `limit`, and says why when it is not `ok`.
pub fn grade(q: &Quota, limit: u64, levels: &Levels) -> (QuotaEntry, Option<String>) {
    let pct = percent(q.used, limit);
    let free = limit.saturating_sub(q.used);
    let (level, why) = if pct >= levels.critical_percent {
        (
            Level::Critical,
            Some(format!(
                "{pct:.0}% used, critical level is {}%",
                levels.critical_percent
            )),
        )
    } else if pct >= levels.warn_percent {
        (
            Level::Warning,
            Some(format!(
                "{pct:.0}% used, warning level is {}%",
                levels.warn_percent
            )),
        )
    } else if levels.min_free.is_some_and(|min| free < min) {
        (
            Level::Warning,
            Some(format!(
                "{free} free, fewer than WARDEN_QUOTA_MIN_FREE={}",
                levels.min_free.unwrap_or(0)
            )),
        )
    } else {
        (Level::Ok, None)
    };
    let entry = QuotaEntry {
        kind: q.kind.clone(),
        used: q.used,
        quota: limit,
        percent: (pct * 10.0).round() / 10.0,
        level,
        target: None,
    };
    (entry, why)
}

/// Grades every quota and builds the alerts for those above `ok` (the
/// level reached, and below it the lower levels also crossed, for
/// Alertmanager), and the resolved ones for each level not crossed.
pub fn plan(quotas: &[Quota], levels: &Levels, project_id: &str) -> (Vec<QuotaEntry>, Vec<Alert>) {
    let mut entries = Vec::with_capacity(quotas.len());
    let mut alerts = Vec::new();
    for q in quotas {
        let Some(limit) = q.quota else {
            // Unlimited (`-1`): no level can be crossed.
            tracing::debug!(kind = %q.kind, used = q.used, "quota unlimited");
            continue;
        };
        let (entry, why) = grade(q, limit, levels);
        if let Some(reason) = why {
            alerts.push(Alert::quota(&entry, project_id, reason));
        }
        // Every level crossed stays firing (at critical the warning level is
        // crossed too), as Prometheus rules do; the others are resolved, so
        // Alertmanager closes them at once instead of waiting for `endsAt`.
        for level in [Level::Warning, Level::Critical] {
            if level < entry.level {
                alerts.push(Alert::quota_also_crossed(&entry, level, project_id));
            } else if level != entry.level {
                alerts.push(Alert::quota_resolved(&entry, level, project_id));
            }
        }
        entries.push(entry);
    }
    (entries, alerts)
}

/// Runs the quota job: read, grade, alert.
pub async fn run(ctx: &Ctx) -> Report {
    let mut report = Report::new("tick", ctx.dry_run());
    let quotas = match ctx.client.quotas().await {
        Ok(q) => q,
        Err(e) => {
            report.error("quota", "quotas", e.to_string(), e.is_retryable());
            return report;
        }
    };
    let (entries, alerts) = plan(
        &quotas,
        &Levels::from_settings(&ctx.settings),
        ctx.client.project_id(),
    );
    report.quotas = entries;
    let mut alerts = alerts;
    let errors_before = report.errors.len();
    alerts.extend(posture(ctx, &mut report).await);
    // Only a run that read everything can tell an alert has cleared.
    let delivered = if report.errors.len() == errors_before {
        ctx.sinks.deliver_all("quota", alerts, ctx.dry_run()).await
    } else {
        ctx.sinks.deliver("quota", alerts, ctx.dry_run()).await
    };
    report.alerts = delivered.alerts;
    report.errors.extend(delivered.errors);
    report
}

/// The managed services: `WARDEN_SERVICE_IDS`, or every service of the
/// project, from the one listing a run makes.
async fn services(ctx: &Ctx) -> Result<Vec<EndpointService>, ApiError> {
    let ids = &ctx.settings.service_ids;
    Ok(ctx
        .services()
        .await?
        .iter()
        .filter(|s| ids.is_empty() || ids.contains(&s.id))
        .cloned()
        .collect())
}

/// The posture warnings of the managed services. A read that fails is an
/// error of the report; the quota alerts still go out.
async fn posture(ctx: &Ctx, report: &mut Report) -> Vec<Alert> {
    let services = match services(ctx).await {
        Ok(s) => s,
        Err(e) => {
            report.error(
                "quota",
                "endpoint services",
                e.to_string(),
                e.is_retryable(),
            );
            return Vec::new();
        }
    };
    let mut set = JoinSet::new();
    for service in services {
        let ctx = ctx.clone();
        set.spawn(async move {
            let records = ctx.whitelist(&service.id).await;
            (service, records)
        });
    }
    let project = ctx.client.project_id();
    let mut alerts = Vec::new();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((service, Ok(records))) => {
                for f in findings(&service, &records) {
                    alerts.push(Alert::finding(f.kind, project, &service.id, f.message));
                }
            }
            Ok((service, Err(e))) => report.error(
                "quota",
                &format!("whitelist of service {}", service.id),
                e.to_string(),
                e.is_retryable(),
            ),
            Err(_) => report.error(
                "quota",
                "endpoint services",
                "a whitelist read ended abnormally".into(),
                true,
            ),
        }
    }
    alerts.sort_by(|a, b| a.dedup_key.cmp(&b.dedup_key));
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(used: u64, quota: u64) -> Quota {
        serde_json::from_value(
            serde_json::json!({"type": "endpoint", "used": used, "quota": quota}),
        )
        .unwrap()
    }

    const LEVELS: Levels = Levels {
        warn_percent: 80.0,
        critical_percent: 95.0,
        min_free: None,
    };

    #[test]
    fn quota_levels_at_79_80_95_and_100_percent() {
        let got: Vec<Level> = [79, 80, 95, 100]
            .iter()
            .map(|u| grade(&q(*u, 100), 100, &LEVELS).0.level)
            .collect();
        assert_eq!(
            got,
            [Level::Ok, Level::Warning, Level::Critical, Level::Critical]
        );
    }

    #[test]
    fn no_alert_when_all_quotas_are_below_warning() {
        let (entries, alerts) = plan(&[q(10, 150), q(0, 20)], &LEVELS, "p");
        assert_eq!(entries.len(), 2);
        assert!(alerts.iter().all(|a| a.resolved));
        assert_eq!(alerts.len(), 4, "warning and critical resolved for each");
    }

    #[test]
    fn an_alert_has_a_stable_dedup_key_and_the_numbers() {
        let (_, alerts) = plan(&[q(143, 150)], &LEVELS, "proj1");
        let alerts: Vec<_> = alerts
            .into_iter()
            .filter(|a| !a.resolved && !a.lower_level)
            .collect();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].dedup_key, "vpcep-quota/proj1/endpoint/critical");
        assert_eq!(alerts[0].fact("used").as_deref(), Some("143"));
        assert_eq!(alerts[0].fact("quota").as_deref(), Some("150"));
        assert_eq!(alerts[0].fact("percent").as_deref(), Some("95.3"));
    }

    #[test]
    fn few_free_slots_warn_even_below_the_percent_level() {
        let levels = Levels {
            min_free: Some(10),
            ..LEVELS
        };
        let (entry, why) = grade(&q(15, 20), 20, &levels);
        assert_eq!(entry.level, Level::Warning);
        assert!(why.unwrap().contains("WARDEN_QUOTA_MIN_FREE=10"));
        let (entry, why) = grade(&q(15, 150), 150, &levels);
        assert_eq!(entry.level, Level::Ok);
        assert!(why.is_none());
    }

    #[test]
    fn an_unlimited_quota_is_never_graded_and_the_others_still_are() {
        let quotas: Vec<Quota> = serde_json::from_value(serde_json::json!([
            {"type": "endpoint_service", "used": 3, "quota": -1},
            {"type": "endpoint", "used": 149, "quota": 150},
            {"type": "endpoint", "used": 1, "quota": "-1"}
        ]))
        .unwrap();
        assert_eq!(quotas[0].quota, None);
        let (entries, alerts) = plan(&quotas, &LEVELS, "p1");
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].quota, entries[0].level), (150, Level::Critical));
        assert!(alerts.iter().all(|a| a.kind == "endpoint"));
    }

    #[test]
    fn a_negative_quota_other_than_minus_one_is_an_error() {
        let bad = serde_json::from_value::<Quota>(
            serde_json::json!({"type": "endpoint", "used": 1, "quota": -2}),
        );
        assert!(bad.is_err());
    }

    #[test]
    fn a_zero_quota_in_use_is_full() {
        assert_eq!(percent(1, 0), 100.0);
        assert_eq!(percent(0, 0), 0.0);
    }

    #[test]
    fn at_critical_the_warning_level_stays_firing_for_alertmanager() {
        let (_, alerts) = plan(&[q(143, 150)], &LEVELS, "p");
        let warning = alerts
            .iter()
            .find(|a| a.dedup_key == "vpcep-quota/p/endpoint/warning")
            .expect("the warning level's alert");
        assert!(!warning.resolved, "usage is above the warning level too");
        assert!(warning.lower_level, "for Alertmanager only");
        assert_eq!(warning.level, Level::Warning);
        // At warning, critical is not crossed: resolved.
        let (_, alerts) = plan(&[q(125, 150)], &LEVELS, "p");
        let critical = alerts
            .iter()
            .find(|a| a.dedup_key == "vpcep-quota/p/endpoint/critical")
            .unwrap();
        assert!(critical.resolved);
    }
}
