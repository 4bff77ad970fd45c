//! Alert sinks: where alerts go. The log sink is always on; the webhook
//! sink (`WARDEN_ALERT_WEBHOOK_URL`, in `WARDEN_ALERT_FORMAT`) and the SMN sink
//! (`WARDEN_SMN_TOPIC_URN`) when configured. Every alert of a run travels in
//! one request per sink. A failed delivery is retried like an API call, then
//! reported in the report's `errors` (job `quota`); it never stops other jobs.

mod alert;
pub mod format;
mod repeat;
mod smn;
mod webhook;

use std::sync::Arc;

use tracing::warn;

use crate::config::{AlertFormat, Secret, Settings};
use crate::report::{AlertEntry, ErrorEntry};
use crate::vpcep::Client;

pub use alert::Alert;

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
    webhook: Option<Arc<webhook::Webhook>>,
    smn: Option<smn::Smn>,
    /// Shared by the copies [`Sinks::with_client`] makes, so what was sent is
    /// remembered across invocations.
    repeat: Arc<repeat::Repeat>,
    /// The target every alert is raised in (see [`Alert::in_target`]), when
    /// `WARDEN_TARGETS` names several.
    target: Option<String>,
}

/// Repeat control as `settings` configure it.
fn repeat_of(settings: &Settings) -> Arc<repeat::Repeat> {
    let minutes = |m: u64| time::Duration::minutes(m.min(i64::MAX as u64) as i64);
    Arc::new(repeat::Repeat::new(
        time::Duration::hours(i64::from(settings.alert_repeat_hours)),
        minutes(settings.quota_schedule_minutes),
        minutes(settings.schedule_minutes),
    ))
}

impl Sinks {
    /// The sinks `settings` configure. SMN uses `client`'s credentials.
    pub fn from_settings(settings: &Settings, client: &Client) -> Self {
        let webhook = settings
            .alert_webhook_url
            .as_ref()
            .map(|url| webhook::Webhook::new(url.clone(), settings.alert_format, settings))
            .map(Arc::new);
        let smn = smn::Smn::from_settings(settings, client);
        Self {
            webhook,
            smn,
            repeat: repeat_of(settings),
            target: None,
        }
    }

    /// The same sinks for the target `name`: its alerts carry the name, and
    /// what was sent is remembered apart from other targets'.
    pub fn for_target(&self, name: &str, settings: &Settings) -> Self {
        Self {
            webhook: self.webhook.clone(),
            smn: self.smn.clone(),
            repeat: repeat_of(settings),
            target: Some(name.to_owned()),
        }
    }

    /// The configured sinks, by name (`log`, `webhook (FORMAT)`, `smn`).
    pub fn names(&self) -> Vec<String> {
        let mut names = vec!["log".to_owned()];
        if let Some(w) = &self.webhook {
            names.push(format!(
                "webhook ({})",
                format!("{:?}", w.format()).to_lowercase()
            ));
        }
        if self.smn.is_some() {
            names.push("smn".to_owned());
        }
        names
    }

    /// The same sinks with SMN published through `client` (e.g. one signing
    /// with the credentials of the current invocation).
    pub fn with_client(&self, client: &Client) -> Self {
        Self {
            webhook: self.webhook.clone(),
            smn: self.smn.as_ref().map(|smn| smn.with_client(client)),
            repeat: self.repeat.clone(),
            target: self.target.clone(),
        }
    }

    /// Only the log sink.
    pub fn log_only() -> Self {
        Self {
            webhook: None,
            smn: None,
            repeat: Arc::new(repeat::Repeat::new(
                time::Duration::hours(24),
                time::Duration::hours(1),
                time::Duration::minutes(5),
            )),
            target: None,
        }
    }

    /// A webhook sink posting to `url` in `format` (and the log sink).
    pub fn with_webhook(url: &str, format: AlertFormat, settings: &Settings) -> Self {
        Self {
            webhook: Some(Arc::new(webhook::Webhook::new(
                Secret::new(url),
                format,
                settings,
            ))),
            smn: None,
            repeat: repeat_of(settings),
            target: None,
        }
    }

