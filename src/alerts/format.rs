//! Alert bodies for each webhook format. Pure functions of the alerts.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::Alert;
use crate::config::AlertFormat;

/// The webhook body for `alerts` in `format`: one request carries them all.
pub fn body(format: AlertFormat, alerts: &[Alert], now: OffsetDateTime, ttl: Duration) -> Value {
    match format {
        AlertFormat::Slack => slack(alerts),
        AlertFormat::Alertmanager => alertmanager(alerts, now, ttl),
        AlertFormat::Json => json!(alerts),
    }
}

/// `{"text": ...}`: one line per alert, for Slack, Mattermost and
/// Rocket.Chat incoming webhooks (Feishu and Teams expect other bodies).
pub fn slack(alerts: &[Alert]) -> Value {
    let lines: Vec<&str> = alerts.iter().map(|a| a.summary.as_str()).collect();
    json!({ "text": lines.join("\n") })
}

/// A Prometheus Alertmanager v2 `POST /api/v2/alerts` array. The labels are
/// the alert's identity (the same on every run for the same condition), so
/// Alertmanager deduplicates repeats; the numbers are annotations. A firing
/// alert ends at `now + ttl` unless a later run sends it again (Alertmanager
/// would otherwise resolve it after its `resolve_timeout`, 5 minutes by
/// default, and page again on the next run); a resolved one ends `now`.
/// `startsAt` is `now`: Alertmanager keeps the first one of an alert still active.
pub fn alertmanager(alerts: &[Alert], now: OffsetDateTime, ttl: Duration) -> Value {
    let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let starts_at = at(now);
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                let mut labels = serde_json::Map::new();
                labels.insert("alertname".into(), json!(a.alertname));
                labels.insert("severity".into(), json!(a.level.name()));
                labels.insert("project_id".into(), json!(a.project_id));
                for (name, value) in &a.labels {
                    labels.insert((*name).into(), json!(value));
                }
                let mut annotations = serde_json::Map::new();
                annotations.insert("summary".into(), json!(a.summary));
                annotations.insert("description".into(), json!(a.reason));
                annotations.insert("dedup_key".into(), json!(a.dedup_key));
                for name in a.facts.keys() {
                    let text = match (name.as_str(), a.facts[name].as_f64()) {
                        ("percent", Some(p)) => format!("{p:.1}"),
                        _ => a.fact(name).unwrap_or_default(),
                    };
                    annotations.insert(name.clone(), json!(text));
                }
                let ends_at = if a.resolved { at(now) } else { at(now + ttl) };
                json!({"labels": labels, "annotations": annotations, "startsAt": starts_at, "endsAt": ends_at})
            })
            .collect(),
    )
}

/// The SMN subject and message for `alerts`.
pub fn smn(alerts: &[Alert]) -> (String, String) {
    let worst = alerts.iter().map(|a| a.level).max();
    let subject = format!(
        "VPCEP warden {}: {} alert(s)",
        worst.map(|l| l.name()).unwrap_or("ok"),
        alerts.len()
    );
    let message = alerts
        .iter()
        .map(|a| format!("{} ({})", a.summary, a.reason))
        .collect::<Vec<_>>()
        .join("\n");
    (subject, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, QuotaEntry};

    fn alert() -> Alert {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level: Level::Critical,
        };
        Alert::quota(&entry, "p1", "95% used, critical level is 95%".into())
    }

    #[test]
    fn slack_text_is_one_human_line_per_alert() {
        assert_eq!(
            slack(&[alert()]),
            json!({"text": "VPCEP quota critical: endpoint 143/150 (95%) in project p1"})
        );
    }

    #[test]
    fn alertmanager_labels_are_stable_and_numbers_are_annotations() {
        let now = time::macros::datetime!(2026-11-23 12:00 UTC);
        let body = alertmanager(&[alert()], now, Duration::minutes(180));
        assert_eq!(
            body[0]["labels"],
            json!({"alertname": "VpcepQuotaHigh", "severity": "critical", "project_id": "p1", "resource_type": "endpoint"})
        );
        assert_eq!(body[0]["annotations"]["used"], "143");
        assert_eq!(body[0]["annotations"]["quota"], "150");
        assert_eq!(body[0]["startsAt"], "2026-11-23T12:00:00Z");
        assert_eq!(body[0]["endsAt"], "2026-11-23T15:00:00Z");
        let later = alertmanager(
            &[alert()],
            now + time::Duration::hours(1),
            Duration::minutes(180),
        );
        assert_eq!(body[0]["labels"], later[0]["labels"]);
    }

    #[test]
    fn json_is_the_alert_objects_as_they_are() {
        let body = body(
            AlertFormat::Json,
            &[alert()],
            OffsetDateTime::UNIX_EPOCH,
            Duration::ZERO,
        );
        assert_eq!(body[0]["type"], "endpoint");
        assert_eq!(body[0]["level"], "critical");
        assert_eq!(body[0]["dedup_key"], "vpcep-quota/p1/endpoint/critical");
    }

    #[test]
    fn a_level_no_longer_crossed_ends_now() {
        let now = time::macros::datetime!(2026-11-23 12:00 UTC);
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 10,
            quota: 150,
            percent: 6.7,
            level: Level::Ok,
        };
        let resolved = Alert::quota_resolved(&entry, Level::Critical, "p1");
        let body = alertmanager(&[resolved], now, Duration::minutes(180));
        assert_eq!(body[0]["endsAt"], "2026-11-23T12:00:00Z");
        assert_eq!(body[0]["labels"]["severity"], "critical");
        assert_eq!(
            body[0]["annotations"]["dedup_key"],
            "vpcep-quota/p1/endpoint/critical"
        );
    }
}
