//! Alert sinks: where alerts go. The log sink is always on; the webhook
//! sink (`WARDEN_ALERT_WEBHOOK_URL`, in `WARDEN_ALERT_FORMAT`) and the SMN sink
//! (`WARDEN_SMN_TOPIC_URN`) when configured. Every alert of a run travels in
//! one request per sink. A failed delivery is retried like an API call, then
//! reported in the report's `errors` (job `quota`); it never stops other jobs.

mod alert;
mod batch;
mod facts;
pub mod format;
mod remembered;
mod repeat;
mod send;
mod smn;
mod webhook;

use std::sync::Arc;

use crate::config::{AlertFormat, Secret, Settings};
use crate::report::{AlertEntry, ErrorEntry};
use crate::state::Run;
use crate::vpcep::Client;

pub use alert::Alert;
use batch::{Batch, Member};
pub use facts::Facts;
use send::{Request, Scope};

/// What delivering a set of alerts did.
#[derive(Debug, Default, Clone)]
pub struct Delivered {
    /// One entry per alert, naming the sinks it reached.
    pub alerts: Vec<AlertEntry>,
    /// Deliveries that failed. A delivery shared by several jobs of a run
    /// is reported once, by one of them.
    pub errors: Vec<ErrorEntry>,
    /// Whether every sink that was to take these alerts took them.
    pub reached: bool,
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
    /// This job's place among the jobs of a run that deliver together
    /// ([`Sinks::batched`]).
    member: Option<Member>,
}

/// How often an unchanged alert goes again (`WARDEN_ALERT_REPEAT_HOURS`).
fn repeat_of(settings: &Settings) -> time::Duration {
    time::Duration::hours(i64::from(settings.alert_repeat_hours))
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
            member: None,
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
            member: None,
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
            member: None,
        }
    }

    /// The same sinks for each of `jobs` jobs of one run, which deliver
    /// together: every alert of the run travels in one request per sink
    /// (see [`batch`]). Each job's sinks say when it ends ([`Sinks::done`]).
    pub fn batched(&self, jobs: usize) -> Vec<Self> {
        Batch::open(jobs)
            .into_iter()
            .map(|member| Self {
                webhook: self.webhook.clone(),
                smn: self.smn.clone(),
                run: self.run.clone(),
                every: self.every,
                target: self.target.clone(),
                member: Some(member),
            })
            .collect()
    }

    /// The job holding these sinks has ended: the others of its run no
    /// longer wait for its alerts.
    pub fn done(&self) {
        if let Some(member) = &self.member {
            member.leave();
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
            member: None,
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
            member: None,
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
            member: None,
        }
    }

    /// Delivers every alert to every sink; a failed delivery is an error of
    /// `job`. A dry run logs only. Sinks of a run's job ([`Sinks::batched`])
    /// deliver together with the run's other jobs, once all have delivered
    /// or ended.
    ///
    /// Chat, `json` receivers and SMN get what repeat control lets through
    /// ([`repeat`]), resolved alerts once where the firing one went;
    /// Alertmanager gets every firing and resolved alert. Resolved alerts
    /// are not logged or reported.
    pub async fn deliver(&self, job: &str, alerts: Vec<Alert>, dry_run: bool) -> Delivered {
        self.deliver_in(job, alerts, dry_run, Scope::Some).await
    }

    /// [`Sinks::deliver`] of every alert `job` raises now: an alert it sent
    /// before and does not raise now has cleared, and is sent resolved, once.
    pub async fn deliver_all(&self, job: &str, alerts: Vec<Alert>, dry_run: bool) -> Delivered {
        self.deliver_in(job, alerts, dry_run, Scope::All).await
    }

    async fn deliver_in(
        &self,
        job: &str,
        alerts: Vec<Alert>,
        dry_run: bool,
        scope: Scope,
    ) -> Delivered {
        let request = Request {
            job: job.to_owned(),
            alerts,
            scope,
        };
        let request = match &self.member {
            Some(member) => match member.deliver(self, request, dry_run).await {
                Ok(delivered) => return delivered,
                Err(request) => request,
            },
            None => request,
        };
        send::send(self, vec![request], dry_run)
            .await
            .pop()
            .unwrap_or_default()
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
        assert!(alert
            .label_values()
            .any(|label| label == ("target", "bj-prod".to_owned())));
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
        let delivered = sinks.deliver("quota", vec![alert], false).await;
        assert_eq!(
            delivered.alerts[0].dedup_key,
            "vpcep-quota/bj/p1/endpoint/critical"
        );
        let plain = Sinks::log_only()
            .deliver(
                "quota",
                vec![Alert::quota(&entry, "p1", "full".into())],
                false,
            )
            .await;
        assert_eq!(
            plain.alerts[0].dedup_key,
            "vpcep-quota/p1/endpoint/critical"
        );
    }
}