    /// Delivers every alert to every sink; a failed delivery is an error of
    /// `job`. A dry run logs only.
    ///
    /// Resolved alerts go to an Alertmanager webhook only (alongside the
    /// firing ones, in the same request); they are not logged or reported.
    pub async fn deliver(&self, job: &str, alerts: &[Alert], dry_run: bool) -> Delivered {
        let in_target: Vec<Alert>;
        let alerts = match &self.target {
            Some(name) => {
                in_target = alerts.iter().cloned().map(|a| a.in_target(name)).collect();
                &in_target[..]
            }
            None => alerts,
        };
        let mut out = Delivered::default();
        let to_alertmanager = self
            .webhook
            .as_ref()
            .is_some_and(|w| w.format() == AlertFormat::Alertmanager);
        // Firing first, then resolved: the order Alertmanager receives them in.
        let (firing, resolved): (Vec<Alert>, Vec<Alert>) =
            alerts.iter().cloned().partition(|a| !a.resolved);
        let all: Vec<Alert> = firing.iter().chain(&resolved).cloned().collect();
        let nothing_for_alertmanager = !to_alertmanager || all.is_empty();
        if firing.is_empty() && nothing_for_alertmanager {
            return out;
        }
        for alert in &firing {
            warn!(dedup_key = %alert.dedup_key, level = alert.level.name(), reason = %alert.reason, "{}", alert.summary);
        }
        // Sinks that do not deduplicate get what repeat control lets through.
        let due = if dry_run {
            vec![true; firing.len()]
        } else {
            self.repeat
                .due(job, &firing, time::OffsetDateTime::now_utc())
        };
        let repeated: Vec<Alert> = firing
            .iter()
            .zip(&due)
            .filter(|(_, due)| **due)
            .map(|(a, _)| a.clone())
            .collect();
        let (mut webhook_ok, mut smn_ok) = (false, false);
        if !dry_run {
            let to_webhook = if to_alertmanager { &all } else { &repeated };
            let (webhook, smn) = tokio::join!(
                self.post_webhook(job, to_webhook),
                self.publish_smn(job, &repeated)
            );
            for (ok, result) in [(&mut webhook_ok, webhook), (&mut smn_ok, smn)] {
                match result {
                    None => {}
                    Some(Ok(())) => *ok = true,
                    Some(Err(error)) => out.errors.push(error),
                }
            }
        }
        out.alerts = firing
            .iter()
            .zip(&due)
            .map(|(a, due)| {
                let mut sinks = vec!["log".to_owned()];
                if webhook_ok && (to_alertmanager || *due) {
                    sinks.push("webhook".to_owned());
                }
                if smn_ok && *due {
                    sinks.push("smn".to_owned());
                }
                AlertEntry {
                    kind: a.kind.clone(),
                    level: a.level,
                    dedup_key: a.dedup_key.clone(),
                    sinks,
                    target: None,
                }
            })
            .collect();
        out
    }

    async fn post_webhook(&self, job: &str, alerts: &[Alert]) -> Option<Result<(), ErrorEntry>> {
        let hook = self.webhook.as_ref()?;
        if alerts.is_empty() {
            return None;
        }
        Some(hook.post(alerts).await.map_err(|e| ErrorEntry {
            job: job.into(),
            target: "alert webhook".into(),
            message: e.to_string(),
            retryable: true,
            target_name: None,
        }))
    }

    async fn publish_smn(&self, job: &str, alerts: &[Alert]) -> Option<Result<(), ErrorEntry>> {
        self.smn.as_ref()?.publish(job, alerts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Level, QuotaEntry};

    #[test]
    fn an_alert_in_a_target_names_it_in_key_summary_facts_and_labels() {
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 143,
            quota: 150,
            percent: 95.3,
            level: Level::Critical,
            target: None,
        };
        let alert = Alert::quota(&entry, "p1", "high".into()).in_target("bj-prod");
        assert_eq!(alert.dedup_key, "vpcep-quota/bj-prod/p1/endpoint/critical");
        assert!(alert.summary.starts_with("[bj-prod] "));
        assert_eq!(alert.fact("target").as_deref(), Some("bj-prod"));
        assert!(alert.labels.contains(&("target", "bj-prod".to_owned())));
        let pending = Alert::pending("p1", "s1", "e1", "d1", "why").in_target("gz");
        assert_eq!(pending.dedup_key, "vpcep-pending/gz/p1/s1/e1");
    }

    #[tokio::test]
    async fn sinks_of_a_target_deliver_alerts_under_its_name() {
        let settings = Settings::for_tests("http://127.0.0.1:9", "p1", "ak", "sk");
        let sinks = Sinks::log_only().for_target("bj", &settings);
        let entry = QuotaEntry {
            kind: "endpoint".into(),
            used: 10,
            quota: 10,
            percent: 100.0,
            level: Level::Critical,
            target: None,
        };
        let alert = Alert::quota(&entry, "p1", "full".into());
        let delivered = sinks.deliver("quota", &[alert], false).await;
        assert_eq!(
            delivered.alerts[0].dedup_key,
            "vpcep-quota/bj/p1/endpoint/critical"
        );
        let plain = Sinks::log_only()
            .deliver("quota", &[Alert::quota(&entry, "p1", "full".into())], false)
            .await;
        assert_eq!(
            plain.alerts[0].dedup_key,
            "vpcep-quota/p1/endpoint/critical"
        );
    }
}
