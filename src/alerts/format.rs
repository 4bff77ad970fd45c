//! Alert bodies for each webhook format. Pure functions of the alerts.

use serde_json::{json, Value};
use time::OffsetDateTime;

use super::Alert;
use crate::config::AlertFormat;

/// The alert name Alertmanager groups and deduplicates by.
pub const ALERTNAME: &str = "VpcepQuotaHigh";

/// The webhook body for `alerts` in `format`: one request carries them all.
pub fn body(format: AlertFormat, alerts: &[Alert], now: OffsetDateTime) -> Value {
    match format {
        AlertFormat::Slack => slack(alerts),
        AlertFormat::Alertmanager => alertmanager(alerts, now),
        AlertFormat::Json => json!(alerts),
    }
}

/// `{"text": ...}`: one line per alert, for Slack, Mattermost and
/// Rocket.Chat incoming webhooks (Feishu and Teams expect other bodies).
pub fn slack(alerts: &[Alert]) -> Value {
    let lines: Vec<String> = alerts.iter().map(Alert::summary).collect();
    json!({ "text": lines.join("\n") })
}

/// A Prometheus Alertmanager v2 `POST /api/v2/alerts` array. The labels are
/// the same on every run for the same quota and level, so Alertmanager
/// deduplicates repeats and resolves the alert once runs stop sending it.
pub fn alertmanager(alerts: &[Alert], now: OffsetDateTime) -> Value {
    let starts_at = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                json!({
                    "labels": {
                        "alertname": ALERTNAME,
                        "severity": a.level.name(),
                        "project_id": a.project_id,
                        "resource_type": a.kind,
                    },
                    "annotations": {
                        "summary": a.summary(),
                        "description": a.reason,
                        "used": a.used.to_string(),
                        "quota": a.quota.to_string(),
                        "percent": format!("{:.1}", a.percent),
                        "dedup_key": a.dedup_key,
                    },
                    "startsAt": starts_at,
                })
            })
            .collect(),
    )
}

/// The SMN subject and message for `alerts`.
pub fn smn(alerts: &[Alert]) -> (String, String) {
    let worst = alerts.iter().map(|a| a.level).max();
    let subject = format!(
        "VPCEP quota {}: {} alert(s)",
        worst.map(|l| l.name()).unwrap_or("ok"),
        alerts.len()
    );
    let message = alerts
        .iter()
        .map(|a| format!("{} ({})", a.summary(), a.reason))
        .collect::<Vec<_>>()
        .join("\n");
    (subject, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Level;

    fn alert() -> Alert {
        Alert {
            kind: "endpoint".into(),
            level: Level::Critical,
            used: 143,
            quota: 150,
            percent: 95.3,
            project_id: "p1".into(),
            dedup_key: "vpcep-quota/p1/endpoint/critical".into(),
            reason: "95% used, critical level is 95%".into(),
        }
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
        let body = alertmanager(&[alert()], now);
        assert_eq!(
            body[0]["labels"],
            json!({"alertname": ALERTNAME, "severity": "critical", "project_id": "p1", "resource_type": "endpoint"})
        );
        assert_eq!(body[0]["annotations"]["used"], "143");
        assert_eq!(body[0]["annotations"]["quota"], "150");
        assert_eq!(body[0]["startsAt"], "2026-11-23T12:00:00Z");
        let later = alertmanager(&[alert()], now + time::Duration::hours(1));
        assert_eq!(body[0]["labels"], later[0]["labels"]);
    }

    #[test]
    fn json_is_the_alert_objects_as_they_are() {
        let body = body(AlertFormat::Json, &[alert()], OffsetDateTime::UNIX_EPOCH);
        assert_eq!(body[0]["type"], "endpoint");
        assert_eq!(body[0]["level"], "critical");
        assert_eq!(body[0]["dedup_key"], "vpcep-quota/p1/endpoint/critical");
    }
}
