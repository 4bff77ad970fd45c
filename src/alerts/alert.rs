//! What an alert is: its kind, level, summary and facts, and the keys that
//! tell one alert from another.

use serde::Serialize;
use serde_json::Value;

use super::Facts;
use crate::report::{Level, QuotaEntry};

/// One alert: a crossed quota level, a connection waiting for review, a
/// finding about a service, or a run that refused to act.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// What it is about: the quota type (`endpoint`, `endpoint_service`), or
    /// `pending_connection`, `approval_disabled`, `whitelist_open`,
    /// `gc_over_limit`, `reconcile_over_limit`.
    #[serde(rename = "type")]
    pub kind: String,
    pub level: Level,
    pub project_id: String,
    /// Stable across runs for the same condition, e.g.
    /// `vpcep-quota/{project_id}/{type}/{level}`.
    pub dedup_key: String,
    /// A one-line human summary.
    pub summary: String,
    /// Why it was raised, in words.
    pub reason: String,
    /// The numbers and names behind it (`used`, `quota`, `percent`;
    /// `service_id`, `endpoint_id`, `domain_id`; `count`), flattened into the
    /// JSON body.
    #[serde(flatten)]
    pub facts: Facts,
    /// Alertmanager's `alertname` for this kind of alert.
    #[serde(skip)]
    pub alertname: &'static str,
    /// The names of its Alertmanager labels (the identity), beside
    /// `alertname`, `severity` and `project_id`: each the fact of that name,
    /// or the alert's kind for `resource_type`, `finding` and `refused`
    /// ([`Alert::label_values`]). Names only: the values are not kept twice.
    #[serde(skip)]
    pub labels: Vec<&'static str>,
    /// No longer raised: Alertmanager gets it with `endsAt` now, so it
    /// closes the alert at once; chat, `json` receivers and SMN get it once,
    /// where the firing alert went (see `alerts::repeat`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resolved: bool,
    /// How long Alertmanager keeps this alert, when not `WARDEN_ALERT_TTL_MINUTES`.
    #[serde(skip)]
    pub lifetime: Option<time::Duration>,
    /// A lower level that usage is also above (the warning level of a quota
    /// at critical): it stays firing at Alertmanager, as every crossed level
    /// of a Prometheus rule does; chat, `json` and SMN get the highest only.
    #[serde(skip)]
    pub lower_level: bool,
}

impl Alert {
    /// A crossed quota level.
    pub fn quota(entry: &QuotaEntry, project_id: &str, reason: String) -> Self {
        let facts = Facts::of([
            ("used", Value::from(entry.used)),
            ("quota", Value::from(entry.quota)),
            ("percent", Value::from(entry.percent)),
        ]);
        Self {
            kind: entry.kind.clone(),
            level: entry.level,
            project_id: project_id.to_owned(),
            dedup_key: format!(
                "vpcep-quota/{project_id}/{}/{}",
                entry.kind,
                entry.level.name()
            ),
            summary: format!(
                "VPCEP quota {}: {} {}/{} ({:.0}%) in project {project_id}",
                entry.level.name(),
                entry.kind,
                entry.used,
                entry.quota,
                entry.percent,
            ),
            reason,
            facts,
            alertname: "VpcepQuotaHigh",
            labels: vec!["resource_type"],
            resolved: false,
            lifetime: None,
            lower_level: false,
        }
    }

    /// The quota's `level` alert, resolved: usage is no longer at that level.
    pub fn quota_resolved(entry: &QuotaEntry, level: Level, project_id: &str) -> Self {
        let reason = format!("back under the {} level", level.name());
        let mut alert = Self::quota_at(entry, level, project_id, reason, " resolved");
        alert.resolved = true;
        alert
    }

    /// The quota's `level` alert while usage is at a higher level: still
    /// firing (usage is above it too), for Alertmanager only.
    pub fn quota_also_crossed(entry: &QuotaEntry, level: Level, project_id: &str) -> Self {
        let reason = format!(
            "above the {} level too (now {})",
            level.name(),
            entry.level.name()
        );
        let mut alert = Self::quota_at(entry, level, project_id, reason, "");
        alert.lower_level = true;
        alert
    }

    /// The quota's alert at `level` (not the entry's own), its summary
    /// saying `state` after the level.
    fn quota_at(
        entry: &QuotaEntry,
        level: Level,
        project_id: &str,
        reason: String,
        state: &str,
    ) -> Self {
        let mut alert = Self::quota(entry, project_id, reason);
        alert.level = level;
        alert.dedup_key = format!("vpcep-quota/{project_id}/{}/{}", entry.kind, level.name());
        alert.summary = format!(
            "VPCEP quota {}{state}: {} {}/{} ({:.0}%) in project {project_id}",
            level.name(),
            entry.kind,
            entry.used,
            entry.quota,
            entry.percent,
        );
        alert
    }

