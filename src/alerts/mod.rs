//! Alert sinks: where alerts go. The log sink is always on; the webhook
//! sink (`WARDEN_ALERT_WEBHOOK_URL`, in `WARDEN_ALERT_FORMAT`) and the SMN sink
//! (`WARDEN_SMN_TOPIC_URN`) when configured. Every alert of a run travels in
//! one request per sink. A failed delivery is retried like an API call, then
//! reported in the report's `errors` (job `quota`); it never stops other jobs.

mod alert;
pub mod format;
mod remembered;
mod repeat;
mod smn;
mod webhook;

use std::sync::Arc;

use tracing::warn;

use crate::config::{AlertFormat, Secret, Settings};
use crate::report::{AlertEntry, ErrorEntry};
use crate::state::Run;
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
    /// The run's state document: what each sink was sent (see [`repeat`]).
    /// On its own (no run), a document of this value only.
    run: Arc<Run>,
    /// `WARDEN_ALERT_REPEAT_HOURS`.
    every: time::Duration,
    /// The target every alert is raised in (see [`Alert::in_target`]), when
    /// `WARDEN_TARGETS` names several.
    target: Option<String>,
}

/// How often an unchanged alert goes again (`WARDEN_ALERT_REPEAT_HOURS`).
fn repeat_of(settings: &Settings) -> time::Duration {
    time::Duration::hours(i64::from(settings.alert_repeat_hours))
}

