//! Alert sinks: where quota alerts go. The log sink is always on; the webhook
//! and SMN sinks are on when configured.

use serde::Serialize;
use tracing::warn;

use crate::report::{AlertEntry, ErrorEntry, Level};

/// One crossed quota level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The quota type, e.g. `endpoint` or `endpoint_service`.
    #[serde(rename = "type")]
    pub kind: String,
    pub level: Level,
    pub used: u64,
    pub quota: u64,
    pub percent: f64,
    pub project_id: String,
    /// Stable across runs: `vpcep-quota/{project_id}/{type}/{level}`.
    pub dedup_key: String,
    /// Why the level was crossed, in words.
    pub reason: String,
}

impl Alert {
    /// A one-line human summary, e.g. `VPCEP quota critical: endpoint 143/150 (95%) in project p`.
    pub fn summary(&self) -> String {
        format!(
            "VPCEP quota {}: {} {}/{} ({:.0}%) in project {}",
            self.level.name(),
            self.kind,
            self.used,
            self.quota,
            self.percent,
            self.project_id
        )
    }
}

/// What delivering a set of alerts did.
#[derive(Debug, Default)]
pub struct Delivered {
    /// One entry per alert, naming the sinks it reached.
    pub alerts: Vec<AlertEntry>,
    /// Deliveries that failed.
    pub errors: Vec<ErrorEntry>,
}

/// The configured sinks.
#[derive(Debug, Default)]
pub struct Sinks {}

impl Sinks {
    /// The sinks `settings` configure.
    pub fn from_settings(_settings: &crate::config::Settings, _client: &crate::vpcep::Client) -> Self {
        Self {}
    }

    /// Delivers every alert to every sink. In a dry run only the log sink is used.
    pub async fn deliver(&self, alerts: &[Alert], _dry_run: bool) -> Delivered {
        let mut out = Delivered::default();
        for alert in alerts {
            warn!(dedup_key = %alert.dedup_key, level = alert.level.name(), reason = %alert.reason, "{}", alert.summary());
            out.alerts.push(AlertEntry {
                kind: alert.kind.clone(),
                level: alert.level,
                dedup_key: alert.dedup_key.clone(),
                sinks: vec!["log".to_owned()],
            });
        }
        out
    }
}