    /// A connection left pending, announced once.
    pub fn pending(
        project_id: &str,
        service_id: &str,
        endpoint_id: &str,
        domain_id: &str,
        reason: &str,
    ) -> Self {
        Self {
            kind: "pending_connection".into(),
            level: Level::Warning,
            project_id: project_id.to_owned(),
            dedup_key: format!("vpcep-pending/{project_id}/{service_id}/{endpoint_id}"),
            summary: format!(
                "VPCEP connection waiting: endpoint {endpoint_id} of account {domain_id} asks to connect to service {service_id} in project {project_id}"
            ),
            reason: reason.to_owned(),
            facts: Facts::of([
                ("service_id", Value::from(service_id)),
                ("endpoint_id", Value::from(endpoint_id)),
                ("domain_id", Value::from(domain_id)),
            ]),
            alertname: "VpcepConnectionPending",
            labels: vec!["service_id", "endpoint_id"],
            resolved: false,
            lifetime: None,
            lower_level: false,
        }
    }

    /// A finding about how a service is set up (`approval_disabled`, `whitelist_open`).
    pub fn finding(kind: &str, project_id: &str, service_id: &str, reason: String) -> Self {
        Self {
            kind: kind.to_owned(),
            level: Level::Warning,
            project_id: project_id.to_owned(),
            dedup_key: format!("vpcep-posture/{project_id}/{service_id}/{kind}"),
            summary: format!("VPCEP service {service_id} in project {project_id}: {reason}"),
            reason,
            facts: Facts::of([("service_id", Value::from(service_id))]),
            alertname: "VpcepServicePosture",
            labels: vec!["service_id", "finding"],
            resolved: false,
            lifetime: None,
            lower_level: false,
        }
    }

    /// A run that matched more than its cap and so did nothing (`gc_over_limit`,
    /// `reconcile_over_limit`).
    pub fn refused(kind: &str, project_id: &str, count: usize, reason: String) -> Self {
        Self {
            kind: kind.to_owned(),
            level: Level::Critical,
            project_id: project_id.to_owned(),
            dedup_key: format!("vpcep-refused/{project_id}/{kind}"),
            summary: format!("VPCEP warden refused to act in project {project_id}: {reason}"),
            reason,
            facts: Facts::of([("count", Value::from(count))]),
            alertname: "VpcepRunRefused",
            labels: vec!["refused"],
            resolved: false,
            lifetime: None,
            lower_level: false,
        }
    }

    /// A sample alert for `alert-test`: checks the wiring, pages nobody for
    /// long (Alertmanager drops it after 5 minutes).
    pub fn test(project_id: &str) -> Self {
        Self {
            kind: "test".into(),
            level: Level::Warning,
            project_id: project_id.to_owned(),
            dedup_key: format!("vpcep-test/{project_id}"),
            summary: format!(
                "VPCEP warden test alert for project {project_id}: this sink is wired correctly"
            ),
            reason: "sent by vpcep-warden alert-test; nothing is wrong".into(),
            facts: Facts::default(),
            alertname: "VpcepWardenTest",
            labels: Vec::new(),
            resolved: false,
            lifetime: Some(time::Duration::minutes(5)),
            lower_level: false,
        }
    }

    /// The alert as raised in the target `name`: the name goes into its
    /// `dedup_key` after the kind (`vpcep-quota/{target}/{project}/...`), its
    /// summary, its facts and an Alertmanager label `target`.
    pub fn in_target(mut self, name: &str) -> Self {
        self.dedup_key = match self.dedup_key.split_once('/') {
            Some((kind, rest)) => format!("{kind}/{name}/{rest}"),
            None => format!("{}/{name}", self.dedup_key),
        };
        self.summary = format!("[{name}] {}", self.summary);
        self.facts.insert("target", Value::from(name));
        self.labels.push("target");
        self
    }

    /// What the alert is about, in a few characters for its log line: the
    /// endpoint, else the service, else the usage of a quota, else the project.
    pub fn subject(&self) -> String {
        if let Some(id) = self.fact("endpoint_id").or_else(|| self.fact("service_id")) {
            return id;
        }
        match (self.fact("used"), self.fact("quota")) {
            (Some(used), Some(quota)) => format!("{used}/{quota}"),
            _ => self.project_id.clone(),
        }
    }

    /// Its Alertmanager labels beside `alertname`, `severity` and
    /// `project_id`, with their values (see [`Alert::labels`]).
    pub fn label_values(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        self.labels.iter().map(|&name| {
            let value = match name {
                "resource_type" | "finding" | "refused" => Some(self.kind.clone()),
                _ => self.fact(name),
            };
            (name, value.unwrap_or_default())
        })
    }

    /// A fact as text (numbers as written, strings as they are).
    pub fn fact(&self, name: &str) -> Option<String> {
        self.facts.get(name).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}
