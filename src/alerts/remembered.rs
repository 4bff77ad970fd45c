//! An alert as the state document keeps it, and back: enough to tell a
//! receiver it is resolved once it clears (Alertmanager matches a resolved
//! alert to the firing one by its labels, so they are kept whole).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Alert;
use crate::report::Level;

/// Every `alertname` the warden raises (the state keeps names as text; an
/// alert rebuilt from it needs the static one).
const ALERTNAMES: &[&str] = &[
    "VpcepQuotaHigh",
    "VpcepConnectionPending",
    "VpcepServicePosture",
    "VpcepRunRefused",
    "VpcepRevokeScheduled",
    "VpcepWardenTest",
];

/// Every Alertmanager label name beside `alertname`, `severity` and `project_id`.
const LABELS: &[&str] = &[
    "resource_type",
    "service_id",
    "endpoint_id",
    "finding",
    "refused",
    "target",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Remembered {
    #[serde(rename = "type")]
    kind: String,
    level: Level,
    project_id: String,
    dedup_key: String,
    summary: String,
    reason: String,
    #[serde(default)]
    facts: BTreeMap<String, Value>,
    alertname: String,
    #[serde(default)]
    labels: Vec<(String, String)>,
}

/// `alert` as the state keeps it.
pub fn remember(alert: &Alert) -> Value {
    serde_json::to_value(Remembered {
        kind: alert.kind.clone(),
        level: alert.level,
        project_id: alert.project_id.clone(),
        dedup_key: alert.dedup_key.clone(),
        summary: alert.summary.clone(),
        reason: alert.reason.clone(),
        facts: BTreeMap::from(&alert.facts),
        alertname: alert.alertname.to_owned(),
        labels: alert
            .label_values()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    })
    .unwrap_or(Value::Null)
}

/// The alert kept as `value`, resolved: what a receiver is told once it
/// clears. `None` when the value is not one (a document edited by hand).
pub fn resolved(value: &Value) -> Option<Alert> {
    let kept: Remembered = serde_json::from_value(value.clone()).ok()?;
    let alertname = ALERTNAMES.iter().find(|n| **n == kept.alertname)?;
    let labels = kept
        .labels
        .iter()
        .map(|(k, _)| LABELS.iter().find(|n| *n == k).copied())
        .collect::<Option<Vec<_>>>()?;
    let alert = Alert {
        kind: kept.kind,
        level: kept.level,
        project_id: kept.project_id,
        dedup_key: kept.dedup_key,
        summary: format!("Resolved: {}", kept.summary),
        reason: "no longer found".into(),
        facts: kept.facts.into(),
        alertname,
        labels,
        resolved: true,
        lifetime: None,
        lower_level: false,
    };
    // The labels' values come from the facts and kind kept: they must be
    // those the firing alert had, or Alertmanager would not match them.
    alert
        .label_values()
        .map(|(k, v)| (k.to_owned(), v))
        .eq(kept.labels)
        .then_some(alert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::QuotaEntry;

    #[test]
    fn every_alert_the_warden_raises_comes_back_resolved_with_the_same_labels() {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level: Level::Critical,
            target: None,
        };
        let mut scheduled = Alert::pending("p", "s", "e", "d", "why");
        scheduled.alertname = "VpcepRevokeScheduled";
        for alert in [
            Alert::quota(&entry, "p", "why".into()).in_target("bj"),
            Alert::pending("p", "s", "e", "d", "why"),
            Alert::finding("whitelist_open", "p", "s", "why".into()),
            Alert::refused("gc_over_limit", "p", 30, "why".into()),
            Alert::test("p"),
            scheduled,
        ] {
            let back = resolved(&remember(&alert)).expect(alert.alertname);
            assert!(back.resolved);
            assert_eq!(
                (
                    back.alertname,
                    back.label_values().collect::<Vec<_>>(),
                    back.level,
                    &back.dedup_key
                ),
                (
                    alert.alertname,
                    alert.label_values().collect::<Vec<_>>(),
                    alert.level,
                    &alert.dedup_key
                )
            );
            assert!(back.summary.starts_with("Resolved: "));
        }
        assert!(resolved(&serde_json::json!({"type": "x"})).is_none());
    }

    #[test]
    fn a_kept_alert_whose_labels_disagree_with_its_facts_is_not_resolved() {
        let mut kept = remember(&Alert::pending("p", "s", "e", "d", "why"));
        assert!(resolved(&kept).is_some());
        kept["labels"][1][1] = Value::from("another-endpoint");
        assert!(resolved(&kept).is_none());
    }
}
