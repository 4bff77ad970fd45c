//! The report: one JSON object per invocation (design.md section 5), returned
//! to the caller and logged as one line.

use serde::{Deserialize, Serialize};

/// A connection the approve job accepted or rejected (or would have, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEntry {
    pub service_id: String,
    pub endpoint_id: String,
    pub domain_id: String,
    /// Why, in words (e.g. `account in WARDEN_ALLOWED_DOMAINS`).
    #[serde(default)]
    pub reason: String,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// An accepted connection whose account is no longer allowed
/// (`WARDEN_RECONCILE`): rejected, or only reported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedEntry {
    pub service_id: String,
    pub endpoint_id: String,
    pub domain_id: String,
    /// Whether it was rejected (in a dry run: would have been).
    pub rejected: bool,
    pub reason: String,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A connection left pending, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingEntry {
    pub service_id: String,
    pub endpoint_id: String,
    pub domain_id: String,
    pub reason: String,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A failed endpoint the gc job deleted (or would have, in a dry run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedEntry {
    pub endpoint_id: String,
    pub endpoint_service_id: String,
    pub updated_at: String,
    /// Why the endpoint failed, as the API reported it (empty when it did not say).
    pub error_code: String,
    pub error_message: String,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// A failed endpoint the gc job did not delete, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEntry {
    pub endpoint_id: String,
    pub reason: String,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Quota usage level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Ok,
    Warning,
    Critical,
}

impl Level {
    /// The level's name as in the report.
    pub fn name(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// One quota as read, with its level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub used: u64,
    pub quota: u64,
    pub percent: f64,
    pub level: Level,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// An alert raised by the quota job and the sinks it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEntry {
    #[serde(rename = "type")]
    pub kind: String,
    pub level: Level,
    pub dedup_key: String,
    pub sinks: Vec<String>,
    /// The target it belongs to, when `WARDEN_TARGETS` names several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// Something that failed: which job, on what, why, and whether a retry may help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEntry {
    pub job: String,
    pub target: String,
    pub message: String,
    pub retryable: bool,
    /// The target it belongs to, when `WARDEN_TARGETS` names several
    /// (`target` already names what failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
}

/// The outcome of one invocation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// `tick` or `connection`.
    pub trigger: String,
    pub dry_run: bool,
    pub approved: Vec<ConnectionEntry>,
    pub rejected: Vec<ConnectionEntry>,
    pub left_pending: Vec<PendingEntry>,
    /// Accepted connections of accounts no longer allowed (`WARDEN_RECONCILE`).
    pub revoked: Vec<RevokedEntry>,
    pub deleted: Vec<DeletedEntry>,
    pub gc_skipped: Vec<SkippedEntry>,
    pub quotas: Vec<QuotaEntry>,
    pub alerts: Vec<AlertEntry>,
    pub errors: Vec<ErrorEntry>,
    pub api_calls: u64,
    pub duration_ms: u64,
    /// One report per target, when `WARDEN_TARGETS` is set (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetReport>,
    /// The targets a fan-out tick handed an invocation of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handed_off: Vec<HandOffEntry>,
}

/// A target handed its own invocation by a fan-out tick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOffEntry {
    pub target: String,
    /// The asynchronous invocation's id (empty in a dry run).
    pub request_id: String,
}

/// What one target's run did: its name and the usual lists and counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetReport {
    pub name: String,
    /// Its rank among the targets of the run in the order they finished (1: first).
    pub finished: u32,
    #[serde(flatten)]
    pub report: Report,
}

impl Report {
    /// An empty report for a trigger of the given kind.
    pub fn new(trigger: &str, dry_run: bool) -> Self {
        Self {
            trigger: trigger.to_owned(),
            dry_run,
            approved: Vec::new(),
            rejected: Vec::new(),
            left_pending: Vec::new(),
            revoked: Vec::new(),
            deleted: Vec::new(),
            gc_skipped: Vec::new(),
            quotas: Vec::new(),
            alerts: Vec::new(),
            errors: Vec::new(),
            api_calls: 0,
            duration_ms: 0,
            targets: Vec::new(),
            handed_off: Vec::new(),
        }
    }

    /// Marks every entry as belonging to the target `name`.
    pub fn stamp_target(&mut self, name: &str) {
        let name = Some(name.to_owned());
        self.approved
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.rejected
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.left_pending
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.revoked
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.deleted
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.gc_skipped
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.quotas
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.alerts
            .iter_mut()
            .for_each(|e| e.target.clone_from(&name));
        self.errors
            .iter_mut()
            .for_each(|e| e.target_name.clone_from(&name));
    }

    /// Records a failure.
    pub fn error(&mut self, job: &str, target: &str, message: String, retryable: bool) {
        self.errors.push(ErrorEntry {
            job: job.to_owned(),
            target: target.to_owned(),
            message,
            retryable,
            target_name: None,
        });
    }

