//! Alert sinks: where quota alerts go. The log sink is always on; the webhook
//! sink (`WARDEN_ALERT_WEBHOOK_URL`, in `WARDEN_ALERT_FORMAT`) and the SMN sink
//! (`WARDEN_SMN_TOPIC_URN`) when configured. Every alert of a run travels in
//! one request per sink. A failed delivery is retried like an API call, then
//! reported in the report's `errors` (job `quota`); it never stops other jobs.

pub mod format;
mod webhook;

use serde::Serialize;
use tracing::warn;

use crate::config::{AlertFormat, Secret, Settings};
use crate::report::{AlertEntry, ErrorEntry, Level};
use crate::vpcep::Client;

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
#[derive(Debug)]
pub struct Sinks {
    webhook: Option<webhook::Webhook>,
    smn: Option<Smn>,
}

/// The SMN topic alerts are published to, through the signed client.
#[derive(Debug)]
struct Smn {
    client: Client,
    publish_url: String,
}

impl Sinks {
    /// The sinks `settings` configure. SMN uses `client`'s credentials.
    pub fn from_settings(settings: &Settings, client: &Client) -> Self {
        let webhook = settings
            .alert_webhook_url
            .as_ref()
            .map(|url| webhook::Webhook::new(url.clone(), settings.alert_format, settings));
        let smn = match (&settings.smn_topic_urn, &settings.smn_endpoint) {
            (Some(urn), Some(endpoint)) => Some(Smn {
                client: client.clone(),
                publish_url: format!(
                    "{}/v2/{}/notifications/topics/{}/publish",
                    endpoint.trim_end_matches('/'),
                    settings.project_id,
                    // As the official SMN SDK sends it: `:` as `%3A`.
                    urn.replace(':', "%3A")
                ),
            }),
            _ => None,
        };
        Self { webhook, smn }
    }

    /// Only the log sink.
    pub fn log_only() -> Self {
        Self {
            webhook: None,
            smn: None,
        }
    }

    /// A webhook sink posting to `url` in `format` (and the log sink).
    pub fn with_webhook(url: &str, format: AlertFormat, settings: &Settings) -> Self {
        Self {
            webhook: Some(webhook::Webhook::new(Secret::new(url), format, settings)),
            smn: None,
        }
    }

    /// Delivers every alert to every sink. A dry run logs only.
    pub async fn deliver(&self, alerts: &[Alert], dry_run: bool) -> Delivered {
        let mut out = Delivered::default();
        if alerts.is_empty() {
            return out;
        }
        for alert in alerts {
            warn!(dedup_key = %alert.dedup_key, level = alert.level.name(), reason = %alert.reason, "{}", alert.summary());
        }
        let mut reached = vec!["log".to_owned()];
        if !dry_run {
            let (webhook, smn) = tokio::join!(self.post_webhook(alerts), self.publish_smn(alerts));
            for (sink, result) in [("webhook", webhook), ("smn", smn)] {
                match result {
                    None => {}
                    Some(Ok(())) => reached.push(sink.to_owned()),
                    Some(Err(error)) => out.errors.push(error),
                }
            }
        }
        out.alerts = alerts
            .iter()
            .map(|a| AlertEntry {
                kind: a.kind.clone(),
                level: a.level,
                dedup_key: a.dedup_key.clone(),
                sinks: reached.clone(),
            })
            .collect();
        out
    }

    async fn post_webhook(&self, alerts: &[Alert]) -> Option<Result<(), ErrorEntry>> {
        let hook = self.webhook.as_ref()?;
        Some(hook.post(alerts).await.map_err(|e| ErrorEntry {
            job: "quota".into(),
            target: "alert webhook".into(),
            message: e.to_string(),
            retryable: true,
        }))
    }

    async fn publish_smn(&self, alerts: &[Alert]) -> Option<Result<(), ErrorEntry>> {
        let smn = self.smn.as_ref()?;
        let (subject, message) = format::smn(alerts);
        let body = serde_json::json!({"subject": subject, "message": message});
        let result = smn
            .client
            .send_json(reqwest::Method::POST, &smn.publish_url, Some(&body))
            .await;
        Some(result.map(|_| ()).map_err(|e| ErrorEntry {
            job: "quota".into(),
            target: "SMN topic".into(),
            message: e.to_string(),
            retryable: e.is_retryable(),
        }))
    }
}
