//! The Prometheus Alertmanager body: stable labels, numbers as annotations,
//! and an end time that keeps a firing alert active between runs.

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use std::borrow::Borrow;

use super::{refs, Context};
use crate::alerts::Alert;

/// A Prometheus Alertmanager v2 `POST /api/v2/alerts` array. The labels are
/// the alert's identity (the same on every run for the same condition), so
/// Alertmanager deduplicates repeats; the numbers are annotations. A firing
/// alert ends at `now + ttl` unless a later run sends it again (Alertmanager
/// would otherwise resolve it after its `resolve_timeout`, 5 minutes by
/// default, and page again on the next run); a resolved one ends `now`.
/// `startsAt` is `now`: Alertmanager keeps the first one of an alert still active.
pub fn alertmanager(alerts: &[impl Borrow<Alert>], cx: &Context) -> Value {
    let alerts = refs(alerts);
    let at = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let (now, ttl) = (cx.now, cx.ttl);
    let starts_at = at(now);
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                let mut labels = serde_json::Map::new();
                labels.insert("alertname".into(), json!(a.alertname));
                labels.insert("severity".into(), json!(a.level.name()));
                labels.insert("project_id".into(), json!(a.project_id));
                for (name, value) in a.label_values() {
                    labels.insert(name.into(), json!(value));
                }
                let mut annotations = serde_json::Map::new();
                annotations.insert("summary".into(), json!(a.summary));
                annotations.insert("description".into(), json!(a.reason));
                annotations.insert("dedup_key".into(), json!(a.dedup_key));
                for (name, value) in a.facts.iter() {
                    let text = match (name, value) {
                        ("percent", Value::Number(p)) => format!("{:.1}", p.as_f64().unwrap_or_default()),
                        (_, Value::String(s)) => s.clone(),
                        (_, other) => other.to_string(),
                    };
                    annotations.insert(name.to_owned(), json!(text));
                }
                let ends_at = if a.resolved {
                    at(now)
                } else {
                    at(now + a.lifetime.unwrap_or(ttl))
                };
                let mut alert = json!({"labels": labels, "annotations": annotations, "startsAt": starts_at, "endsAt": ends_at});
                if let Some(url) = &cx.console {
                    alert["generatorURL"] = json!(url);
                }
                alert
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{alert, cx, NOON};
    use super::*;
    use crate::report::{Level, QuotaEntry};

    #[test]
    fn alertmanager_labels_are_stable_and_numbers_are_annotations() {
        let body = alertmanager(&[alert()], &cx(NOON));
        assert_eq!(
            body[0]["labels"],
            json!({"alertname": "VpcepQuotaHigh", "severity": "critical", "project_id": "p1", "resource_type": "endpoint"})
        );
        assert_eq!(body[0]["annotations"]["used"], "143");
        assert_eq!(body[0]["annotations"]["quota"], "150");
        assert_eq!(body[0]["startsAt"], "2026-11-23T12:00:00Z");
        assert_eq!(body[0]["endsAt"], "2026-11-23T15:00:00Z");
        assert_eq!(
            body[0]["generatorURL"],
            "https://console.huaweicloud.com/vpcep/?region=cn-north-4"
        );
        let later = alertmanager(&[alert()], &cx(NOON + time::Duration::hours(1)));
        assert_eq!(body[0]["labels"], later[0]["labels"]);
    }

    #[test]
    fn a_level_no_longer_crossed_ends_now() {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 10,
            quota: 150,
            percent: 6.7,
            level: Level::Ok,
            target: None,
        };
        let resolved = Alert::quota_resolved(&entry, Level::Critical, "p1");
        let body = alertmanager(&[resolved], &cx(NOON));
        assert_eq!(body[0]["endsAt"], "2026-11-23T12:00:00Z");
        assert_eq!(body[0]["labels"]["severity"], "critical");
        assert_eq!(
            body[0]["annotations"]["dedup_key"],
            "vpcep-quota/p1/endpoint/critical"
        );
    }
}