    /// Adds the lists of `part` (a job's or a record's report) to this one.
    pub fn merge(&mut self, part: Report) {
        self.approved.extend(part.approved);
        self.rejected.extend(part.rejected);
        self.left_pending.extend(part.left_pending);
        self.revoked.extend(part.revoked);
        self.deleted.extend(part.deleted);
        self.gc_skipped.extend(part.gc_skipped);
        self.quotas.extend(part.quotas);
        self.alerts.extend(part.alerts);
        self.errors.extend(part.errors);
        self.handed_off.extend(part.handed_off);
    }

    /// The report as one JSON line.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }

    /// Whether every action succeeded.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

/// How many ids of each list, and how many errors, a [`Report::summary`] keeps.
pub const SUMMARY_FIRST: usize = 5;

/// The longest error message a [`Report::summary`] keeps, in characters.
const SUMMARY_MESSAGE_CHARS: usize = 300;

impl Report {
    /// A bounded summary of the report, for callers that cannot take a
    /// report of any size (a Step Functions state holds at most 256 KiB):
    /// the count of each list with its first ids, the first errors (messages
    /// cut short), the calls and the time, and the same per target. Its
    /// size does not grow with the estate, only with the number of targets.
    pub fn summary(&self) -> serde_json::Value {
        use serde_json::{json, Map, Value};
        fn list<'a>(ids: impl ExactSizeIterator<Item = &'a str>) -> Value {
            let count = ids.len();
            let first: Vec<&str> = ids.take(SUMMARY_FIRST).collect();
            json!({"count": count, "first": first})
        }
        let mut out = Map::new();
        out.insert("trigger".into(), json!(self.trigger));
        out.insert("dry_run".into(), json!(self.dry_run));
        out.insert(
            "approved".into(),
            list(self.approved.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert(
            "rejected".into(),
            list(self.rejected.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert(
            "left_pending".into(),
            list(self.left_pending.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert(
            "revoked".into(),
            list(self.revoked.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert(
            "deleted".into(),
            list(self.deleted.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert(
            "gc_skipped".into(),
            list(self.gc_skipped.iter().map(|e| e.endpoint_id.as_str())),
        );
        out.insert("alerts".into(), json!(self.alerts.len()));
        if !self.handed_off.is_empty() {
            out.insert(
                "handed_off".into(),
                list(self.handed_off.iter().map(|h| h.target.as_str())),
            );
        }
        let errors: Vec<Value> = self
            .errors
            .iter()
            .take(SUMMARY_FIRST)
            .map(|e| {
                let message: String = e.message.chars().take(SUMMARY_MESSAGE_CHARS).collect();
                json!({"job": e.job, "target": e.target, "message": message, "retryable": e.retryable})
            })
            .collect();
        out.insert(
            "errors".into(),
            json!({"count": self.errors.len(), "first": errors}),
        );
        out.insert("api_calls".into(), json!(self.api_calls));
        out.insert("duration_ms".into(), json!(self.duration_ms));
        if !self.targets.is_empty() {
            let targets: Vec<Value> = self
                .targets
                .iter()
                .map(|t| {
                    let mut one = t.report.summary();
                    one["name"] = json!(t.name);
                    one["finished"] = json!(t.finished);
                    one
                })
                .collect();
            out.insert("targets".into(), Value::Array(targets));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_report_has_every_key_of_the_contract() {
        let value = serde_json::to_value(Report::new("tick", true)).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "trigger",
            "dry_run",
            "approved",
            "rejected",
            "left_pending",
            "revoked",
            "deleted",
            "gc_skipped",
            "quotas",
            "alerts",
            "errors",
            "api_calls",
            "duration_ms",
        ] {
            assert!(keys.contains(&key), "missing {key}");
        }
        assert_eq!(value["trigger"], "tick");
        assert_eq!(value["dry_run"], true);
    }

    #[test]
    fn stamping_a_target_names_it_in_every_entry() {
        let mut report = Report::new("tick", false);
        report.approved.push(ConnectionEntry {
            service_id: "s".into(),
            endpoint_id: "e".into(),
            domain_id: "d".into(),
            reason: String::new(),
            target: None,
        });
        report.error("gc", "endpoint e", "boom".into(), true);
        let plain = serde_json::to_value(&report).unwrap();
        assert!(plain["approved"][0].get("target").is_none());
        assert!(plain.get("targets").is_none());
        report.stamp_target("bj");
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["approved"][0]["target"], "bj");
        assert_eq!(v["errors"][0]["target"], "endpoint e");
        assert_eq!(v["errors"][0]["target_name"], "bj");
    }

    #[test]
    fn levels_serialize_in_lower_case() {
        let q = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level: Level::Critical,
            target: None,
        };
        let v = serde_json::to_value(q).unwrap();
        assert_eq!(v["level"], "critical");
        assert_eq!(v["type"], "endpoint");
    }
}