/// Which alerts of a job a delivery holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Some: nothing is taken as cleared.
    Some,
    /// Every alert the job raises now: one it sent before and does not
    /// raise now has cleared.
    All,
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
            run: Arc::new(Run::detached()),
            every: repeat_of(settings),
            target: None,
        }
    }

    /// The same sinks keeping what they send in `run`'s document.
    pub fn for_run(&self, run: Arc<Run>) -> Self {
        Self {
            webhook: self.webhook.clone(),
            smn: self.smn.clone(),
            run,
            every: self.every,
            target: self.target.clone(),
        }
    }

    /// The same sinks for the target `name`: its alerts carry the name, and
    /// what was sent is remembered apart from other targets'.
    pub fn for_target(&self, name: &str, settings: &Settings) -> Self {
        Self {
            webhook: self.webhook.clone(),
            smn: self.smn.clone(),
            run: Arc::new(Run::detached()),
            every: repeat_of(settings),
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
            run: self.run.clone(),
            every: self.every,
            target: self.target.clone(),
        }
    }

    /// Only the log sink.
    pub fn log_only() -> Self {
        Self {
            webhook: None,
            smn: None,
            run: Arc::new(Run::detached()),
            every: time::Duration::hours(24),
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
            run: Arc::new(Run::detached()),
            every: repeat_of(settings),
            target: None,
        }
    }

    /// Delivers every alert to every sink; a failed delivery is an error of
    /// `job`. A dry run logs only.
    ///
    /// Chat, `json` receivers and SMN get what repeat control lets through
    /// ([`repeat`]), resolved alerts once where the firing one went;
    /// Alertmanager gets every firing and resolved alert. Resolved alerts
    /// are not logged or reported.
    pub async fn deliver(&self, job: &str, alerts: &[Alert], dry_run: bool) -> Delivered {
        self.deliver_in(job, alerts, dry_run, Scope::Some).await
    }

    /// [`Sinks::deliver`] of every alert `job` raises now: an alert it sent
    /// before and does not raise now has cleared, and is sent resolved, once.
    pub async fn deliver_all(&self, job: &str, alerts: &[Alert], dry_run: bool) -> Delivered {
        self.deliver_in(job, alerts, dry_run, Scope::All).await
    }

    async fn deliver_in(
        &self,
        job: &str,
        alerts: &[Alert],
        dry_run: bool,
        scope: Scope,
    ) -> Delivered {
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
        let (firing, mut resolved): (Vec<Alert>, Vec<Alert>) =
            alerts.iter().cloned().partition(|a| !a.resolved);
        // Lower levels also crossed go to Alertmanager only; they are raised
        // now all the same, so never counted as cleared.
        let (lower, firing): (Vec<Alert>, Vec<Alert>) =
            firing.into_iter().partition(|a| a.lower_level);
        let raised: Vec<Alert> = firing.iter().chain(&lower).cloned().collect();
        if scope == Scope::All {
            for gone in repeat::cleared(&self.run, job, &raised).await {
                if resolved.iter().all(|r| r.dedup_key != gone.dedup_key) {
                    resolved.push(gone);
                }
            }
        }
        if firing.is_empty() && resolved.is_empty() {
            return out;
        }
        for alert in &firing {
            // One short line; the alert's own level is `alert_level`, so a
            // JSON line has one `level` (the line's). The whole alert is in the report.
            let reason: String = alert.reason.chars().take(80).collect();
            warn!(alert_level = alert.level.name(), kind = %alert.kind, on = %alert.subject(), %reason, "alert");
        }
        if dry_run {
            out.alerts = entries(&firing, |_| vec!["log".to_owned()]);
            return out;
        }
        let pick = |alerts: &[Alert], due: &[bool]| -> Vec<Alert> {
            alerts
                .iter()
                .zip(due)
                .filter(|(_, due)| **due)
                .map(|(a, _)| a.clone())
                .collect()
        };
        let (run, every) = (&self.run, self.every);
        let webhook_due = match &self.webhook {
            Some(_) if !to_alertmanager => {
                Some(repeat::claim(run, repeat::WEBHOOK, job, &firing, &resolved, every).await)
            }
            _ => None,
        };
        let smn_due = match &self.smn {
            Some(_) => Some(repeat::claim(run, repeat::SMN, job, &firing, &resolved, every).await),
            None => None,
        };
        let to_webhook: Vec<Alert> = match &webhook_due {
            Some(due) => pick(&firing, &due.firing)
                .into_iter()
                .chain(pick(&resolved, &due.resolved))
                .collect(),
            None => raised.iter().chain(&resolved).cloned().collect(),
        };
        let to_smn: Vec<Alert> = smn_due
            .as_ref()
            .map(|due| {
                pick(&firing, &due.firing)
                    .into_iter()
                    .chain(pick(&resolved, &due.resolved))
                    .collect()
            })
            .unwrap_or_default();
        let (webhook, smn) = tokio::join!(
            self.post_webhook(job, &to_webhook),
            self.publish_smn(job, &to_smn)
        );
        let (mut webhook_ok, mut smn_ok) = (false, false);
        for (ok, result) in [(&mut webhook_ok, webhook), (&mut smn_ok, smn)] {
            match result {
                None => {}
                Some(Ok(())) => *ok = true,
                Some(Err(error)) => out.errors.push(error),
            }
        }
        match &webhook_due {
            Some(due) => repeat::settle(run, repeat::WEBHOOK, &firing, due, webhook_ok).await,
            None if webhook_ok => repeat::note(run, repeat::WEBHOOK, job, &raised, &resolved).await,
            None => {}
        }
        if let Some(due) = &smn_due {
            repeat::settle(run, repeat::SMN, &firing, due, smn_ok).await;
        }
        out.alerts = entries(&firing, |i| {
            let mut sinks = vec!["log".to_owned()];
            let webhook_took = webhook_due.as_ref().is_none_or(|d| d.firing[i]);
            if webhook_ok && webhook_took {
                sinks.push("webhook".to_owned());
            }
            if smn_ok && smn_due.as_ref().is_some_and(|d| d.firing[i]) {
                sinks.push("smn".to_owned());
            }
            sinks
        });
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

/// The report's entries of the firing alerts, each with the sinks it reached.
fn entries(firing: &[Alert], sinks: impl Fn(usize) -> Vec<String>) -> Vec<AlertEntry> {
    firing
        .iter()
        .enumerate()
        .map(|(i, a)| AlertEntry {
            kind: a.kind.clone(),
            level: a.level,
            dedup_key: a.dedup_key.clone(),
            sinks: sinks(i),
            target: None,
        })
        .collect()
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
